using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace TwinPS.Protocol;

/// <summary>
/// The stored state of one device or module twin and the IoT Hub rules for changing it (REST reference §3).
/// Every write validates first and changes nothing when it throws. Rules chosen here:
/// <list type="bullet">
/// <item>desired and reported <c>$version</c> start at 1 and go up by exactly 1 per write of that section (an empty patch counts as a write);</item>
/// <item>the twin <c>etag</c> (base64 of a big-endian int64 counter, 1 = <c>AAAAAAAAAAE=</c>) moves by 1 on every tags/desired write, never on reported writes;</item>
/// <item><c>version</c> = desired <c>$version</c> + reported <c>$version</c>;</item>
/// <item><c>$metadata</c> has <c>$lastUpdated</c> at every object level and leaf, plus <c>$lastUpdatedVersion</c> in desired;</item>
/// <item><c>"tags": null</c> in a PATCH clears all tags, like <c>"desired": null</c> clears all desired properties.</item>
/// </list>
/// The objects exposed by the properties are the live state: read them, do not modify them. Not thread-safe: use one
/// instance per writer (or <see cref="Clone"/> first).
/// </summary>
public sealed class TwinState
{
    private const int StorageSchema = 1;

    private TwinState(JsonObject tags, JsonObject desired, JsonObject desiredMetadata, long desiredVersion, JsonObject reported, JsonObject reportedMetadata, long reportedVersion, long etagCounter)
    {
        Tags = tags;
        Desired = desired;
        DesiredMetadata = desiredMetadata;
        DesiredVersion = desiredVersion;
        Reported = reported;
        ReportedMetadata = reportedMetadata;
        ReportedVersion = reportedVersion;
        ETagCounter = etagCounter;
    }

    /// <summary>The tags (no <c>$</c> keys).</summary>
    public JsonObject Tags { get; private set; }

    /// <summary>The desired property values (no <c>$metadata</c>/<c>$version</c>).</summary>
    public JsonObject Desired { get; private set; }

    /// <summary>The desired <c>$metadata</c> tree.</summary>
    public JsonObject DesiredMetadata { get; private set; }

    /// <summary>The desired <c>$version</c>.</summary>
    public long DesiredVersion { get; private set; }

    /// <summary>The reported property values (no <c>$metadata</c>/<c>$version</c>).</summary>
    public JsonObject Reported { get; private set; }

    /// <summary>The reported <c>$metadata</c> tree.</summary>
    public JsonObject ReportedMetadata { get; private set; }

    /// <summary>The reported <c>$version</c>.</summary>
    public long ReportedVersion { get; private set; }

    /// <summary>The counter behind <see cref="ETag"/>.</summary>
    public long ETagCounter { get; private set; }

    /// <summary>The twin etag, base64 of <see cref="ETagCounter"/> as a big-endian int64 (unquoted).</summary>
    public string ETag => TwinJson.FormatTwinEtag(ETagCounter);

    /// <summary>The twin <c>version</c>: desired <c>$version</c> + reported <c>$version</c> (2 for a fresh twin).</summary>
    public long Version => DesiredVersion + ReportedVersion;

    /// <summary>A fresh twin: empty sections, both <c>$version</c>s 1, etag <c>AAAAAAAAAAE=</c>, root <c>$lastUpdated</c> = <paramref name="now"/>.</summary>
    public static TwinState Create(DateTimeOffset now)
    {
        var stamp = TwinJson.FormatTimestamp(now);
        return new TwinState(
            [],
            [],
            new JsonObject { [MetadataStamp.LastUpdated] = stamp },
            1,
            [],
            new JsonObject { [MetadataStamp.LastUpdated] = stamp },
            1,
            1);
    }

    /// <summary>A deep copy.</summary>
    public TwinState Clone() => new(
        Copy(Tags), Copy(Desired), Copy(DesiredMetadata), DesiredVersion, Copy(Reported), Copy(ReportedMetadata), ReportedVersion, ETagCounter);

    /// <summary>
    /// A backend PATCH. Merges <paramref name="tagsPatch"/> into tags and <paramref name="desiredPatch"/> into desired
    /// (or clears desired when <paramref name="desiredIsNull"/>). Returns the desired notification for devices — exactly
    /// the keys of the desired patch plus <c>$version</c> — or null when desired was not touched.
    /// </summary>
    public JsonObject? ApplyPatch(JsonObject? tagsPatch, JsonObject? desiredPatch, bool desiredIsNull, DateTimeOffset now) =>
        ApplyPatch(tagsPatch, tagsIsNull: false, desiredPatch, desiredIsNull, now);

    /// <summary>As <see cref="ApplyPatch(JsonObject?, JsonObject?, bool, DateTimeOffset)"/>, with <paramref name="tagsIsNull"/> clearing all tags.</summary>
    public JsonObject? ApplyPatch(JsonObject? tagsPatch, bool tagsIsNull, JsonObject? desiredPatch, bool desiredIsNull, DateTimeOffset now)
    {
        if (tagsIsNull && tagsPatch is not null)
        {
            throw new ArgumentException("Give either a tags patch or tagsIsNull, not both.", nameof(tagsIsNull));
        }

        if (desiredIsNull && desiredPatch is not null)
        {
            throw new ArgumentException("Give either a desired patch or desiredIsNull, not both.", nameof(desiredIsNull));
        }

        TwinValidator.ValidatePatch(tagsPatch, TwinSectionKind.Tags, TwinWriteMode.Patch);
        TwinValidator.ValidatePatch(desiredPatch, TwinSectionKind.Desired, TwinWriteMode.Patch);

        var touchesTags = tagsIsNull || tagsPatch is not null;
        var touchesDesired = desiredIsNull || desiredPatch is not null;
        if (!touchesTags && !touchesDesired)
        {
            return null;
        }

        JsonObject? newTags = null;
        if (tagsIsNull)
        {
            newTags = [];
        }
        else if (tagsPatch is not null)
        {
            newTags = Copy(Tags);
            TwinMergePatch.Merge(newTags, tagsPatch, metadata: null, stamp: null);
            TwinValidator.ValidateSectionSize(newTags, TwinSectionKind.Tags);
        }

        JsonObject? notification = null;
        JsonObject? newDesired = null;
        JsonObject? newDesiredMetadata = null;
        var newDesiredVersion = DesiredVersion + 1;
        var stamp = new MetadataStamp(TwinJson.FormatTimestamp(now), newDesiredVersion);
        if (desiredIsNull)
        {
            newDesired = [];
            newDesiredMetadata = stamp.NewNode();
            notification = [];
            foreach (var (key, _) in Desired)
            {
                notification[key] = null;
            }
        }
        else if (desiredPatch is not null)
        {
            newDesired = Copy(Desired);
            newDesiredMetadata = Copy(DesiredMetadata);
            TwinMergePatch.Merge(newDesired, desiredPatch, newDesiredMetadata, stamp);
            TwinValidator.ValidateSectionSize(newDesired, TwinSectionKind.Desired);
            notification = Copy(desiredPatch);
        }

        // Commit: nothing below can fail.
        if (newTags is not null)
        {
            Tags = newTags;
        }

        if (newDesired is not null)
        {
            Desired = newDesired;
            DesiredMetadata = newDesiredMetadata!;
            DesiredVersion = newDesiredVersion;
            notification!["$version"] = newDesiredVersion;
        }

        ETagCounter++;
        return notification;
    }

    /// <summary>A backend PATCH from a parsed body (see <see cref="TwinPatchBody"/>).</summary>
    public JsonObject? ApplyPatch(TwinPatchBody body, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(body);
        return ApplyPatch(body.Tags, body.TagsIsNull, body.Desired, body.DesiredIsNull, now);
    }

    /// <summary>
    /// A backend PUT: replaces tags and desired (null = empty); reported is untouched. Null values are rejected.
    /// Returns the desired notification: the new desired document plus removed keys (top-level and nested) as
    /// <c>null</c>, plus <c>$version</c>.
    /// </summary>
    public JsonObject Replace(JsonObject? tags, JsonObject? desired, DateTimeOffset now)
    {
        tags ??= [];
        desired ??= [];
        TwinValidator.ValidatePatch(tags, TwinSectionKind.Tags, TwinWriteMode.Replace);
        TwinValidator.ValidatePatch(desired, TwinSectionKind.Desired, TwinWriteMode.Replace);

        var notification = TwinMergePatch.ReplacementPatch(Desired, desired);
        var newDesiredVersion = DesiredVersion + 1;
        var stamp = new MetadataStamp(TwinJson.FormatTimestamp(now), newDesiredVersion);
        var newDesired = Copy(Desired);
        var newDesiredMetadata = Copy(DesiredMetadata);
        TwinMergePatch.Merge(newDesired, notification, newDesiredMetadata, stamp);

        Tags = Copy(tags);
        Desired = newDesired;
        DesiredMetadata = newDesiredMetadata;
        DesiredVersion = newDesiredVersion;
        ETagCounter++;
        notification["$version"] = newDesiredVersion;
        return notification;
    }

    /// <summary>A replace from a parsed body (see <see cref="TwinPatchBody"/>).</summary>
    public JsonObject Replace(TwinPatchBody body, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(body);
        return Replace(body.Tags, body.Desired, now);
    }

    /// <summary>
    /// A device's reported-properties patch (merge; null deletes). Returns the new reported <c>$version</c>. The
    /// twin etag does not move.
    /// </summary>
    public long PatchReported(JsonObject patch, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(patch);
        TwinValidator.ValidatePatch(patch, TwinSectionKind.Reported, TwinWriteMode.Patch);
        var newReported = Copy(Reported);
        var newMetadata = Copy(ReportedMetadata);
        TwinMergePatch.Merge(newReported, patch, newMetadata, new MetadataStamp(TwinJson.FormatTimestamp(now), null));
        TwinValidator.ValidateSectionSize(newReported, TwinSectionKind.Reported);

        Reported = newReported;
        ReportedMetadata = newMetadata;
        ReportedVersion++;
        return ReportedVersion;
    }

    /// <summary>The desired document as a device sees it in its first desired event: values plus <c>$version</c>.</summary>
    public JsonObject DesiredForDevice()
    {
        var desired = Copy(Desired);
        desired["$version"] = DesiredVersion;
        return desired;
    }

    /// <summary>The device's MQTT twin view: <c>{"desired":{…,"$version":n},"reported":{…,"$version":n}}</c> (no tags, no metadata).</summary>
    public JsonObject ToDeviceTwinJson()
    {
        var reported = Copy(Reported);
        reported["$version"] = ReportedVersion;
        return new JsonObject
        {
            ["desired"] = DesiredForDevice(),
            ["reported"] = reported,
        };
    }

    /// <summary>The full service-side twin JSON (REST reference §3.1), with field order as the hub writes it.</summary>
    public JsonObject ToTwinJson(TwinIdentityMirror mirror)
    {
        ArgumentNullException.ThrowIfNull(mirror);
        var twin = new JsonObject { ["deviceId"] = mirror.DeviceId };
        if (mirror.ModuleId is not null)
        {
            twin["moduleId"] = mirror.ModuleId;
        }

        twin["etag"] = ETag;
        twin["deviceEtag"] = mirror.DeviceEtag;
        if (mirror.Status is not null)
        {
            twin["status"] = mirror.Status;
        }

        if (mirror.StatusReason is not null)
        {
            twin["statusReason"] = mirror.StatusReason;
        }

        twin["statusUpdateTime"] = TwinJson.FormatTimestamp(mirror.StatusUpdateTime);
        twin["connectionState"] = mirror.ConnectionState;
        twin["lastActivityTime"] = TwinJson.FormatTimestamp(mirror.LastActivityTime);
        twin["cloudToDeviceMessageCount"] = mirror.CloudToDeviceMessageCount;
        twin["authenticationType"] = mirror.AuthenticationType;
        twin["x509Thumbprint"] = new JsonObject
        {
            ["primaryThumbprint"] = mirror.PrimaryThumbprint,
            ["secondaryThumbprint"] = mirror.SecondaryThumbprint,
        };
        twin["modelId"] = mirror.ModelId;
        twin["version"] = Version;
        twin["tags"] = Copy(Tags);
        twin["properties"] = new JsonObject
        {
            ["desired"] = WithMetadata(Desired, DesiredMetadata, DesiredVersion),
            ["reported"] = WithMetadata(Reported, ReportedMetadata, ReportedVersion),
        };
        twin["capabilities"] = new JsonObject { ["iotEdge"] = mirror.IotEdge };
        if (mirror.DeviceScope is not null)
        {
            twin["deviceScope"] = mirror.DeviceScope;
        }

        if (mirror.ParentScopes is { Count: > 0 } scopes)
        {
            twin["parentScopes"] = new JsonArray(scopes.Select(s => (JsonNode?)JsonValue.Create(s)).ToArray());
        }

        return twin;
    }

    /// <summary>Serialises the whole state to one JSON document for storage.</summary>
    public string ToStorageJson()
    {
        var doc = new JsonObject
        {
            ["schema"] = StorageSchema,
            ["etag"] = ETagCounter,
            ["tags"] = Copy(Tags),
            ["desired"] = Copy(Desired),
            ["desiredMetadata"] = Copy(DesiredMetadata),
            ["desiredVersion"] = DesiredVersion,
            ["reported"] = Copy(Reported),
            ["reportedMetadata"] = Copy(ReportedMetadata),
            ["reportedVersion"] = ReportedVersion,
        };
        return doc.ToJsonString();
    }

    /// <summary>Reads a document written by <see cref="ToStorageJson"/>; <see cref="FormatException"/> when it is not one.</summary>
    public static TwinState FromStorageJson(string json)
    {
        JsonObject root;
        try
        {
            root = JsonNode.Parse(json ?? string.Empty) as JsonObject ?? throw new FormatException("The stored twin state is not a JSON object.");
        }
        catch (JsonException ex)
        {
            throw new FormatException("The stored twin state is not valid JSON.", ex);
        }

        var schema = ReadLong(root, "schema");
        if (schema != StorageSchema)
        {
            throw new FormatException($"The stored twin state has schema {schema.ToString(CultureInfo.InvariantCulture)}; this version reads schema {StorageSchema}.");
        }

        return new TwinState(
            ReadObject(root, "tags"),
            ReadObject(root, "desired"),
            ReadObject(root, "desiredMetadata"),
            ReadLong(root, "desiredVersion"),
            ReadObject(root, "reported"),
            ReadObject(root, "reportedMetadata"),
            ReadLong(root, "reportedVersion"),
            ReadLong(root, "etag"));
    }

    private static JsonObject WithMetadata(JsonObject values, JsonObject metadata, long version)
    {
        var section = Copy(values);
        section["$metadata"] = Copy(metadata);
        section["$version"] = version;
        return section;
    }

    private static JsonObject Copy(JsonObject source) => (JsonObject)source.DeepClone();

    private static JsonObject ReadObject(JsonObject root, string name) =>
        root[name] is JsonObject value ? Copy(value) : throw new FormatException($"The stored twin state has no object '{name}'.");

    private static long ReadLong(JsonObject root, string name)
    {
        if (root[name] is JsonValue value && value.TryGetValue<long>(out var number))
        {
            return number;
        }

        if (root[name] is JsonValue element && element.TryGetValue<JsonElement>(out var el) && el.ValueKind == JsonValueKind.Number && el.TryGetInt64(out var parsed))
        {
            return parsed;
        }

        throw new FormatException($"The stored twin state has no integer '{name}'.");
    }
}
