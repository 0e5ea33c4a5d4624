using System.Management.Automation;
using TwinPS.Internal;
using TwinPS.Models;

namespace TwinPS.Commands;

/// <summary>Get-IoTHubConnection: the connection data cmdlets use when no -Connection is given.</summary>
[Cmdlet(VerbsCommon.Get, "IoTHubConnection")]
[OutputType(typeof(IoTHubConnection))]
public sealed class GetIoTHubConnectionCommand : PSCmdlet
{
    /// <inheritdoc />
    protected override void EndProcessing()
    {
        IoTHubConnection? current = ConnectionResolver.GetDefault(this);
        if (current is not null)
        {
            WriteObject(current);
            return;
        }

        IoTHubConnection? fromEnvironment = ConnectionResolver.GetFromEnvironment(this, out string? error);
        if (fromEnvironment is not null)
        {
            WriteVerbose($"No session default; using {ConnectionResolver.EnvironmentVariableName}.");
            WriteObject(fromEnvironment);
        }
        else if (error is not null)
        {
            WriteError(ErrorRecords.InvalidInput(ConnectionResolver.InvalidEnvironmentErrorId, error, ConnectionResolver.EnvironmentVariableName));
        }
        else
        {
            WriteVerbose("Not connected: run Connect-IoTHub or set IOTHUB_CONNECTION_STRING.");
        }
    }
}
