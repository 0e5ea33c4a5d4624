using System.Globalization;
using System.Management.Automation;
using TwinPS.Client;
using TwinPS.Internal;
using TwinPS.Models;
using TwinPS.Protocol;

namespace TwinPS.Commands;

/// <summary>Which of a device's two symmetric keys to use.</summary>
public enum DeviceKeyType
{
    /// <summary>The primary key.</summary>
    Primary,

    /// <summary>The secondary key.</summary>
    Secondary,
}

/// <summary>Get-IoTDeviceConnectionString: the connection string a device (or Microsoft's device SDK) connects with.</summary>
[Cmdlet(VerbsCommon.Get, "IoTDeviceConnectionString")]
[OutputType(typeof(string))]
public sealed class GetIoTDeviceConnectionStringCommand : ConnectionCmdlet
{
    private const int StandardMqttPort = 8883;
    private bool _warnedAboutPort;

    /// <summary>The device id(s).</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string[] DeviceId { get; set; } = [];

    /// <summary>Primary (default) or Secondary key.</summary>
    [Parameter]
    public DeviceKeyType KeyType { get; set; } = DeviceKeyType.Primary;

    /// <inheritdoc/>
    protected override async Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        // One at a time, so that the strings come out in the order of the ids.
        foreach (string deviceId in DeviceId)
        {
            if (!ValidateDeviceId(deviceId))
            {
                continue;
            }

            await RunDeviceAsync(deviceId, async () =>
            {
                DeviceIdentity device = await Client.GetDeviceAsync(deviceId, cancellationToken).ConfigureAwait(false);
                if (Build(device) is { } connectionString)
                {
                    WriteObjectSafe(connectionString);
                }
            }).ConfigureAwait(false);
        }
    }

    private string? Build(DeviceIdentity device)
    {
        // Devices speak MQTT: the host name never carries the HTTPS port (it would leak into the SAS resource and the
        // MQTT user name); a non-standard MQTT port goes into GatewayHostName, which device SDKs connect to.
        string host = HubConnection.HostName;
        int colon = host.LastIndexOf(':');
        bool hadPort = colon > 0 && !host.EndsWith(']');
        if (hadPort)
        {
            host = host[..colon];
        }

        string? gateway = HubConnection.MqttPort is int port && port != StandardMqttPort
            ? string.Create(CultureInfo.InvariantCulture, $"{host}:{port}")
            : null;
        if (hadPort && HubConnection.MqttPort is null && !_warnedAboutPort)
        {
            _warnedAboutPort = true;
            WriteWarningSafe($"The connection to {HubConnection.HostName} does not know the hub's MQTT port; the connection string assumes {StandardMqttPort}. Connect with -MqttPort (or pipe Start-IoTHubEmulator to Connect-IoTHub) to include it.");
        }

        string text;
        if (device.AuthenticationType is DeviceAuthenticationType.SelfSigned or DeviceAuthenticationType.CertificateAuthority)
        {
            text = $"HostName={host};DeviceId={device.DeviceId};x509=true";
        }
        else
        {
            string? key = KeyType == DeviceKeyType.Secondary ? device.GetSecondaryKey() : device.GetPrimaryKey();
            if (key is null)
            {
                string message = $"Device '{device.DeviceId}' has no {KeyType.ToString().ToLowerInvariant()} symmetric key.";
                WriteErrorSafe(ErrorRecords.Create(
                    new InvalidOperationException(message), "DeviceHasNoKey", ErrorCategory.InvalidData, device.DeviceId, message,
                    "Use a device that authenticates with SAS keys."));
                return null;
            }

            text = $"HostName={host};DeviceId={device.DeviceId};SharedAccessKey={key}";
        }

        if (gateway is not null)
        {
            text += ";GatewayHostName=" + gateway;
        }

        // The result must parse as a device connection string (a self-check; the message never contains the key).
        IoTHubConnectionString.Parse(text);
        return text;
    }
}
