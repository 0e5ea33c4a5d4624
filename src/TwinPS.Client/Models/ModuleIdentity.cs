using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace TwinPS.Client;

/// <summary>
/// A module identity on a device. Like <see cref="DeviceIdentity"/>, its symmetric keys are held privately (not properties,
/// removed from <see cref="Json"/>, never in <see cref="ToString"/>) and read only by callers that ask.
/// </summary>
public sealed class ModuleIdentity
{
    private readonly IdentityAuthentication _auth;

    private ModuleIdentity(JsonObject json, string deviceId, string moduleId)
    {
        // The keys move out of the document here.
        _auth = IdentityAuthentication.TakeFrom(json);
        Json = json;
        DeviceId = deviceId;
        ModuleId = moduleId;
    }

    /// <summary>Reads a module document as the hub sends it; the keys move out of <see cref="Json"/>.</summary>
    /// <exception cref="ArgumentException">No string <c>deviceId</c> or <c>moduleId</c>.</exception>
    public static ModuleIdentity FromJson(JsonObject json)
    {
        ArgumentNullException.ThrowIfNull(json);
        var copy = (JsonObject)json.DeepClone();
        var deviceId = JsonFields.GetString(copy, "deviceId") ?? throw new ArgumentException("A module document must have a string 'deviceId'.", nameof(json));
        var moduleId = JsonFields.GetString(copy, "moduleId") ?? throw new ArgumentException("A module document must have a string 'moduleId'.", nameof(json));
        var module = new ModuleIdentity(copy, deviceId, moduleId)
        {
            ETag = JsonFields.GetString(copy, "etag"),
            GenerationId = JsonFields.GetString(copy, "generationId"),
            ManagedBy = JsonFields.GetString(copy, "managedBy"),
            ConnectionState = JsonFields.GetString(copy, "connectionState"),
            LastActivityTime = JsonFields.GetString(copy, "lastActivityTime"),
        };
        return module;
    }

    /// <summary>The module document as received, without the symmetric keys.</summary>
    public JsonObject Json { get; }

    /// <summary>The device id.</summary>
    public string DeviceId { get; }

    /// <summary>The module id.</summary>
    public string ModuleId { get; }

    /// <summary>The module identity's etag (unquoted).</summary>
    public string? ETag { get; private set; }

    /// <summary>Generation id assigned by the hub.</summary>
    public string? GenerationId { get; private set; }

    /// <summary><c>iotEdge</c> for system modules, else usually null.</summary>
    public string? ManagedBy { get; private set; }

    /// <summary><c>Connected</c> or <c>Disconnected</c>.</summary>
    public string? ConnectionState { get; private set; }

    /// <summary>Last activity time, exactly as the hub wrote it.</summary>
    public string? LastActivityTime { get; private set; }

    /// <summary>How the module authenticates.</summary>
    public DeviceAuthenticationType AuthenticationType => _auth.Type;

    /// <summary>Primary X.509 thumbprint, if any.</summary>
    public string? PrimaryThumbprint => _auth.PrimaryThumbprint;

    /// <summary>Secondary X.509 thumbprint, if any.</summary>
    public string? SecondaryThumbprint => _auth.SecondaryThumbprint;

    /// <summary>Whether symmetric keys are known.</summary>
    public bool HasSymmetricKeys => _auth.PrimaryKey is not null && _auth.SecondaryKey is not null;

    /// <summary>The primary symmetric key. This reveals a secret: call it only where the user asked for it.</summary>
    public string? GetPrimaryKey() => _auth.PrimaryKey;

    /// <summary>The secondary symmetric key. This reveals a secret: call it only where the user asked for it.</summary>
    public string? GetSecondaryKey() => _auth.SecondaryKey;

    /// <inheritdoc />
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"Module {DeviceId}/{ModuleId} (etag {ETag})");
}
