using System.Text.Json.Nodes;

namespace TwinPS.Client.Device;

/// <summary>Works out the JSON merge patch that turns one desired document into another (for changes missed while offline).</summary>
internal static class DesiredPropertiesDiff
{
    /// <summary>Returns the patch from <paramref name="before"/> to <paramref name="after"/>: changed or added members with their new values,
    /// removed members as <c>null</c>, nested objects diffed recursively; <c>$</c>-prefixed members are ignored.</summary>
    public static JsonObject Compute(JsonObject before, JsonObject after)
    {
        var patch = new JsonObject();
        foreach (var (key, newValue) in after)
        {
            if (key.StartsWith('$'))
            {
                continue;
            }

            if (!before.TryGetPropertyValue(key, out var oldValue))
            {
                patch[key] = newValue?.DeepClone();
            }
            else if (oldValue is JsonObject oldObject && newValue is JsonObject newObject)
            {
                var inner = Compute(oldObject, newObject);
                if (inner.Count > 0)
                {
                    patch[key] = inner;
                }
            }
            else if (!JsonNode.DeepEquals(oldValue, newValue))
            {
                patch[key] = newValue?.DeepClone();
            }
        }

        foreach (var (key, _) in before)
        {
            if (!key.StartsWith('$') && !after.ContainsKey(key))
            {
                patch[key] = null;
            }
        }

        return patch;
    }

    /// <summary>Applies a merge patch to <paramref name="target"/> in place (null removes; objects merge; anything else replaces).</summary>
    public static void Apply(JsonObject target, JsonObject patch)
    {
        foreach (var (key, value) in patch)
        {
            if (key.StartsWith('$'))
            {
                continue;
            }

            if (value is null)
            {
                target.Remove(key);
            }
            else if (value is JsonObject patchObject && target[key] is JsonObject targetObject)
            {
                Apply(targetObject, patchObject);
            }
            else
            {
                target[key] = RemoveNulls(value.DeepClone());
            }
        }
    }

    /// <summary>Copies an object without its <c>$</c>-prefixed members (<c>$version</c>, <c>$metadata</c>).</summary>
    public static JsonObject WithoutMetadata(JsonObject source)
    {
        var copy = new JsonObject();
        foreach (var (key, value) in source)
        {
            if (!key.StartsWith('$'))
            {
                copy[key] = value?.DeepClone();
            }
        }

        return copy;
    }

    private static JsonNode RemoveNulls(JsonNode node)
    {
        if (node is JsonObject obj)
        {
            foreach (var key in obj.Where(p => p.Value is null).Select(p => p.Key).ToList())
            {
                obj.Remove(key);
            }

            foreach (var (_, child) in obj)
            {
                if (child is not null)
                {
                    RemoveNulls(child);
                }
            }
        }

        return node;
    }
}
