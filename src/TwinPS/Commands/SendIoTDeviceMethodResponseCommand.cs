using System.Management.Automation;
using System.Text.Json.Nodes;
using TwinPS.Internal;
using TwinPS.Models;

namespace TwinPS.Commands;

/// <summary>
/// <para type="synopsis">Answers a direct-method call a device session received.</para>
/// <para type="description">Sends -Status and -Payload as the device's answer to a call from Wait-IoTDeviceMethod (or
/// the session's MethodCalled event). The caller receives them as the Status and Payload of its result. An answer after
/// the caller's response timeout is ignored by the hub.</para>
/// </summary>
[Cmdlet(VerbsCommunications.Send, "IoTDeviceMethodResponse", DefaultParameterSetName = CallSet)]
[OutputType(typeof(void))]
public sealed class SendIoTDeviceMethodResponseCommand : DeviceSessionCommandBase
{
    private const string CallSet = "Call";
    private const string RequestIdSet = "RequestId";

    /// <summary>The call to answer (from Wait-IoTDeviceMethod or $Event.SourceEventArgs).</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ParameterSetName = CallSet)]
    [ValidateNotNull]
    public DeviceMethodCall Call { get; set; } = null!;

    /// <summary>The request id of the call (with -Session), when the call object is not at hand.</summary>
    [Parameter(Mandatory = true, ParameterSetName = RequestIdSet)]
    [ValidateNotNullOrEmpty]
    public string RequestId { get; set; } = string.Empty;

    /// <summary>The status the caller sees (default 200).</summary>
    [Parameter]
    [ValidateRange(0, int.MaxValue)]
    public int Status { get; set; } = 200;

    /// <summary>The answer: a hashtable, PSCustomObject, array, scalar or JSON text (default: none, JSON null).</summary>
    [Parameter(Position = 1)]
    [AllowNull]
    public object? Payload { get; set; }

    /// <inheritdoc/>
    protected override async Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        DeviceSession session;
        string requestId;
        if (ParameterSetName == CallSet)
        {
            session = Call.Session;
            requestId = Call.RequestId;
            if (Call.Answered)
            {
                WriteWarningSafe($"The call {Call} was answered already; the hub keeps only the first answer.");
            }
        }
        else
        {
            var sessions = ResolveSessions();
            if (sessions.Count != 1)
            {
                throw new TerminatingErrorException(ErrorRecords.InvalidInput("AmbiguousDeviceSession",
                    "With -RequestId, give exactly one session (-Session).", null));
            }

            session = sessions[0];
            requestId = RequestId;
        }

        JsonNode? payload;
        try
        {
            payload = PSObjectJson.FromPowerShell(Payload);
        }
        catch (PSObjectJsonException ex)
        {
            WriteErrorSafe(ErrorRecords.FromException(ex, session.DeviceId, session.ModuleId));
            return;
        }

        try
        {
            await session.Client.SendMethodResponseAsync(requestId, Status, payload, cancellationToken).ConfigureAwait(false);
            if (ParameterSetName == CallSet)
            {
                Call.MarkAnswered();
            }

            WriteVerboseSafe($"Answered {requestId} on '{ErrorRecords.Target(session.DeviceId, session.ModuleId)}' with status {Status}.");
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            WriteErrorSafe(ErrorFor(ex, session));
        }
    }
}
