using System.Globalization;
using System.Management.Automation;
using TwinPS.Client;
using TwinPS.Completion;
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
    [ArgumentCompleter(typeof(DeviceIdCompleter))]
    public string[] DeviceId { get; set; } = [];

    /// <summary>A module of the device: build the module's connection string (for a module session).</summary>
    [Parameter(Position = 1, ValueFromPipelineByPropertyName = true)]
    [AllowNull]
    [AllowEmptyString]
    [ArgumentCompleter(typeof(ModuleIdCompleter))]
    public string? ModuleId { get; set; }

    /// <summary>Primary (default) or Secondary key.</summary>
    [Parameter]
    public DeviceKeyType KeyType { get; set; } = DeviceKeyType.Primary;

    /// <inheritdoc/>
    protected override async Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        // One at a time, so that the strings come out in the order of the ids.
        foreach (string deviceId in DeviceId)
        {
            if (!ValidateIds(deviceId))
            {
                continue;
            }

            string? moduleId = string.IsNullOrEmpty(ModuleId) ? null : ModuleId;
            await RunItemAsync(deviceId, moduleId, async () =>
            {
                string? connectionString;
                if (moduleId is null)
                {
                    DeviceIdentity device = await Client.GetDeviceAsync(deviceId, cancellationToken).ConfigureAwait(false);
                    connectionString = Build(device.DeviceId, null, device.AuthenticationType, device.GetPrimaryKey(), device.GetSecondaryKey());
                }
                else
                {
                    ModuleIdentity module = await Client.GetModuleAsync(deviceId, moduleId, cancellationToken).ConfigureAwait(false);
                    connectionString = Build(module.DeviceId, module.ModuleId, module.AuthenticationType, module.GetPrimaryKey(), module.GetSecondaryKey());
                }

                if (connectionString is not null)
                {
                    WriteObjectSafe(connectionString);
                }
            }).ConfigureAwait(false);
        }
    }

    private string? Build(string deviceId, string? moduleId, DeviceAuthenticationType authenticationType, string? primaryKey, string? secondaryKey)
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

        string identity = moduleId is null ? $"DeviceId={deviceId}" : $"DeviceId={deviceId};ModuleId={moduleId}";
        string text;
        if (authenticationType is DeviceAuthenticationType.SelfSigned or DeviceAuthenticationType.CertificateAuthority)
        {
            text = $"HostName={host};{identity};x509=true";
        }
        else
        {
            string? key = KeyType == DeviceKeyType.Secondary ? secondaryKey : primaryKey;
            if (key is null)
            {
                string what = moduleId is null ? $"Device '{deviceId}'" : $"Module '{deviceId}/{moduleId}'";
                string message = $"{what} has no {KeyType.ToString().ToLowerInvariant()} symmetric key.";
                WriteErrorSafe(ErrorRecords.Create(
                    new InvalidOperationException(message), "DeviceHasNoKey", ErrorCategory.InvalidData, ErrorRecords.Target(deviceId, moduleId), message,
                    "Use a device or module that authenticates with SAS keys."));
                return null;
            }

            text = $"HostName={host};{identity};SharedAccessKey={key}";
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
