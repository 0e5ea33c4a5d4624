using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace TwinPS.Client;

/// <summary>How a device authenticates (wire values <c>sas</c>, <c>selfSigned</c>, <c>certificateAuthority</c>, <c>none</c>).</summary>
public enum DeviceAuthenticationType
{
    /// <summary>Symmetric keys (<c>sas</c>).</summary>
    Sas,

    /// <summary>Self-signed X.509 certificates identified by thumbprint (<c>selfSigned</c>).</summary>
    SelfSigned,

    /// <summary>X.509 certificates signed by a CA registered with the hub (<c>certificateAuthority</c>).</summary>
    CertificateAuthority,

    /// <summary>No authentication (<c>none</c>); rejected by the hub for devices.</summary>
    None,
}

/// <summary>
/// A device identity in the hub's registry. The symmetric keys are held privately: they are not properties
/// (so they never show up in formatted output, JSON conversion or <see cref="ToString"/>), are removed from <see cref="Json"/>,
/// and are read only by callers that ask (<see cref="GetPrimaryKey"/>, <see cref="GetSecondaryKey"/>).
/// </summary>
public sealed class DeviceIdentity
{
    private string? _primaryKey;
    private string? _secondaryKey;
    private string _status = "enabled";

    /// <summary>A new identity to create: enabled, SAS authentication with hub-generated keys.</summary>
    public DeviceIdentity(string deviceId)
    {
        ArgumentException.ThrowIfNullOrEmpty(deviceId);
        DeviceId = deviceId;
        Json = new JsonObject { ["deviceId"] = deviceId };
    }

    private DeviceIdentity(JsonObject json, string deviceId)
    {
        DeviceId = deviceId;
        Json = json;
    }

    /// <summary>Reads a device document as the hub sends it; the keys move out of <see cref="Json"/> into private storage.</summary>
    /// <exception cref="ArgumentException">No string <c>deviceId</c>.</exception>
    public static DeviceIdentity FromJson(JsonObject json)
    {
        ArgumentNullException.ThrowIfNull(json);
        var copy = (JsonObject)json.DeepClone();
        var id = JsonFields.GetString(copy, "deviceId")
            ?? throw new ArgumentException("A device document must have a string 'deviceId'.", nameof(json));
        var device = new DeviceIdentity(copy, id)
        {
            ETag = JsonFields.GetString(copy, "etag"),
            GenerationId = JsonFields.GetString(copy, "generationId"),
            StatusReason = JsonFields.GetString(copy, "statusReason"),
            ConnectionState = JsonFields.GetString(copy, "connectionState"),
            ConnectionStateUpdatedTime = JsonFields.GetString(copy, "connectionStateUpdatedTime"),
            StatusUpdatedTime = JsonFields.GetString(copy, "statusUpdatedTime"),
            LastActivityTime = JsonFields.GetString(copy, "lastActivityTime"),
            CloudToDeviceMessageCount = (int?)JsonFields.GetInt64(copy, "cloudToDeviceMessageCount"),
            DeviceScope = JsonFields.GetString(copy, "deviceScope"),
            IsEdge = copy["capabilities"] is JsonObject caps && JsonFields.GetBool(caps, "iotEdge") == true,
        };
        device._status = JsonFields.GetString(copy, "status") ?? "enabled";
        var auth = IdentityAuthentication.TakeFrom(copy);
        device.AuthenticationType = auth.Type;
        (device._primaryKey, device._secondaryKey) = (auth.PrimaryKey, auth.SecondaryKey);
        (device.PrimaryThumbprint, device.SecondaryThumbprint) = (auth.PrimaryThumbprint, auth.SecondaryThumbprint);
        return device;
    }

    /// <summary>The device document as last received from the hub, without the symmetric keys.</summary>
    public JsonObject Json { get; }

    /// <summary>Device id (case-sensitive).</summary>
    public string DeviceId { get; }

    /// <summary>The identity's etag (unquoted); used by <see cref="IoTHubServiceClient.UpdateDeviceAsync"/> and delete.</summary>
    public string? ETag { get; set; }

    /// <summary>Generation id assigned by the hub (changes when an id is deleted and re-created).</summary>
    public string? GenerationId { get; private set; }

    /// <summary><c>enabled</c> (default) or <c>disabled</c>.</summary>
    /// <exception cref="ArgumentException">Any other value.</exception>
    public string Status
    {
        get => _status;
        set => _status = value switch
        {
            _ when string.Equals(value, "enabled", StringComparison.OrdinalIgnoreCase) => "enabled",
            _ when string.Equals(value, "disabled", StringComparison.OrdinalIgnoreCase) => "disabled",
            _ => throw new ArgumentException($"Status must be 'enabled' or 'disabled', not '{value}'.", nameof(value)),
        };
    }

    /// <summary>Why the status was set (≤ 128 characters).</summary>
    public string? StatusReason { get; set; }

    /// <summary><c>Connected</c> or <c>Disconnected</c> (read-only).</summary>
    public string? ConnectionState { get; private set; }

    /// <summary>When the connection state last changed, exactly as the hub wrote it.</summary>
    public string? ConnectionStateUpdatedTime { get; private set; }

    /// <summary>When the status last changed, exactly as the hub wrote it.</summary>
    public string? StatusUpdatedTime { get; private set; }

    /// <summary>Last activity time, exactly as the hub wrote it.</summary>
    public string? LastActivityTime { get; private set; }

    /// <summary>Queued cloud-to-device messages.</summary>
    public int? CloudToDeviceMessageCount { get; private set; }

    /// <summary>Edge scope, when the hub set one.</summary>
    public string? DeviceScope { get; private set; }

    /// <summary>How the device authenticates (default <see cref="DeviceAuthenticationType.Sas"/>).</summary>
    public DeviceAuthenticationType AuthenticationType { get; set; } = DeviceAuthenticationType.Sas;

    /// <summary>Primary X.509 thumbprint (40 or 64 hex characters, no separators) for <see cref="DeviceAuthenticationType.SelfSigned"/>.</summary>
    public string? PrimaryThumbprint { get; set; }

    /// <summary>Secondary X.509 thumbprint.</summary>
    public string? SecondaryThumbprint { get; set; }

    /// <summary>Whether the device is an IoT Edge device (<c>capabilities.iotEdge</c>).</summary>
    public bool IsEdge { get; set; }

    /// <summary>Whether symmetric keys are known (given by the caller or returned by the hub).</summary>
    public bool HasSymmetricKeys => _primaryKey is not null && _secondaryKey is not null;

    /// <summary>Sets both symmetric keys (base64 of 16–64 bytes; validated when sent). Both or neither.</summary>
    public void SetSymmetricKeys(string primaryKey, string secondaryKey)
    {
        ArgumentException.ThrowIfNullOrEmpty(primaryKey);
        ArgumentException.ThrowIfNullOrEmpty(secondaryKey);
        _primaryKey = primaryKey;
        _secondaryKey = secondaryKey;
        AuthenticationType = DeviceAuthenticationType.Sas;
    }

    /// <summary>The primary symmetric key. This reveals a secret: call it only where the user asked for it.</summary>
    public string? GetPrimaryKey() => _primaryKey;

    /// <summary>The secondary symmetric key. This reveals a secret: call it only where the user asked for it.</summary>
    public string? GetSecondaryKey() => _secondaryKey;

    /// <summary>The wire value of an authentication type.</summary>
    public static string ToWireValue(DeviceAuthenticationType type) => type switch
    {
        DeviceAuthenticationType.Sas => "sas",
        DeviceAuthenticationType.SelfSigned => "selfSigned",
        DeviceAuthenticationType.CertificateAuthority => "certificateAuthority",
        DeviceAuthenticationType.None => "none",
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "Unknown authentication type."),
    };

    /// <inheritdoc />
    public override string ToString() => string.Create(
        CultureInfo.InvariantCulture,
        $"Device {DeviceId} ({Status}, {ToWireValue(AuthenticationType)}{(IsEdge ? ", edge" : string.Empty)}, etag {ETag})");

    /// <summary>The body of a create or update PUT: the received document (keeps fields this model does not know) overlaid with this model's values.</summary>
    internal JsonObject ToRequestBody(bool includeETag)
    {
        var body = (JsonObject)Json.DeepClone();
        body["deviceId"] = DeviceId;
        if (includeETag && ETag is not null)
        {
            body["etag"] = ETag;
        }
        else
        {
            body.Remove("etag");
        }

        body["status"] = Status;
        if (StatusReason is null)
        {
            body.Remove("statusReason");
        }
        else
        {
            body["statusReason"] = StatusReason;
        }

        var auth = new JsonObject { ["type"] = ToWireValue(AuthenticationType) };
        switch (AuthenticationType)
        {
            case DeviceAuthenticationType.Sas when HasSymmetricKeys:
                auth["symmetricKey"] = new JsonObject { ["primaryKey"] = _primaryKey, ["secondaryKey"] = _secondaryKey };
                break;
            case DeviceAuthenticationType.Sas:
                // Empty keys ask the hub to generate them (what the official SDK sends on create).
                auth["symmetricKey"] = new JsonObject { ["primaryKey"] = string.Empty, ["secondaryKey"] = string.Empty };
                break;
            case DeviceAuthenticationType.SelfSigned:
                auth["x509Thumbprint"] = new JsonObject { ["primaryThumbprint"] = PrimaryThumbprint, ["secondaryThumbprint"] = SecondaryThumbprint };
                break;
        }

        body["authentication"] = auth;
        var caps = body["capabilities"] as JsonObject ?? new JsonObject();
        caps["iotEdge"] = IsEdge;
        body["capabilities"] = caps;
        return body;
    }

    internal static DeviceAuthenticationType ParseAuthenticationType(string? value) => value?.ToUpperInvariant() switch
    {
        "SELFSIGNED" => DeviceAuthenticationType.SelfSigned,
        "CERTIFICATEAUTHORITY" => DeviceAuthenticationType.CertificateAuthority,
        "NONE" => DeviceAuthenticationType.None,
        _ => DeviceAuthenticationType.Sas,
    };
}
