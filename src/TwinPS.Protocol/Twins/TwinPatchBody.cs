using System.Text.Json;
using System.Text.Json.Nodes;

namespace TwinPS.Protocol;

/// <summary>
/// The writable parts of a backend twin PATCH or PUT body (<c>{"tags":{…},"properties":{"desired":{…}}}</c>).
/// Read-only fields a client echoes back (<c>deviceId</c>, <c>etag</c>, <c>version</c>, identity mirror fields,
/// <c>$metadata</c>/<c>$version</c> in desired, an empty <c>reported</c>) are accepted and ignored.
/// </summary>
public sealed class TwinPatchBody
{
    private static readonly string[] DesiredReadOnlyKeys = ["$metadata", "$version"];

    private TwinPatchBody()
    {
    }

    /// <summary>The tags to merge or replace; null when the body has no <c>tags</c> (or <c>"tags": null</c>).</summary>
    public JsonObject? Tags { get; private init; }

    /// <summary>True for <c>"tags": null</c>, which this project treats as "clear all tags" in a PATCH (unconfirmed on the real hub).</summary>
    public bool TagsIsNull { get; private init; }

    /// <summary>The desired properties without <c>$metadata</c>/<c>$version</c>; null when absent (or <c>"desired": null</c>).</summary>
    public JsonObject? Desired { get; private init; }

    /// <summary>True for <c>"properties": {"desired": null}</c>: clear all desired properties.</summary>
    public bool DesiredIsNull { get; private init; }

    /// <summary>True when the body had a <c>properties.reported</c> with writable keys (only possible with <c>allowReported</c>).</summary>
    public bool HasReported { get; private init; }

    /// <summary>The reported keys sent (without <c>$metadata</c>/<c>$version</c>), when <see cref="HasReported"/>.</summary>
    public JsonObject? Reported { get; private init; }

    /// <summary>
    /// Parses a JSON text body. Malformed JSON → <see cref="IoTHubProtocolException"/> with <see cref="IoTHubErrorCode.IotHubFormatError"/>;
    /// otherwise as <see cref="Parse(JsonNode?, TwinWriteMode, bool)"/>.
    /// </summary>
    public static TwinPatchBody Parse(string json, TwinWriteMode mode = TwinWriteMode.Patch, bool allowReported = false)
    {
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(json ?? string.Empty, documentOptions: new JsonDocumentOptions { MaxDepth = 64 });
        }
        catch (JsonException ex)
        {
            throw new IoTHubProtocolException(IoTHubErrorCode.IotHubFormatError, $"The request body is not valid JSON (line {ex.LineNumber + 1}, byte {ex.BytePositionInLine + 1}).");
        }

        return Parse(node, mode, allowReported);
    }

    /// <summary>
    /// Extracts and validates tags and desired from a twin body. A section that is not an object (or null) is
    /// rejected; <see cref="TwinValidator.ValidatePatch"/> runs on each section with <paramref name="mode"/>. A
    /// non-empty <c>properties.reported</c> is rejected with ArgumentInvalid ("reported properties are read-only for
    /// the service") unless <paramref name="allowReported"/>. In <see cref="TwinWriteMode.Replace"/> a null or missing
    /// section means an empty one.
    /// </summary>
    public static TwinPatchBody Parse(JsonNode? body, TwinWriteMode mode = TwinWriteMode.Patch, bool allowReported = false)
    {
        if (body is not JsonObject root)
        {
            throw new IoTHubProtocolException(IoTHubErrorCode.IotHubFormatError, "The twin body must be a JSON object.");
        }

        var (tagsFound, tagsNode) = Member(root, "tags", "tags");
        var tagsIsNull = tagsFound && tagsNode is null;
        if (tagsNode is not null and not JsonObject)
        {
            throw new TwinValidationException("tags", "'tags' must be a JSON object.");
        }

        JsonObject? desired = null;
        var desiredIsNull = false;
        JsonObject? reported = null;
        var (_, propertiesNode) = Member(root, "properties", "properties");
        if (propertiesNode is not null)
        {
            if (propertiesNode is not JsonObject properties)
            {
                throw new TwinValidationException("properties", "'properties' must be a JSON object.");
            }

            var (desiredFound, desiredNode) = Member(properties, "desired", "properties.desired");
            desiredIsNull = desiredFound && desiredNode is null;
            if (desiredNode is not null)
            {
                desired = desiredNode as JsonObject ?? throw new TwinValidationException("properties.desired", "'properties.desired' must be a JSON object.");
                desired = WithoutReadOnly(desired);
            }

            var (_, reportedNode) = Member(properties, "reported", "properties.reported");
            if (reportedNode is not null)
            {
                var reportedObject = reportedNode as JsonObject ?? throw new TwinValidationException("properties.reported", "'properties.reported' must be a JSON object.");
                reportedObject = WithoutReadOnly(reportedObject);
                if (reportedObject.Count > 0)
                {
                    if (!allowReported)
                    {
                        throw new TwinValidationException("properties.reported", "Reported properties are read-only for the service; only the device can write them. Leave 'properties.reported' out (or empty).");
                    }

                    reported = reportedObject;
                }
            }
        }

        var tags = tagsNode is JsonObject t ? (JsonObject)t.DeepClone() : null;
        if (mode == TwinWriteMode.Replace)
        {
            tags ??= [];
            desired ??= [];
            tagsIsNull = false;
            desiredIsNull = false;
        }

        TwinValidator.ValidatePatch(tags, TwinSectionKind.Tags, mode);
        TwinValidator.ValidatePatch(desired, TwinSectionKind.Desired, mode);
        TwinValidator.ValidatePatch(reported, TwinSectionKind.Reported, TwinWriteMode.Patch);
        return new TwinPatchBody
        {
            Tags = tags,
            TagsIsNull = tagsIsNull,
            Desired = desired,
            DesiredIsNull = desiredIsNull,
            Reported = reported,
            HasReported = reported is not null,
        };
    }

    // Property names are matched case-insensitively (as the hub's .NET deserializer does); two spellings of one name are ambiguous.
    private static (bool Found, JsonNode? Value) Member(JsonObject obj, string name, string path)
    {
        var found = false;
        JsonNode? value = null;
        foreach (var (key, node) in obj)
        {
            if (string.Equals(key, name, StringComparison.OrdinalIgnoreCase))
            {
                if (found)
                {
                    throw new TwinValidationException(path, $"'{path}' appears more than once (property names differ only in case).");
                }

                found = true;
                value = node;
            }
        }

        return (found, value);
    }

    private static JsonObject WithoutReadOnly(JsonObject section)
    {
        var copy = new JsonObject();
        foreach (var (key, value) in section)
        {
            if (Array.IndexOf(DesiredReadOnlyKeys, key) < 0)
            {
                copy[key] = value?.DeepClone();
            }
        }

        return copy;
    }
}
