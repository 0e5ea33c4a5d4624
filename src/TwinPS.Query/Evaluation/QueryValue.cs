using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace TwinPS.Query;

internal enum ValueKind : byte
{
    Undefined,
    Null,
    Boolean,
    Number,
    String,
    Object,
    Array,
}

/// <summary>The value of an expression for one document: a JSON value or 'undefined'. No allocation for primitives read from a document.</summary>
internal readonly struct QueryValue
{
    public static readonly QueryValue Undefined;
    public static readonly QueryValue Null = new(ValueKind.Null, 0, null, null);
    public static readonly QueryValue True = new(ValueKind.Boolean, 1, null, null);
    public static readonly QueryValue False = new(ValueKind.Boolean, 0, null, null);

    private QueryValue(ValueKind kind, double number, string? text, JsonNode? node)
    {
        Kind = kind;
        Number = number;
        Text = text;
        Node = node;
    }

    public ValueKind Kind { get; }

    public double Number { get; }

    public string? Text { get; }

    /// <summary>The document node an object or array value came from.</summary>
    public JsonNode? Node { get; }

    public bool IsTrue => Kind == ValueKind.Boolean && Number != 0;

    public bool IsPrimitive => Kind is ValueKind.Null or ValueKind.Boolean or ValueKind.Number or ValueKind.String;

    public static QueryValue FromBoolean(bool value) => value ? True : False;

    public static QueryValue FromNumber(double value) =>
        double.IsFinite(value) ? new QueryValue(ValueKind.Number, value, null, null) : Undefined;

    public static QueryValue FromString(string value) => new(ValueKind.String, 0, value, null);

    public static QueryValue FromArrayConstant() => new(ValueKind.Array, 0, null, null);

    /// <summary>The value of a node that is present in a document (a null node is JSON null).</summary>
    public static QueryValue FromNode(JsonNode? node)
    {
        switch (node)
        {
            case null: return Null;
            case JsonObject: return new QueryValue(ValueKind.Object, 0, null, node);
            case JsonArray: return new QueryValue(ValueKind.Array, 0, null, node);
        }

        var value = (JsonValue)node;
        if (value.TryGetValue<JsonElement>(out var element))
        {
            // Values of a parsed document: read the element directly.
            return element.ValueKind switch
            {
                JsonValueKind.String => FromString(element.GetString()!),
                JsonValueKind.Number => FromNumber(element.GetDouble()),
                JsonValueKind.True => True,
                JsonValueKind.False => False,
                JsonValueKind.Null => Null,
                JsonValueKind.Object => new QueryValue(ValueKind.Object, 0, null, node),
                JsonValueKind.Array => new QueryValue(ValueKind.Array, 0, null, node),
                _ => Undefined,
            };
        }

        if (value.TryGetValue<string>(out var text))
        {
            return FromString(text);
        }

        return value.GetValueKind() switch
        {
            JsonValueKind.String => FromString(ReadString(value)),
            JsonValueKind.Number => FromNumber(ReadNumber(value)),
            JsonValueKind.True => True,
            JsonValueKind.False => False,
            JsonValueKind.Null => Null,
            JsonValueKind.Object => new QueryValue(ValueKind.Object, 0, null, node),
            JsonValueKind.Array => new QueryValue(ValueKind.Array, 0, null, node),
            _ => Undefined,
        };
    }

    /// <summary>Same kind and same value; only meaningful for primitives.</summary>
    public bool SameAs(in QueryValue other) =>
        Kind == other.Kind && Kind switch
        {
            ValueKind.Null => true,
            ValueKind.Boolean or ValueKind.Number => Number == other.Number,
            ValueKind.String => string.Equals(Text, other.Text, StringComparison.Ordinal),
            _ => false,
        };

    /// <summary>A JSON node for a result row (a clone for document nodes).</summary>
    public JsonNode? ToNode() => Kind switch
    {
        ValueKind.Boolean => JsonValue.Create(IsTrue),
        ValueKind.Number => NumberNode(Number),
        ValueKind.String => JsonValue.Create(Text),
        ValueKind.Object or ValueKind.Array => Node?.DeepClone(),
        _ => null,
    };

    /// <summary>An integer node when the value is integral and exact in a double, else a double node.</summary>
    public static JsonNode NumberNode(double number) =>
        Math.Abs(number) <= 9007199254740992d && Math.Floor(number) == number
            ? JsonValue.Create((long)number)
            : JsonValue.Create(number);

    private static string ReadString(JsonValue value)
    {
        if (value.TryGetValue<string>(out var s))
        {
            return s;
        }

        if (value.TryGetValue<JsonElement>(out var element))
        {
            return element.GetString() ?? string.Empty;
        }

        using var document = JsonDocument.Parse(value.ToJsonString());
        return document.RootElement.GetString() ?? string.Empty;
    }

    private static double ReadNumber(JsonValue value)
    {
        if (value.TryGetValue<double>(out var d))
        {
            return d;
        }

        if (value.TryGetValue<long>(out var l))
        {
            return l;
        }

        if (value.TryGetValue<int>(out var i))
        {
            return i;
        }

        if (value.TryGetValue<decimal>(out var m))
        {
            return (double)m;
        }

        if (value.TryGetValue<JsonElement>(out var element))
        {
            return element.GetDouble();
        }

        return double.Parse(value.ToJsonString(), NumberStyles.Float, CultureInfo.InvariantCulture);
    }
}
