using System.Globalization;
using System.Management.Automation;
using TwinPS.Internal;
using TwinPS.Models;

namespace TwinPS.Commands;

/// <summary>
/// <para type="synopsis">Emits direct-method calls as device sessions receive them.</para>
/// <para type="description">Writes a TwinPS.DeviceMethodCall for each call, starting with calls the session received and
/// nobody has answered yet, until -Count calls were written, -Timeout seconds passed, every session closed, or Ctrl+C.
/// Answer each with Send-IoTDeviceMethodResponse.</para>
/// </summary>
[Cmdlet(VerbsLifecycle.Wait, "IoTDeviceMethod")]
[OutputType(typeof(DeviceMethodCall))]
public sealed class WaitIoTDeviceMethodCommand : DeviceSessionCommandBase
{
    private readonly List<DeviceSession> _sessions = [];

    /// <summary>Stop after this many calls.</summary>
    [Parameter]
    [ValidateRange(1, int.MaxValue)]
    public int Count { get; set; }

    /// <summary>Stop after this many seconds (default: wait until -Count, Ctrl+C or the sessions close).</summary>
    [Parameter]
    [ValidateRange(0, int.MaxValue)]
    [Alias("TimeoutSec")]
    public int Timeout { get; set; }

    /// <inheritdoc/>
    protected override Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        foreach (var session in ResolveSessions())
        {
            if (!_sessions.Contains(session))
            {
                _sessions.Add(session);
            }
        }

        return Task.CompletedTask;
    }

    /// <inheritdoc/>
    protected override async Task EndProcessingAsync(CancellationToken cancellationToken)
    {
        var wanted = MyInvocation.BoundParameters.ContainsKey(nameof(Count)) ? Count : int.MaxValue;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (MyInvocation.BoundParameters.ContainsKey(nameof(Timeout)))
        {
            deadline.CancelAfter(TimeSpan.FromSeconds(Timeout));
        }

        var written = 0;
        // A list, not a dictionary keyed by task: a wait that completes at once is the one cached Task<bool>(true),
        // shared by every session that already holds items.
        var waits = new List<(Task<bool> Ready, DeviceSession Session)>();
        foreach (var session in _sessions)
        {
            waits.Add((session.PendingMethodCalls.WaitToReadAsync(deadline.Token).AsTask(), session));
        }

        try
        {
            while (written < wanted && waits.Count > 0)
            {
                var ready = await Task.WhenAny(waits.Select(w => w.Ready)).ConfigureAwait(false);
                var index = waits.FindIndex(w => ReferenceEquals(w.Ready, ready));
                var session = waits[index].Session;
                waits.RemoveAt(index);
                if (!await ready.ConfigureAwait(false))
                {
                    WriteErrorSafe(SessionClosed(session));
                    continue;
                }

                while (written < wanted && session.PendingMethodCalls.TryRead(out var call))
                {
                    if (call.Answered)
                    {
                        continue; // answered already (e.g. by an event handler)
                    }

                    WriteObjectSafe(call.ToPSObject());
                    written++;
                }

                waits.Add((session.PendingMethodCalls.WaitToReadAsync(deadline.Token).AsTask(), session));
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // -Timeout elapsed.
            if (wanted != int.MaxValue && written < wanted)
            {
                var message = string.Create(CultureInfo.InvariantCulture, $"{written} of {wanted} direct-method calls arrived within {Timeout} s.");
                WriteErrorSafe(ErrorRecords.Create(new TimeoutException(message), "WaitTimeout", ErrorCategory.OperationTimeout,
                    string.Join(",", _sessions.Select(s => ErrorRecords.Target(s.DeviceId, s.ModuleId))), message,
                    "Wait longer (-Timeout), or check that the back end invoked the method (Invoke-IoTDeviceMethod) and that the session is Connected."));
            }
        }
    }
}
