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
    // The document as the hub sent it (UTF-8), until Json is first read (then released: the parsed document keeps its
    // own copy); null for a twin made from a JsonObject.
    private byte[]? _utf8;
    private JsonObject? _json;

    /// <summary>Wraps a twin document (not copied).</summary>
    /// <exception cref="ArgumentException">The document has no string <c>deviceId</c>.</exception>
    public IoTHubTwin(JsonObject json)
    {
        ArgumentNullException.ThrowIfNull(json);
        if (JsonFields.GetString(json, "deviceId") is null)
        {
            throw new ArgumentException("A twin document must have a string 'deviceId'.", nameof(json));
        }

        _json = json;
    }

    private IoTHubTwin(byte[] utf8) => _utf8 = utf8;

    /// <summary>What <see cref="FromUtf8"/> found a document to be.</summary>
    internal enum DocumentShape
    {
        /// <summary>A JSON object with a string <c>deviceId</c>.</summary>
        Twin,

        /// <summary>JSON, but not an object.</summary>
        NotAnObject,

        /// <summary>An object without a string <c>deviceId</c>.</summary>
        NoDeviceId,
    }

    /// <summary>
    /// A twin from the UTF-8 document the hub sent. The document is checked now, in one pass of a reader (valid JSON, an
    /// object, a string <c>deviceId</c>), and becomes <see cref="Json"/> the first time that is read: a write whose answer
    /// nobody reads builds no document model. Null with <paramref name="shape"/> set when it is not a twin.
    /// </summary>
    /// <exception cref="JsonException">Not valid JSON.</exception>
    internal static IoTHubTwin? FromUtf8(ReadOnlySpan<byte> utf8, out DocumentShape shape)
    {
        shape = Inspect(utf8);
        return shape == DocumentShape.Twin ? new IoTHubTwin(utf8.ToArray()) : null;
    }

    private static DocumentShape Inspect(ReadOnlySpan<byte> utf8)
    {
        var reader = new Utf8JsonReader(utf8);
        reader.Read();
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            ExpectEnd(ref reader);
            return DocumentShape.NotAnObject;
        }

        var hasDeviceId = ReadObjectHasDeviceId(ref reader);
        ExpectEnd(ref reader);
        return hasDeviceId ? DocumentShape.Twin : DocumentShape.NoDeviceId;
    }

    /// <summary>
    /// Reads the object <paramref name="reader"/> stands at the start of, to its end (the reader validates it), and tells
    /// whether it has a top-level string <c>deviceId</c>, i.e. whether it is a twin document.
    /// </summary>
    internal static bool ReadObjectHasDeviceId(ref Utf8JsonReader reader)
    {
        var hasDeviceId = false;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var isDeviceId = reader.ValueTextEquals("deviceId"u8);
            reader.Read();
            hasDeviceId |= isDeviceId && reader.TokenType == JsonTokenType.String;
            reader.Skip();
        }

        return hasDeviceId;
    }

    /// <summary>A query result item as a twin when it is one (an object with a string <c>deviceId</c>); null otherwise.</summary>
    internal static IoTHubTwin? FromItem(JsonNode? item) =>
        item is JsonObject document && JsonFields.GetString(document, "deviceId") is not null ? new IoTHubTwin(document) : null;

    /// <summary>A twin of a document already read with <see cref="ReadObjectHasDeviceId"/> (which returned true).</summary>
    internal static IoTHubTwin FromCheckedUtf8(ReadOnlySpan<byte> utf8) => new(utf8.ToArray());

    /// <summary>Refuses anything after the one JSON value the reader has read (the reader itself throws on most of it).</summary>
    internal static void ExpectEnd(ref Utf8JsonReader reader)
    {
        if (reader.Read())
        {
            throw new JsonException("The document has more than one JSON value.");
        }
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
    public JsonObject Json => _json ?? ParseOnce();

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

    // Concurrent first readers may both parse; all of them get the one document published first. The bytes are released
    // only after the document is published, so a reader that finds them gone finds the document.
    private JsonObject ParseOnce()
    {
        var utf8 = Volatile.Read(ref _utf8);
        if (utf8 is null)
        {
            return Volatile.Read(ref _json)!;
        }

        var parsed = (JsonObject)JsonNode.Parse(utf8)!;
        var published = Interlocked.CompareExchange(ref _json, parsed, null) ?? parsed;
        Volatile.Write(ref _utf8, null);
        return published;
    }

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
