using System.Collections;
using System.Collections.Specialized;
using System.Globalization;
using System.Management.Automation;
using System.Numerics;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace TwinPS.Internal;

/// <summary>
/// The one conversion between PowerShell values and JSON (System.Text.Json nodes), used at the cmdlet
/// boundary. PowerShell → JSON accepts hashtables, ordered dictionaries, PSCustomObjects, JSON text,
/// arrays, nested, and scalars; JSON → PowerShell gives PSCustomObject trees that ConvertTo-Json
/// renders faithfully.
/// </summary>
public static class PSObjectJson
{
    /// <summary>Nesting deeper than this is refused (also catches self-referencing objects).</summary>
    public const int MaxNesting = 64;

    /// <summary>
    /// Converts a parameter value: a string is parsed as JSON text; anything else is converted with
    /// <see cref="FromPowerShellValue"/>. <c>$null</c> gives a null node (JSON null: "remove" in patches).
    /// </summary>
    /// <exception cref="PSObjectJsonException">Malformed JSON text or a value with no JSON form (names the path).</exception>
    public static JsonNode? FromPowerShell(object? value)
    {
        object? unwrapped = Unwrap(value);
        return unwrapped is string text ? ParseJsonText(text, "$") : FromPowerShellValue(value);
    }

    /// <summary>
    /// Converts a parameter that must be a JSON object (e.g. <c>-Desired</c>, <c>-Tag</c>): a hashtable,
    /// ordered dictionary, PSCustomObject or JSON object text. <paramref name="parameterName"/> names it in errors.
    /// </summary>
    /// <exception cref="PSObjectJsonException">Not an object, malformed JSON, or a value with no JSON form.</exception>
    public static JsonObject ToJsonObject(object? value, string parameterName)
    {
        ArgumentException.ThrowIfNullOrEmpty(parameterName);
        object? unwrapped = Unwrap(value);
        JsonNode? node = unwrapped is string text
            ? ParseJsonText(text, "-" + parameterName)
            : Convert(value, "-" + parameterName, 0);
        return node as JsonObject ?? throw new PSObjectJsonException("-" + parameterName,
            $"-{parameterName} must be a hashtable, an ordered dictionary, a PSCustomObject or JSON object text; got {Describe(node)}.");
    }

    /// <summary>Converts a PowerShell value where strings stay strings (no JSON parsing).</summary>
    /// <exception cref="PSObjectJsonException">A value with no JSON form (names the path).</exception>
    public static JsonNode? FromPowerShellValue(object? value) => Convert(value, "$", 0);

    /// <summary>
    /// Converts JSON to PowerShell: objects → PSCustomObject (ordered properties; an ordinal,
    /// case-sensitive OrderedDictionary when keys differ only by case), arrays → object[], integers →
    /// long, other numbers → double (or decimal when only decimal keeps the exact digits), strings stay
    /// strings (timestamps are not parsed).
    /// </summary>
    public static object? ToPowerShell(JsonNode? node) => node switch
    {
        null => null,
        JsonObject obj => ToPSCustomObject(obj),
        JsonArray array => array.Select(ToPowerShell).ToArray(),
        JsonValue value => ToScalar(value),
        _ => null,
    };

    /// <summary>The PowerShell type name of a section (tags, desired, …) whose text form is its JSON.</summary>
    public const string SectionTypeName = "TwinPS.JsonSection";

    /// <summary>
    /// Converts a section of a hub document (tags, properties, desired, …) like <see cref="ToPowerShell"/>, as a
    /// PSObject with the <c>TwinPS.JsonSection</c> type name, whose <c>ToString()</c> (TwinPS.Types.ps1xml) is its
    /// compact JSON: so <c>Export-Csv</c>, string expansion and table cells show JSON text, not <c>@{owner=ops}</c>.
    /// Null when <paramref name="node"/> is null.
    /// </summary>
    public static PSObject? ToSection(JsonNode? node)
    {
        if (node is null)
        {
            return null;
        }

        PSObject section = PSObject.AsPSObject(ToPowerShell(node)!);
        section.TypeNames.Insert(0, SectionTypeName);
        return section;
    }

    /// <summary>The <c>ToString()</c> of a <c>TwinPS.JsonSection</c> (a CodeMethod in TwinPS.Types.ps1xml): compact JSON.</summary>
    public static string SectionToString(PSObject instance)
    {
        ArgumentNullException.ThrowIfNull(instance);
        try
        {
            return FromPowerShellValue(instance)?.ToJsonString() ?? "null";
        }
        catch (PSObjectJsonException)
        {
            // Something added by the user has no JSON form: fall back to PowerShell's own text.
            return instance.BaseObject is PSCustomObject ? "@{…}" : instance.BaseObject.ToString() ?? string.Empty;
        }
    }

    /// <summary>Parses JSON text, naming <paramref name="path"/> and the position in the error.</summary>
    /// <exception cref="PSObjectJsonException">The text is not well-formed JSON.</exception>
    public static JsonNode? ParseJsonText(string text, string path)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (string.IsNullOrWhiteSpace(text))
        {
            throw new PSObjectJsonException(path, $"The JSON text given for {path} is empty.");
        }

        try
        {
            return JsonNode.Parse(text, documentOptions: new JsonDocumentOptions { MaxDepth = MaxNesting });
        }
        catch (JsonException ex)
        {
            string where = ex.LineNumber is long line && ex.BytePositionInLine is long column
                ? string.Create(CultureInfo.InvariantCulture, $" at line {line + 1}, position {column + 1}")
                : string.Empty;
            throw new PSObjectJsonException(path, $"The JSON text given for {path} is malformed{where}: {FirstSentence(ex.Message)}", ex);
        }
    }

    private static JsonNode? Convert(object? value, string path, int depth)
    {
        if (depth > MaxNesting)
        {
            throw new PSObjectJsonException(path, $"The value at '{path}' is nested more than {MaxNesting} levels deep (or refers to itself).");
        }

        if (value is PSObject pso && pso.BaseObject is PSCustomObject)
        {
            return FromPSCustomObject(pso, path, depth);
        }

        object? item = Unwrap(value);
        switch (item)
        {
            case null:
                return null;
            case JsonNode node:
                return node.DeepClone();
            case JsonElement element:
                return JsonNode.Parse(element.GetRawText());
            case string s:
                return JsonValue.Create(s);
            case char c:
                return JsonValue.Create(c.ToString());
            case bool b:
                return JsonValue.Create(b);
            case SwitchParameter sw:
                return JsonValue.Create(sw.IsPresent);
            case byte or sbyte or short or ushort or int or uint or long:
                return JsonValue.Create(System.Convert.ToInt64(item, CultureInfo.InvariantCulture));
            case ulong ul:
                return ul <= long.MaxValue ? JsonValue.Create((long)ul) : JsonValue.Create((decimal)ul);
            case BigInteger big:
                return JsonNode.Parse(big.ToString(CultureInfo.InvariantCulture));
            case float f:
                return FiniteNumber(f, path);
            case double d:
                return FiniteNumber(d, path);
            case decimal m:
                return JsonValue.Create(m);
            case DateTime dt:
                return JsonValue.Create(dt.ToString("o", CultureInfo.InvariantCulture));
            case DateTimeOffset dto:
                return JsonValue.Create(dto.ToString("o", CultureInfo.InvariantCulture));
            case Guid or Uri or TimeSpan or Enum or Version:
                return JsonValue.Create(System.Convert.ToString(item, CultureInfo.InvariantCulture));
            case IDictionary dictionary:
                return FromDictionary(dictionary, path, depth);
            case IEnumerable sequence:
                return FromSequence(sequence, path, depth);
            default:
                throw new PSObjectJsonException(path,
                    $"The value at '{path}' is a {item.GetType().FullName}, which has no JSON form here. " +
                    "Use a hashtable, a PSCustomObject, an array, a string, a number or a boolean.");
        }
    }

    private static JsonObject FromPSCustomObject(PSObject pso, string path, int depth)
    {
        var result = new JsonObject();
        foreach (PSPropertyInfo property in pso.Properties)
        {
            if (property is PSNoteProperty or PSScriptProperty or PSAliasProperty or PSProperty && property.IsGettable)
            {
                string childPath = ChildPath(path, property.Name);
                result[property.Name] = Convert(property.Value, childPath, depth + 1);
            }
        }

        return result;
    }

    private static JsonObject FromDictionary(IDictionary dictionary, string path, int depth)
    {
        var result = new JsonObject();
        foreach (DictionaryEntry entry in dictionary)
        {
            string key = System.Convert.ToString(Unwrap(entry.Key), CultureInfo.InvariantCulture) ?? string.Empty;
            string childPath = ChildPath(path, key);
            if (result.ContainsKey(key))
            {
                throw new PSObjectJsonException(childPath, $"The key '{key}' appears twice in '{path}'.");
            }

            result[key] = Convert(entry.Value, childPath, depth + 1);
        }

        return result;
    }

    private static JsonArray FromSequence(IEnumerable sequence, string path, int depth)
    {
        var result = new JsonArray();
        int index = 0;
        foreach (object? element in sequence)
        {
            result.Add(Convert(element, string.Create(CultureInfo.InvariantCulture, $"{path}[{index}]"), depth + 1));
            index++;
        }

        return result;
    }

    private static JsonValue FiniteNumber(double value, string path) =>
        double.IsFinite(value)
            ? JsonValue.Create(value)
            : throw new PSObjectJsonException(path, $"The number at '{path}' is {value.ToString(CultureInfo.InvariantCulture)}; JSON has only finite numbers.");

    private static object ToPSCustomObject(JsonObject obj)
    {
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        bool caseCollision = false;
        foreach (KeyValuePair<string, JsonNode?> pair in obj)
        {
            if (!seen.Add(pair.Key))
            {
                caseCollision = true;
                break;
            }
        }

        if (caseCollision)
        {
            // PowerShell member names ignore case; JSON keys do not. Keep every key.
            var dictionary = new OrderedDictionary(StringComparer.Ordinal);
            foreach (KeyValuePair<string, JsonNode?> pair in obj)
            {
                dictionary[pair.Key] = ToPowerShell(pair.Value);
            }

            return dictionary;
        }

        var result = new PSObject();
        foreach (KeyValuePair<string, JsonNode?> pair in obj)
        {
            result.Properties.Add(new PSNoteProperty(pair.Key, ToPowerShell(pair.Value)));
        }

        return result;
    }

    private static object? ToScalar(JsonValue value)
    {
        if (value.TryGetValue(out JsonElement element))
        {
            return element.ValueKind switch
            {
                JsonValueKind.String => element.GetString(),
                JsonValueKind.True => true,
                JsonValueKind.False => false,
                JsonValueKind.Number => ToNumber(element.GetRawText()),
                _ => null,
            };
        }

        // Values built in memory (JsonValue.Create) hold a CLR value.
        return value.GetValueKind() switch
        {
            JsonValueKind.String => value.GetValue<string>(),
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            JsonValueKind.Number => ToNumber(value.ToJsonString()),
            _ => null,
        };
    }

    private static object ToNumber(string raw)
    {
        if (long.TryParse(raw, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long integer))
        {
            return integer;
        }

        bool isDouble = double.TryParse(raw, NumberStyles.Float, CultureInfo.InvariantCulture, out double d);
        if (isDouble && (string.Equals(d.ToString("R", CultureInfo.InvariantCulture), raw, StringComparison.Ordinal) ||
                         raw.Contains('e', StringComparison.OrdinalIgnoreCase)))
        {
            return d;
        }

        // Digits a double would not print back the same way (1.0, 0.10, 12345678901234567890):
        // decimal keeps them exactly where it can. Exponent forms are doubles by nature.
        return decimal.TryParse(raw, NumberStyles.Float, CultureInfo.InvariantCulture, out decimal m) ? m : d;
    }

    private static object? Unwrap(object? value)
    {
        while (value is PSObject pso && pso.BaseObject is not PSCustomObject)
        {
            value = pso.BaseObject;
        }

        return value is PSObject { BaseObject: PSCustomObject } ? value : value == System.Management.Automation.Internal.AutomationNull.Value ? null : value;
    }

    private static string ChildPath(string path, string key) =>
        path == "$" ? key : path + "." + key;

    private static string Describe(JsonNode? node) => node switch
    {
        null => "$null",
        JsonArray => "an array",
        JsonValue v => $"a {v.GetValueKind().ToString().ToLowerInvariant()} value",
        _ => "an object",
    };

    private static string FirstSentence(string message)
    {
        foreach (string marker in new[] { " Path:", " LineNumber:" })
        {
            int cut = message.IndexOf(marker, StringComparison.Ordinal);
            if (cut > 0)
            {
                message = message[..cut];
            }
        }

        return message.Trim();
    }
}

/// <summary>A PowerShell value that cannot be turned into JSON, or malformed JSON text; <see cref="Path"/> names where.</summary>
public sealed class PSObjectJsonException : FormatException
{
    /// <summary>Creates the exception.</summary>
    public PSObjectJsonException()
        : this("$", "The value cannot be converted to JSON.")
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public PSObjectJsonException(string message)
        : this("$", message)
    {
    }

    /// <summary>Creates the exception with a message and the cause.</summary>
    public PSObjectJsonException(string message, Exception innerException)
        : this("$", message, innerException)
    {
    }

    /// <summary>Creates the exception for <paramref name="path"/>.</summary>
    public PSObjectJsonException(string path, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Path = path;
    }

    /// <summary>The parameter or property path of the offending value.</summary>
    public string Path { get; }
}
