using System.Management.Automation;
using TwinPS.Internal;
using TwinPS.Models;

namespace TwinPS.Commands;

/// <summary>
/// <para type="synopsis">Disconnects device sessions opened by Connect-IoTDevice.</para>
/// <para type="description">Sends an MQTT DISCONNECT, stops reconnecting and ends any Wait-IoTTwinDesired on the session.</para>
/// </summary>
[Cmdlet(VerbsCommunications.Disconnect, "IoTDevice", DefaultParameterSetName = SessionSet)]
[OutputType(typeof(void))]
public sealed class DisconnectIoTDeviceCommand : DeviceSessionCommandBase
{
    private const string SessionSet = "Session";
    private const string AllSet = "All";

    /// <summary>Disconnect every open device session.</summary>
    [Parameter(Mandatory = true, ParameterSetName = AllSet)]
    public SwitchParameter All { get; set; }

    /// <inheritdoc/>
    protected override async Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        var sessions = All.IsPresent ? DeviceSessions.All : ResolveSessions();
        foreach (var session in sessions)
        {
            WriteVerboseSafe($"Disconnecting '{session.DeviceId}{(session.ModuleId is null ? string.Empty : "/" + session.ModuleId)}'.");
            await session.CloseAsync(cancellationToken).ConfigureAwait(false);
        }
    }
}
