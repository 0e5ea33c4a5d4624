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

    private readonly IoTHubTwin _twin;
    private object? _tags;
    private object? _desired;
    private object? _reported;
    private object? _x509Thumbprint;
    private object? _configurations;
    private object? _properties;
    private JsonTextList? _parentScopes;

    internal Twin(IoTHubTwin twin)
    {
        _twin = twin ?? throw new ArgumentNullException(nameof(twin));
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
            ? new Twin(new IoTHubTwin(obj))
            : throw new ArgumentException("A twin document must be a JSON object.", nameof(json));
    }

    /// <summary>The device id.</summary>
    public string DeviceId => _twin.DeviceId;

    /// <summary>The module id of a module twin; null for a device twin.</summary>
    public string? ModuleId => _twin.ModuleId;

    /// <summary>The twin's etag; piped into a write it makes the write conditional (If-Match).</summary>
    public string? ETag => _twin.ETag;

    /// <summary>The device (or module) identity's etag mirrored into the twin (not the twin's etag).</summary>
    public string? DeviceETag => _twin.DeviceEtag;

    /// <summary>The twin version.</summary>
    public long? Version => _twin.Version;

    /// <summary><c>enabled</c> or <c>disabled</c>.</summary>
    public string? Status => _twin.Status;

    /// <summary>Why the device is disabled, if given.</summary>
    public string? StatusReason => _twin.StatusReason;

    /// <summary>When the status last changed (UTC); null when never.</summary>
    public DateTimeOffset? StatusUpdateTime => HubTime.Parse(_twin.StatusUpdateTime);

    /// <summary><c>Connected</c> or <c>Disconnected</c>.</summary>
    public string? ConnectionState => _twin.ConnectionState;

    /// <summary>The device's last activity (UTC); null when it has never been active.</summary>
    public DateTimeOffset? LastActivityTime => HubTime.Parse(_twin.LastActivityTime);

    /// <summary>Cloud-to-device messages queued for the device.</summary>
    public long? CloudToDeviceMessageCount => _twin.CloudToDeviceMessageCount;

    /// <summary><c>sas</c>, <c>selfSigned</c>, <c>certificateAuthority</c> or <c>none</c>.</summary>
    public string? AuthenticationType => _twin.AuthenticationType;

    /// <summary>The X.509 thumbprints (primary/secondary) as an object, or null.</summary>
    public object? X509Thumbprint => _x509Thumbprint ??= PSObjectJson.ToSection(_twin.Json["x509Thumbprint"]);

    /// <summary>The Plug and Play model id (empty when unset).</summary>
    public string? ModelId => _twin.ModelId;

    /// <summary>Whether the device is an IoT Edge device.</summary>
    public bool IsEdgeDevice => _twin.IsEdge;

    /// <summary>The device scope (edge hierarchies).</summary>
    public string? DeviceScope => _twin.DeviceScope;

    /// <summary>The parent scopes (edge hierarchies); as text, a JSON array.</summary>
    public IReadOnlyList<string> ParentScopes => _parentScopes ??= new JsonTextList(_twin.ParentScopes.ToArray());

    /// <summary>Automatic-configuration state per configuration id, or null.</summary>
    public object? Configurations => _configurations ??= PSObjectJson.ToSection(_twin.Json["configurations"]);

    /// <summary>The tags as a PSCustomObject.</summary>
    public object Tags => _tags ??= ToObject(_twin.Tags);

    /// <summary>The desired properties as a PSCustomObject, without <c>$metadata</c> and <c>$version</c>.</summary>
    public object Desired => _desired ??= ToObject(_twin.Desired);

    /// <summary>The reported properties as a PSCustomObject, without <c>$metadata</c> and <c>$version</c>.</summary>
    public object Reported => _reported ??= ToObject(_twin.Reported);

    /// <summary>The desired properties' <c>$version</c>.</summary>
    public long? DesiredVersion => _twin.DesiredVersion;

    /// <summary>The reported properties' <c>$version</c>.</summary>
    public long? ReportedVersion => _twin.ReportedVersion;

    /// <summary>
    /// The twin's <c>properties</c> as the hub sends them: <c>Desired</c> and <c>Reported</c>, each with its
    /// <c>$metadata</c> and <c>$version</c> (<c>$twin.Properties.Desired.x</c>, <c>$twin.Properties.Reported.'$version'</c>).
    /// </summary>
    public object Properties => _properties ??= PSObjectJson.ToSection(_twin.Json["properties"] as JsonObject ?? new JsonObject
    {
        ["desired"] = new JsonObject(),
        ["reported"] = new JsonObject(),
    })!;

    /// <summary>The twin as the client read it.</summary>
    internal IoTHubTwin Source => _twin;

    /// <summary>The twin document as the hub sent it.</summary>
    internal JsonObject Document => _twin.Json;

    /// <summary>The raw twin document as the hub sent it (compact JSON, with <c>$metadata</c>).</summary>
    public string ToJson() => _twin.Json.ToJsonString();

    /// <summary>The raw twin document as JSON, indented when <paramref name="indented"/>.</summary>
    public string ToJson(bool indented) => _twin.Json.ToJsonString(new JsonSerializerOptions { WriteIndented = indented });

    /// <summary>The <c>$metadata</c> of the desired properties (last-updated times and versions) as an object.</summary>
    public object? GetDesiredMetadata() => PSObjectJson.ToPowerShell(_twin.Desired["$metadata"]);

    /// <summary>The <c>$metadata</c> of the reported properties (last-updated times) as an object.</summary>
    public object? GetReportedMetadata() => PSObjectJson.ToPowerShell(_twin.Reported["$metadata"]);

    /// <summary><c>deviceId</c>, or <c>deviceId/moduleId</c> for a module twin.</summary>
    public override string ToString() => ModuleId is null ? DeviceId : DeviceId + "/" + ModuleId;

    /// <summary>Wraps the twin for output with the <c>TwinPS.Twin</c> type name first.</summary>
    internal PSObject ToPSObject() => PSOutput.Typed(this, TypeName);

    private static PSObject ToObject(JsonObject section) => PSObjectJson.ToSection(TwinPatch.WithoutReadOnly(section))!;
}
