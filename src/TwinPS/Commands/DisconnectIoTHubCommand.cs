using System.Management.Automation;
using TwinPS.Internal;
using TwinPS.Models;

namespace TwinPS.Commands;

/// <summary>Disconnect-IoTHub: forgets the session default connection.</summary>
[Cmdlet(VerbsCommunications.Disconnect, "IoTHub")]
[OutputType(typeof(IoTHubConnection))]
public sealed class DisconnectIoTHubCommand : PSCmdlet
{
    /// <summary>Returns the connection that was forgotten.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    /// <inheritdoc />
    protected override void EndProcessing()
    {
        IoTHubConnection? current = ConnectionResolver.GetDefault(this);
        if (current is null)
        {
            WriteVerbose("There is no session default connection to forget.");
            return;
        }

        ConnectionResolver.SetDefault(this, null);
        WriteVerbose($"Forgot the session default connection to {current.HostName}.");
        if (PassThru)
        {
            WriteObject(current);
        }
    }
}
