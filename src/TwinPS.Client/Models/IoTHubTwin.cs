using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace TwinPS.Client;

/// <summary>
/// A device or module twin as the hub returned it. <see cref="Json"/> is the raw document; the properties read from it.
/// <see cref="Desired"/> and <see cref="Reported"/> keep <c>$metadata</c>/<c>$version</c>; timestamps stay the exact strings sent.
/// </summary>
public sealed class IoTHubTwin
{
    /// <summary>Wraps a twin document (not copied).</summary>
    /// <exception cref="ArgumentException">The document has no string <c>deviceId</c>.</exception>
    public IoTHubTwin(JsonObject json)
    {
        ArgumentNullException.ThrowIfNull(json);
        if (JsonFields.GetString(json, "deviceId") is null)
        {
            throw new ArgumentException("A twin document must have a string 'deviceId'.", nameof(json));
        }

        Json = json;
    }

    /// <summary>Parses a twin document from JSON text.</summary>
    public static IoTHubTwin Parse(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        return JsonNode.Parse(json) is JsonObject obj
            ? new IoTHubTwin(obj)
            : throw new ArgumentException("A twin document must be a JSON object.", nameof(json));
    }

    /// <summary>The raw twin document.</summary>
    public JsonObject Json { get; }

    /// <summary>Device id.</summary>
    public string DeviceId => JsonFields.GetString(Json, "deviceId")!;

    /// <summary>Module id for a module twin; null for a device twin.</summary>
    public string? ModuleId => JsonFields.GetString(Json, "moduleId");

    /// <summary>The twin's etag (unquoted, as in the body); pass it back as <c>ifMatch</c> for a conditional write.</summary>
    public string? ETag => JsonFields.GetString(Json, "etag");

    /// <summary>The identity's etag mirrored into the twin.</summary>
    public string? DeviceEtag => JsonFields.GetString(Json, "deviceEtag");

    /// <summary>Twin version.</summary>
    public long? Version => JsonFields.GetInt64(Json, "version");

    /// <summary><c>enabled</c> or <c>disabled</c>.</summary>
    public string? Status => JsonFields.GetString(Json, "status");

    /// <summary>Why the device is disabled, if given.</summary>
    public string? StatusReason => JsonFields.GetString(Json, "statusReason");

    /// <summary>Cloud-to-device messages queued for the device.</summary>
    public long? CloudToDeviceMessageCount => JsonFields.GetInt64(Json, "cloudToDeviceMessageCount");

    /// <summary>The device scope (edge hierarchies).</summary>
    public string? DeviceScope => JsonFields.GetString(Json, "deviceScope");

    /// <summary>The parent scopes (edge hierarchies); an entry that is not a string reads as empty.</summary>
    public IReadOnlyList<string> ParentScopes => Json["parentScopes"] is JsonArray scopes
        ? scopes.Select(s => s is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : string.Empty).ToArray()
        : [];

    /// <summary><c>Connected</c> or <c>Disconnected</c>.</summary>
    public string? ConnectionState => JsonFields.GetString(Json, "connectionState");

    /// <summary>Last activity time exactly as the hub wrote it.</summary>
    public string? LastActivityTime => JsonFields.GetString(Json, "lastActivityTime");

    /// <summary>Status update time exactly as the hub wrote it.</summary>
    public string? StatusUpdateTime => JsonFields.GetString(Json, "statusUpdateTime");

    /// <summary><c>sas</c>, <c>selfSigned</c>, <c>certificateAuthority</c> or <c>none</c>.</summary>
    public string? AuthenticationType => JsonFields.GetString(Json, "authenticationType");

    /// <summary>Plug and Play model id (empty or null when unset).</summary>
    public string? ModelId => JsonFields.GetString(Json, "modelId");

    /// <summary>Whether the device is an IoT Edge device.</summary>
    public bool IsEdge => Json["capabilities"] is JsonObject caps && caps["iotEdge"] is JsonValue v && v.TryGetValue(out bool edge) && edge;

    /// <summary>The tags object (a live part of <see cref="Json"/>); an empty detached object when absent.</summary>
    public JsonObject Tags => Json["tags"] as JsonObject ?? [];

    /// <summary>The desired properties with <c>$metadata</c>/<c>$version</c> (live part of <see cref="Json"/>); empty when absent.</summary>
    public JsonObject Desired => Properties("desired");

    /// <summary>The reported properties with <c>$metadata</c>/<c>$version</c> (live part of <see cref="Json"/>); empty when absent.</summary>
    public JsonObject Reported => Properties("reported");

    /// <summary>The desired <c>$version</c>.</summary>
    public long? DesiredVersion => JsonFields.GetInt64(Desired, "$version");

    /// <summary>The reported <c>$version</c>.</summary>
    public long? ReportedVersion => JsonFields.GetInt64(Reported, "$version");

    /// <summary>The twin document as compact JSON text.</summary>
    public string ToJsonString() => Json.ToJsonString();

    /// <inheritdoc />
    public override string ToString() => ModuleId is null
        ? string.Create(CultureInfo.InvariantCulture, $"Twin {DeviceId} (etag {ETag}, version {Version})")
        : string.Create(CultureInfo.InvariantCulture, $"Twin {DeviceId}/{ModuleId} (etag {ETag}, version {Version})");

    private JsonObject Properties(string section) =>
        Json["properties"] is JsonObject props && props[section] is JsonObject obj ? obj : [];
}

/// <summary>Tolerant readers of JSON fields (wrong types read as null).</summary>
internal static class JsonFields
{
    public static string? GetString(JsonObject obj, string name) =>
        obj[name] is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : null;

    public static long? GetInt64(JsonObject obj, string name) =>
        obj[name] is JsonValue v && v.GetValueKind() == JsonValueKind.Number && v.TryGetValue(out long l) ? l
        : obj[name] is JsonValue d && d.GetValueKind() == JsonValueKind.Number && d.TryGetValue(out double x) && x == Math.Floor(x) ? (long)x
        : null;

    public static bool? GetBool(JsonObject obj, string name) =>
        obj[name] is JsonValue v && v.GetValueKind() is JsonValueKind.True or JsonValueKind.False ? v.GetValue<bool>() : null;

    public static JsonObject? GetObject(JsonObject obj, string name) => obj[name] as JsonObject;

    /// <summary>Case-insensitive lookup (the hub has been seen sending <c>PrimaryThumbprint</c>).</summary>
    public static JsonNode? GetIgnoreCase(JsonObject obj, string name)
    {
        if (obj.TryGetPropertyValue(name, out var exact))
        {
            return exact;
        }

        foreach (var pair in obj)
        {
            if (string.Equals(pair.Key, name, StringComparison.OrdinalIgnoreCase))
            {
                return pair.Value;
            }
        }

        return null;
    }
}
