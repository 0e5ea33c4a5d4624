using System.Text.Json.Nodes;

namespace TwinPS.Protocol;

/// <summary>
/// JSON merge patch with IoT Hub's twin rules: objects merge recursively, scalars and arrays replace, <c>null</c>
/// deletes a key with its subtree, <c>null</c> for a missing key is a no-op, and <c>{"a":{"b":null}}</c> with no
/// <c>a</c> creates <c>a: {}</c>. Validation is separate (<see cref="TwinValidator"/>).
/// </summary>
public static class TwinMergePatch
{
    /// <summary>Merges <paramref name="patch"/> into <paramref name="target"/> (in place; the patch is not modified). Returns true if the target's content changed.</summary>
    public static bool Apply(JsonObject target, JsonObject patch)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(patch);
        return Merge(target, patch, metadata: null, stamp: null);
    }

    /// <summary>
    /// The desired-change patch a device should get when <paramref name="oldDocument"/> is replaced by
    /// <paramref name="newDocument"/>: the new document plus every removed key (at any depth) as <c>null</c>.
    /// Applying it with <see cref="Apply"/> to the old document yields the new one.
    /// </summary>
    public static JsonObject ReplacementPatch(JsonObject oldDocument, JsonObject newDocument)
    {
        ArgumentNullException.ThrowIfNull(oldDocument);
        ArgumentNullException.ThrowIfNull(newDocument);
        var patch = new JsonObject();
        foreach (var (key, newValue) in newDocument)
        {
            if (newValue is JsonObject newChild && oldDocument[key] is JsonObject oldChild)
            {
                patch[key] = ReplacementPatch(oldChild, newChild);
            }
            else
            {
                patch[key] = newValue?.DeepClone();
            }
        }

        foreach (var (key, _) in oldDocument)
        {
            if (!newDocument.ContainsKey(key))
            {
                patch[key] = null;
            }
        }

        return patch;
    }

    /// <summary>Merge that also keeps a <c>$metadata</c> tree in step (every touched object level and leaf is stamped).</summary>
    internal static bool Merge(JsonObject target, JsonObject patch, JsonObject? metadata, MetadataStamp? stamp)
    {
        var changed = false;
        if (metadata is not null)
        {
            stamp!.StampNode(metadata);
        }

        foreach (var (key, patchValue) in patch)
        {
            switch (patchValue)
            {
                case null:
                    if (target.Remove(key))
                    {
                        changed = true;
                    }

                    metadata?.Remove(key);
                    break;

                case JsonObject patchChild:
                    JsonObject? childMetadata = null;
                    if (target[key] is JsonObject existing)
                    {
                        if (metadata is not null)
                        {
                            childMetadata = metadata[key] as JsonObject;
                            if (childMetadata is null)
                            {
                                childMetadata = stamp!.NewNode();
                                metadata[key] = childMetadata;
                            }
                        }

                        changed |= Merge(existing, patchChild, childMetadata, stamp);
                    }
                    else
                    {
                        var created = new JsonObject();
                        target[key] = created;
                        changed = true;
                        if (metadata is not null)
                        {
                            childMetadata = stamp!.NewNode();
                            metadata[key] = childMetadata;
                        }

                        Merge(created, patchChild, childMetadata, stamp);
                    }

                    break;

                default:
                    var replacement = patchValue.DeepClone();
                    if (!target.TryGetPropertyValue(key, out var old) || !SafeDeepEquals(old, replacement))
                    {
                        changed = true;
                    }

                    target[key] = replacement;
                    if (metadata is not null)
                    {
                        metadata[key] = stamp!.NewNode();
                    }

                    break;
            }
        }

        return changed;
    }

    // Unvalidated trees may hold values that cannot be written as JSON (NaN); such a value counts as a change.
    private static bool SafeDeepEquals(JsonNode? a, JsonNode? b)
    {
        try
        {
            return JsonNode.DeepEquals(a, b);
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}

/// <summary>Writes <c>$lastUpdated</c> (and, for desired, <c>$lastUpdatedVersion</c>) into metadata nodes.</summary>
internal sealed class MetadataStamp(string lastUpdated, long? lastUpdatedVersion)
{
    public const string LastUpdated = "$lastUpdated";
    public const string LastUpdatedVersion = "$lastUpdatedVersion";

    public JsonObject NewNode()
    {
        var node = new JsonObject();
        StampNode(node);
        return node;
    }

    public void StampNode(JsonObject node)
    {
        node[LastUpdated] = lastUpdated;
        if (lastUpdatedVersion is long version)
        {
            node[LastUpdatedVersion] = version;
        }
    }
}
