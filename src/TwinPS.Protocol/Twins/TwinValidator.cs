using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace TwinPS.Protocol;

/// <summary>
/// The twin validation rules of IoT Hub (REST reference §4). Violations throw <see cref="TwinValidationException"/>
/// whose message and <see cref="TwinValidationException.Path"/> name the offending key.
/// </summary>
public static class TwinValidator
{
    /// <summary>Objects (and arrays) nest at most this deep below the section; a scalar may sit in the deepest object.</summary>
    public const int MaxDepth = 10;

    /// <summary>Maximum key length in UTF-8 bytes.</summary>
    public const int MaxKeyBytes = 1024;

    /// <summary>Maximum string value length in UTF-8 bytes.</summary>
    public const int MaxStringValueBytes = 4096;

    /// <summary>Largest integer allowed (2^52 − 1).</summary>
    public const long MaxSafeInteger = 4503599627370495;

    /// <summary>Smallest integer allowed (−2^52).</summary>
    public const long MinSafeInteger = -4503599627370496;

    /// <summary>Size limit of <c>tags</c>.</summary>
    public const int MaxTagsSize = 8 * 1024;

    /// <summary>Size limit of <c>properties.desired</c> and <c>properties.reported</c>.</summary>
    public const int MaxPropertiesSize = 32 * 1024;

    /// <summary>The size limit of a section (8 KB for tags, 32 KB for desired and reported).</summary>
    public static int MaxSectionSize(TwinSectionKind kind) => kind == TwinSectionKind.Tags ? MaxTagsSize : MaxPropertiesSize;

    /// <summary>The dotted path of a section in the twin: <c>tags</c>, <c>properties.desired</c>, <c>properties.reported</c>.</summary>
    public static string SectionPath(TwinSectionKind kind) => kind switch
    {
        TwinSectionKind.Tags => "tags",
        TwinSectionKind.Desired => "properties.desired",
        TwinSectionKind.Reported => "properties.reported",
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    /// <summary>
    /// Validates a section value sent by a client: it must be a JSON object (or null, which is allowed and means
    /// nothing to check); keys, depth, string lengths, integer range, nulls (deletes in <see cref="TwinWriteMode.Patch"/>,
    /// rejected in <see cref="TwinWriteMode.Replace"/>, rejected inside arrays everywhere) and the section size of the value itself.
    /// </summary>
    public static void ValidatePatch(JsonNode? sectionValue, TwinSectionKind kind, TwinWriteMode mode)
    {
        if (sectionValue is null)
        {
            return;
        }

        var path = SectionPath(kind);
        if (sectionValue is not JsonObject obj)
        {
            throw new TwinValidationException(path, $"'{path}' must be a JSON object.");
        }

        ValidateObject(obj, path, 0, mode, insideArray: false);
        CheckSize(obj, kind, path);
    }

    /// <summary>Validates the size of a section as it would be after a write (the section's whole resulting value).</summary>
    public static void ValidateSectionSize(JsonObject resultingSection, TwinSectionKind kind)
    {
        ArgumentNullException.ThrowIfNull(resultingSection);
        CheckSize(resultingSection, kind, SectionPath(kind));
    }

    /// <summary>
    /// Checks one property key: ≤ 1 KB UTF-8, no <c>.</c>, <c>$</c>, <c>#</c>, space or C0/C1 control characters
    /// (empty and Unicode keys are fine). <paramref name="path"/> is used in the message.
    /// </summary>
    public static void ValidateKey(string key, string path)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (Encoding.UTF8.GetByteCount(key) > MaxKeyBytes)
        {
            throw new TwinValidationException(path, $"The key at '{Display(path)}' is longer than {MaxKeyBytes} bytes (UTF-8).");
        }

        foreach (var c in key)
        {
            if (c is '.' or '$' or '#' or ' ' || char.IsControl(c))
            {
                var what = char.IsControl(c) ? $"the control character U+{(int)c:X4}" : $"'{c}'";
                throw new TwinValidationException(path, $"The key at '{Display(path)}' contains {what}. Keys must not contain '.', '$', '#', spaces or control characters.");
            }
        }
    }

    /// <summary>True when <paramref name="key"/> passes <see cref="ValidateKey"/>.</summary>
    public static bool IsValidKey(string key)
    {
        try
        {
            ValidateKey(key, key);
            return true;
        }
        catch (TwinValidationException)
        {
            return false;
        }
    }

    /// <summary>
    /// The documented size of a value: sum over properties of key length + value length, keys as UTF-8, strings as UTF-8
    /// excluding control characters, numbers 8, booleans 4, objects and arrays the sum of their contents, null 0.
    /// Keys starting with <c>$</c> (read-only metadata) are not counted.
    /// </summary>
    public static long ComputeSize(JsonNode? node)
    {
        switch (node)
        {
            case null:
                return 0;
            case JsonObject obj:
                long total = 0;
                foreach (var (key, value) in obj)
                {
                    if (key.StartsWith('$'))
                    {
                        continue;
                    }

                    total += Encoding.UTF8.GetByteCount(key) + ComputeSize(value);
                }

                return total;
            case JsonArray array:
                long sum = 0;
                foreach (var item in array)
                {
                    sum += ComputeSize(item);
                }

                return sum;
            default:
                return ScalarSize((JsonValue)node);
        }
    }

    private static long ScalarSize(JsonValue value)
    {
        switch (SafeKind(value))
        {
            case JsonValueKind.String:
                var text = StringOf(value);
                long bytes = 0;
                foreach (var rune in text.EnumerateRunes())
                {
                    if (!Rune.IsControl(rune))
                    {
                        bytes += rune.Utf8SequenceLength;
                    }
                }

                return bytes;
            case JsonValueKind.Number:
                return 8;
            case JsonValueKind.True:
            case JsonValueKind.False:
                return 4;
            default:
                return 0;
        }
    }

    private static void CheckSize(JsonObject obj, TwinSectionKind kind, string path)
    {
        var size = ComputeSize(obj);
        var limit = MaxSectionSize(kind);
        if (size > limit)
        {
            throw new TwinValidationException(
                path,
                $"The '{path}' section would be {size.ToString(CultureInfo.InvariantCulture)} bytes, more than the limit of {limit.ToString(CultureInfo.InvariantCulture)} bytes (keys plus values, counted as IoT Hub documents it).");
        }
    }

    private static void ValidateObject(JsonObject obj, string path, int depth, TwinWriteMode mode, bool insideArray)
    {
        foreach (var (key, value) in obj)
        {
            var childPath = path + "." + key;
            ValidateKey(key, childPath);
            if (value is null)
            {
                if (insideArray)
                {
                    throw new TwinValidationException(childPath, $"Objects inside arrays must not have null members. Error in '{Display(childPath)}'.");
                }

                if (mode == TwinWriteMode.Replace)
                {
                    throw new TwinValidationException(childPath, $"Value of Property or Tag cannot be null. Error in Property/Tag {Display(childPath)}");
                }

                continue;
            }

            ValidateValue(value, childPath, depth, mode, insideArray);
        }
    }

    private static void ValidateValue(JsonNode value, string path, int depth, TwinWriteMode mode, bool insideArray)
    {
        switch (value)
        {
            case JsonObject child:
                CheckDepth(path, depth + 1);
                ValidateObject(child, path, depth + 1, mode, insideArray);
                break;
            case JsonArray array:
                CheckDepth(path, depth + 1);
                for (var i = 0; i < array.Count; i++)
                {
                    var itemPath = path + "[" + i.ToString(CultureInfo.InvariantCulture) + "]";
                    var item = array[i] ?? throw new TwinValidationException(itemPath, $"Arrays must not contain null. Error in '{Display(itemPath)}'.");
                    ValidateValue(item, itemPath, depth + 1, mode, insideArray: true);
                }

                break;
            default:
                ValidateScalar((JsonValue)value, path);
                break;
        }
    }

    private static void CheckDepth(string path, int depth)
    {
        if (depth > MaxDepth)
        {
            throw new TwinValidationException(path, $"'{Display(path)}' is nested more than {MaxDepth} levels deep.");
        }
    }

    private static void ValidateScalar(JsonValue value, string path)
    {
        var kind = SafeKind(value);
        switch (kind)
        {
            case JsonValueKind.String:
                var bytes = Encoding.UTF8.GetByteCount(StringOf(value));
                if (bytes > MaxStringValueBytes)
                {
                    throw new TwinValidationException(path, $"The string at '{Display(path)}' is {bytes} bytes (UTF-8); at most {MaxStringValueBytes} are allowed.");
                }

                break;
            case JsonValueKind.Number:
                ValidateNumber(value, path);
                break;
            case JsonValueKind.True:
            case JsonValueKind.False:
                break;
            default:
                throw new TwinValidationException(path, $"The value at '{Display(path)}' is not a JSON string, number, boolean, object or array.");
        }
    }

    private static void ValidateNumber(JsonValue value, string path)
    {
        string raw;
        try
        {
            raw = value.ToJsonString();
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or NotSupportedException or JsonException)
        {
            throw new TwinValidationException(path, $"The number at '{Display(path)}' is not a finite JSON number.");
        }

        var isInteger = raw.AsSpan().IndexOfAny('.', 'e', 'E') < 0;
        if (isInteger)
        {
            if (!long.TryParse(raw, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n) || n is < MinSafeInteger or > MaxSafeInteger)
            {
                throw new TwinValidationException(path, $"The integer at '{Display(path)}' is outside the allowed range {MinSafeInteger} to {MaxSafeInteger} (±2^52).");
            }

            return;
        }

        if (!double.TryParse(raw, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) || !double.IsFinite(d))
        {
            throw new TwinValidationException(path, $"The number at '{Display(path)}' is not a finite JSON number.");
        }
    }

    private static string StringOf(JsonValue value) =>
        value.TryGetValue<string>(out var text) ? text : JsonSerializer.Deserialize<string>(value.ToJsonString()) ?? string.Empty;

    internal static JsonValueKind SafeKind(JsonValue value)
    {
        try
        {
            return value.GetValueKind();
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or NotSupportedException or JsonException)
        {
            return JsonValueKind.Undefined;
        }
    }

    // Paths can hold user keys with control characters or huge lengths; keep messages printable and short.
    internal static string Display(string path)
    {
        var sb = new StringBuilder(Math.Min(path.Length, 300));
        foreach (var c in path)
        {
            if (sb.Length >= 256)
            {
                sb.Append('…');
                break;
            }

            if (char.IsControl(c))
            {
                sb.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:X4}");
            }
            else
            {
                sb.Append(c);
            }
        }

        return sb.ToString();
    }
}
