using System.Collections;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace TwinPS.Query;

/// <summary>Writes values as query literals that always parse back as exactly one constant with the same value.</summary>
public static class QueryLiteral
{
    /// <summary>
    /// A single-quoted string literal: <c>\</c> and <c>'</c> are backslash-escaped and control characters are written
    /// as <c>\uXXXX</c>, so <c>O'Brien</c> or <c>x' OR '1'='1</c> stay one literal.
    /// </summary>
    public static string Quote(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var builder = new StringBuilder(value.Length + 2).Append('\'');
        foreach (var c in value)
        {
            switch (c)
            {
                case '\\': builder.Append(@"\\"); break;
                case '\'': builder.Append(@"\'"); break;
                default:
                    if (char.IsControl(c))
                    {
                        builder.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}");
                    }
                    else
                    {
                        builder.Append(c);
                    }

                    break;
            }
        }

        return builder.Append('\'').ToString();
    }

    /// <summary>
    /// A literal for a string, char, Boolean, integer, float, double, decimal, null, a JSON primitive, or a sequence
    /// of those (an array constant for IN). Numbers use the invariant culture.
    /// </summary>
    /// <exception cref="ArgumentException">NaN or infinity, or a value of another type.</exception>
    public static string Format(object? value) => value switch
    {
        null => "null",
        string s => Quote(s),
        char c => Quote(c.ToString()),
        bool b => b ? "true" : "false",
        sbyte or byte or short or ushort or int or uint or long or ulong => ((IFormattable)value).ToString(null, CultureInfo.InvariantCulture),
        decimal m => m.ToString(CultureInfo.InvariantCulture),
        float f => FormatFloating(f, f.ToString("R", CultureInfo.InvariantCulture)),
        double d => FormatFloating(d, d.ToString("R", CultureInfo.InvariantCulture)),
        JsonElement e => FormatJson(e),
        JsonValue v => FormatJson(v.Deserialize<JsonElement>()),
        JsonArray a => FormatArray(a.Select(n => (object?)n)),
        JsonNode => throw new ArgumentException("JSON objects cannot be used as query values; compare their properties one by one.", nameof(value)),
        IEnumerable sequence => FormatArray(sequence.Cast<object?>()),
        _ => throw new ArgumentException($"A value of type {value.GetType().FullName} cannot be used in a query; use a string, number, Boolean or null.", nameof(value)),
    };

    /// <summary>An array constant such as <c>['a', 'b']</c>, for IN and NIN.</summary>
    public static string FormatArray(IEnumerable<object?> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        return "[" + string.Join(", ", values.Select(v => v is IEnumerable and not string
            ? throw new ArgumentException("Nested arrays cannot be used as query values.", nameof(values))
            : Format(v))) + "]";
    }

    private static string FormatFloating(double value, string text) =>
        double.IsFinite(value)
            ? text
            : throw new ArgumentException($"The number {text} cannot be written in a query; only finite numbers can.", nameof(value));

    private static string FormatJson(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.String => Quote(element.GetString()!),
        JsonValueKind.Number => element.GetRawText(),
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        JsonValueKind.Null => "null",
        JsonValueKind.Array => FormatArray(element.EnumerateArray().Select(e => (object?)e)),
        _ => throw new ArgumentException("JSON objects cannot be used as query values; compare their properties one by one.", nameof(element)),
    };
}
