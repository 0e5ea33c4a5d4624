using System.Text.Json.Nodes;

namespace TwinPS.Query;

/// <summary>Case-insensitive property lookup: exact spelling first (a dictionary hit), then a scan ignoring case.</summary>
internal static class JsonLookup
{
    public static bool TryGet(JsonObject obj, string name, out string actualName, out JsonNode? value)
    {
        if (obj.TryGetPropertyValue(name, out value))
        {
            actualName = name;
            return true;
        }

        if (obj.Options is not { PropertyNameCaseInsensitive: true })
        {
            foreach (var property in obj)
            {
                if (string.Equals(property.Key, name, StringComparison.OrdinalIgnoreCase))
                {
                    actualName = property.Key;
                    value = property.Value;
                    return true;
                }
            }
        }

        actualName = name;
        value = null;
        return false;
    }

    /// <summary>Follows <paramref name="segments"/> from <paramref name="root"/>; false when any segment is missing or not an object.</summary>
    public static bool TryResolve(JsonObject root, string[] segments, out string lastName, out JsonNode? value)
    {
        JsonNode? current = root;
        lastName = string.Empty;
        foreach (var segment in segments)
        {
            if (current is not JsonObject obj || !TryGet(obj, segment, out lastName, out current))
            {
                value = null;
                return false;
            }
        }

        value = current;
        return true;
    }

    public static QueryValue Evaluate(JsonObject root, string[] segments) =>
        TryResolve(root, segments, out _, out var node) ? QueryValue.FromNode(node) : QueryValue.Undefined;
}
