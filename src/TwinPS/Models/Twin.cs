using System.Globalization;
using System.Management.Automation;
using System.Text.Json;
using System.Text.Json.Nodes;
using TwinPS.Client;
using TwinPS.Internal;

namespace TwinPS.Models;

/// <summary>
/// A device or module twin (PowerShell type name <c>TwinPS.Twin</c>). <see cref="Tags"/>,
/// <see cref="Desired"/> and <see cref="Reported"/> are PSCustomObjects without <c>$metadata</c>/<c>$version</c>
/// (those are in <see cref="DesiredVersion"/>, <see cref="ReportedVersion"/> and <see cref="ToJson()"/>);
/// timestamps are <see cref="DateTimeOffset"/> values (null when never set). It also reads like the hub's document:
/// <see cref="Properties"/> holds <c>desired</c> and <c>reported</c> with their <c>$metadata</c> and <c>$version</c>, so
/// <c>$twin.Properties.Desired.x</c> works as in scripts written for Az. Nested sections (<see cref="Tags"/>,
/// <see cref="Desired"/>, …) print as JSON text (Export-Csv, string expansion); <see cref="ToJson()"/> and
/// <c>ConvertTo-IoTTwinJson</c> give the hub's JSON document exactly.
/// </summary>
public sealed class Twin
{
    /// <summary>The PowerShell type name the views and type data use.</summary>
    public const string TypeName = "TwinPS.Twin";

    private readonly JsonObject _json;
    private object? _tags;
    private object? _desired;
    private object? _reported;
    private object? _x509Thumbprint;
    private object? _configurations;
    private object? _properties;

    internal Twin(IoTHubTwin twin)
        : this(twin?.Json ?? throw new ArgumentNullException(nameof(twin)))
    {
    }

    private Twin(JsonObject json)
    {
        _json = json;
        DeviceId = GetString("deviceId") ?? throw new ArgumentException("A twin document must have a string 'deviceId'.", nameof(json));
        ModuleId = GetString("moduleId");
        ETag = GetString("etag");
        DeviceETag = GetString("deviceEtag");
        Version = GetInt64(_json, "version");
        Status = GetString("status");
        StatusReason = GetString("statusReason");
        StatusUpdateTime = HubTime.Parse(GetString("statusUpdateTime"));
        ConnectionState = GetString("connectionState");
        LastActivityTime = HubTime.Parse(GetString("lastActivityTime"));
        CloudToDeviceMessageCount = GetInt64(_json, "cloudToDeviceMessageCount");
        AuthenticationType = GetString("authenticationType");
        ModelId = GetString("modelId");
        DeviceScope = GetString("deviceScope");
        IsEdgeDevice = _json["capabilities"] is JsonObject caps && caps["iotEdge"] is JsonValue edge
            && edge.GetValueKind() == JsonValueKind.True;
        ParentScopes = new JsonTextList(_json["parentScopes"] is JsonArray scopes
            ? scopes.Select(s => s is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : string.Empty).ToArray()
            : []);
        DesiredVersion = GetInt64(Section("desired"), "$version");
        ReportedVersion = GetInt64(Section("reported"), "$version");
    }

    /// <summary>Reads a twin from its JSON text (for example the output of <see cref="ToJson()"/>).</summary>
    /// <exception cref="ArgumentException">Not a JSON object with a string <c>deviceId</c>.</exception>
    public static Twin Parse(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(json);
        }
        catch (JsonException ex)
        {
            throw new ArgumentException("The twin JSON is malformed: " + ex.Message, nameof(json), ex);
        }

        return node is JsonObject obj
            ? new Twin(obj)
            : throw new ArgumentException("A twin document must be a JSON object.", nameof(json));
    }

    /// <summary>The device id.</summary>
    public string DeviceId { get; }

    /// <summary>The module id of a module twin; null for a device twin.</summary>
    public string? ModuleId { get; }

    /// <summary>The twin's etag; piped into a write it makes the write conditional (If-Match).</summary>
    public string? ETag { get; }

    /// <summary>The device (or module) identity's etag mirrored into the twin (not the twin's etag).</summary>
    public string? DeviceETag { get; }

    /// <summary>The twin version.</summary>
    public long? Version { get; }

    /// <summary><c>enabled</c> or <c>disabled</c>.</summary>
    public string? Status { get; }

    /// <summary>Why the device is disabled, if given.</summary>
    public string? StatusReason { get; }

    /// <summary>When the status last changed (UTC); null when never.</summary>
    public DateTimeOffset? StatusUpdateTime { get; }

    /// <summary><c>Connected</c> or <c>Disconnected</c>.</summary>
    public string? ConnectionState { get; }

    /// <summary>The device's last activity (UTC); null when it has never been active.</summary>
    public DateTimeOffset? LastActivityTime { get; }

    /// <summary>Cloud-to-device messages queued for the device.</summary>
    public long? CloudToDeviceMessageCount { get; }

    /// <summary><c>sas</c>, <c>selfSigned</c>, <c>certificateAuthority</c> or <c>none</c>.</summary>
    public string? AuthenticationType { get; }

    /// <summary>The X.509 thumbprints (primary/secondary) as an object, or null.</summary>
    public object? X509Thumbprint => _x509Thumbprint ??= PSObjectJson.ToSection(_json["x509Thumbprint"]);

    /// <summary>The Plug and Play model id (empty when unset).</summary>
    public string? ModelId { get; }

    /// <summary>Whether the device is an IoT Edge device.</summary>
    public bool IsEdgeDevice { get; }

    /// <summary>The device scope (edge hierarchies).</summary>
    public string? DeviceScope { get; }

    /// <summary>The parent scopes (edge hierarchies); as text, a JSON array.</summary>
    public IReadOnlyList<string> ParentScopes { get; }

    /// <summary>Automatic-configuration state per configuration id, or null.</summary>
    public object? Configurations => _configurations ??= PSObjectJson.ToSection(_json["configurations"]);

    /// <summary>The tags as a PSCustomObject.</summary>
    public object Tags => _tags ??= ToObject(_json["tags"] as JsonObject);

    /// <summary>The desired properties as a PSCustomObject, without <c>$metadata</c> and <c>$version</c>.</summary>
    public object Desired => _desired ??= ToObject(Section("desired"));

    /// <summary>The reported properties as a PSCustomObject, without <c>$metadata</c> and <c>$version</c>.</summary>
    public object Reported => _reported ??= ToObject(Section("reported"));

    /// <summary>The desired properties' <c>$version</c>.</summary>
    public long? DesiredVersion { get; }

    /// <summary>The reported properties' <c>$version</c>.</summary>
    public long? ReportedVersion { get; }

    /// <summary>
    /// The twin's <c>properties</c> as the hub sends them: <c>Desired</c> and <c>Reported</c>, each with its
    /// <c>$metadata</c> and <c>$version</c> (<c>$twin.Properties.Desired.x</c>, <c>$twin.Properties.Reported.'$version'</c>).
    /// </summary>
    public object Properties => _properties ??= PSObjectJson.ToSection(_json["properties"] as JsonObject ?? new JsonObject
    {
        ["desired"] = new JsonObject(),
        ["reported"] = new JsonObject(),
    })!;

    /// <summary>The twin document as the hub sent it.</summary>
    internal JsonObject Document => _json;

    /// <summary>The raw twin document as the hub sent it (compact JSON, with <c>$metadata</c>).</summary>
    public string ToJson() => _json.ToJsonString();

    /// <summary>The raw twin document as JSON, indented when <paramref name="indented"/>.</summary>
    public string ToJson(bool indented) => _json.ToJsonString(new JsonSerializerOptions { WriteIndented = indented });

    /// <summary>The <c>$metadata</c> of the desired properties (last-updated times and versions) as an object.</summary>
    public object? GetDesiredMetadata() => PSObjectJson.ToPowerShell(Section("desired")?["$metadata"]);

    /// <summary>The <c>$metadata</c> of the reported properties (last-updated times) as an object.</summary>
    public object? GetReportedMetadata() => PSObjectJson.ToPowerShell(Section("reported")?["$metadata"]);

    /// <summary><c>deviceId</c>, or <c>deviceId/moduleId</c> for a module twin.</summary>
    public override string ToString() => ModuleId is null ? DeviceId : DeviceId + "/" + ModuleId;

    /// <summary>Wraps the twin for output with the <c>TwinPS.Twin</c> type name first.</summary>
    internal PSObject ToPSObject()
    {
        var wrapped = new PSObject(this);
        wrapped.TypeNames.Insert(0, TypeName);
        return wrapped;
    }

    /// <summary>A copy of a section as the hub sent it, without the read-only <c>$metadata</c>/<c>$version</c>.</summary>
    internal JsonObject GetSectionJson(TwinPS.Protocol.TwinSectionKind kind) => WithoutReadOnly(kind switch
    {
        TwinPS.Protocol.TwinSectionKind.Tags => _json["tags"] as JsonObject,
        TwinPS.Protocol.TwinSectionKind.Desired => Section("desired"),
        _ => Section("reported"),
    });

    internal static JsonObject WithoutReadOnly(JsonObject? section)
    {
        var copy = new JsonObject();
        if (section is not null)
        {
            foreach (KeyValuePair<string, JsonNode?> pair in section)
            {
                if (pair.Key is not ("$metadata" or "$version"))
                {
                    copy[pair.Key] = pair.Value?.DeepClone();
                }
            }
        }

        return copy;
    }

    private JsonObject? Section(string name) =>
        _json["properties"] is JsonObject properties ? properties[name] as JsonObject : null;

    private static PSObject ToObject(JsonObject? section) => PSObjectJson.ToSection(WithoutReadOnly(section))!;

    private string? GetString(string name) =>
        _json[name] is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : null;

    private static long? GetInt64(JsonObject? obj, string name) =>
        obj?[name] is JsonValue v && v.GetValueKind() == JsonValueKind.Number &&
        long.TryParse(v.ToJsonString(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long result)
            ? result
            : null;
}
