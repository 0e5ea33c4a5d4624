using System.Management.Automation;
using System.Text.Json;
using TwinPS.Client;

namespace TwinPS.Models;

/// <summary>
/// A device identity of the hub's registry (PowerShell type name <c>TwinPS.Device</c>). The symmetric keys are not
/// properties: they never appear in formatted output, <c>ConvertTo-Json</c> or <see cref="ToString"/>; ask for them
/// with <see cref="GetPrimaryKey"/>/<see cref="GetSecondaryKey"/> or <c>Get-IoTDeviceConnectionString</c>.
/// Timestamps are <see cref="DateTimeOffset"/> values, null when never set (the hub writes 0001-01-01 for "never").
/// </summary>
public sealed class Device
{
    /// <summary>The PowerShell type name the views use.</summary>
    public const string TypeName = "TwinPS.Device";

    internal Device(DeviceIdentity identity, string hostName)
    {
        Identity = identity ?? throw new ArgumentNullException(nameof(identity));
        HostName = hostName;
    }

    /// <summary>The device id (case-sensitive).</summary>
    public string DeviceId => Identity.DeviceId;

    /// <summary><c>enabled</c> or <c>disabled</c>.</summary>
    public string Status => Identity.Status;

    /// <summary>Why the status was set.</summary>
    public string? StatusReason => Identity.StatusReason;

    /// <summary><c>Connected</c> or <c>Disconnected</c>.</summary>
    public string? ConnectionState => Identity.ConnectionState;

    /// <summary>When the device was last active (UTC); null when never.</summary>
    public DateTimeOffset? LastActivityTime => HubTime.Parse(Identity.LastActivityTime);

    /// <summary>How the device authenticates: <c>sas</c>, <c>selfSigned</c>, <c>certificateAuthority</c> or <c>none</c>.</summary>
    public string AuthenticationType => DeviceIdentity.ToWireValue(Identity.AuthenticationType);

    /// <summary>The identity's ETag (not the twin's); <c>Remove-IoTDevice</c> and <c>Set-IoTDevice</c> send it as If-Match.</summary>
    public string? ETag => Identity.ETag;

    /// <summary>Whether this is an IoT Edge device.</summary>
    public bool IsEdge => Identity.IsEdge;

    /// <summary>The primary X.509 thumbprint (X.509 devices).</summary>
    public string? PrimaryThumbprint => Identity.PrimaryThumbprint;

    /// <summary>The secondary X.509 thumbprint (X.509 devices).</summary>
    public string? SecondaryThumbprint => Identity.SecondaryThumbprint;

    /// <summary>The generation id (changes when an id is deleted and created again).</summary>
    public string? GenerationId => Identity.GenerationId;

    /// <summary>When the status last changed (UTC); null when never.</summary>
    public DateTimeOffset? StatusUpdatedTime => HubTime.Parse(Identity.StatusUpdatedTime);

    /// <summary>When the connection state last changed (UTC); null when never.</summary>
    public DateTimeOffset? ConnectionStateUpdatedTime => HubTime.Parse(Identity.ConnectionStateUpdatedTime);

    /// <summary>Queued cloud-to-device messages.</summary>
    public int? CloudToDeviceMessageCount => Identity.CloudToDeviceMessageCount;

    /// <summary>The edge scope, when the hub set one.</summary>
    public string? DeviceScope => Identity.DeviceScope;

    /// <summary>The hub (host name) the device was read from.</summary>
    public string HostName { get; }

    internal DeviceIdentity Identity { get; }

    /// <summary>The primary symmetric key (a secret; null for X.509 devices or devices read without keys).</summary>
    public string? GetPrimaryKey() => Identity.GetPrimaryKey();

    /// <summary>The secondary symmetric key (a secret; null for X.509 devices or devices read without keys).</summary>
    public string? GetSecondaryKey() => Identity.GetSecondaryKey();

    /// <summary>The device document as the hub sent it, without the symmetric keys.</summary>
    public string ToJson() => Identity.Json.ToJsonString(new JsonSerializerOptions { WriteIndented = true });

    /// <summary>The device id.</summary>
    public override string ToString() => DeviceId;

    /// <summary>Wraps the device for output with the <c>TwinPS.Device</c> type name first.</summary>
    internal PSObject ToPSObject() => PSOutput.Typed(this, TypeName);
}
