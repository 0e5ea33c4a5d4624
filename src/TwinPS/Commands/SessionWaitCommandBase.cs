using System.Globalization;
using System.Management.Automation;
using System.Threading.Channels;
using TwinPS.Internal;
using TwinPS.Models;

namespace TwinPS.Commands;

/// <summary>
/// The device-side waits (Wait-IoTTwinDesired, Wait-IoTDeviceMethod): drain what the sessions received, in arrival order
/// across sessions, until <c>-Count</c> items were written, <c>-Timeout</c> seconds passed, every session closed, or Ctrl+C.
/// </summary>
/// <typeparam name="T">What a session receives (a desired patch, a method call).</typeparam>
public abstract class SessionWaitCommandBase<T> : DeviceSessionCommandBase
{
    private readonly List<DeviceSession> _sessions = [];
    private readonly SessionQueue<T> _queue;

    /// <summary>Waits on <paramref name="queue"/> of every session.</summary>
    private protected SessionWaitCommandBase(SessionQueue<T> queue)
    {
        _queue = queue;
    }

    /// <summary>Stop after this many items.</summary>
    [Parameter]
    [ValidateRange(1, int.MaxValue)]
    public int Count { get; set; }

    /// <summary>Stop after this many seconds (default: wait until -Count, Ctrl+C or the sessions close).</summary>
    [Parameter]
    [ValidateRange(0, int.MaxValue)]
    [Alias("TimeoutSec")]
    public int Timeout { get; set; }

    /// <summary>The sessions to drain, in the order given.</summary>
    private protected IReadOnlyList<DeviceSession> Sessions => _sessions;

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
            waits.Add((_queue.Pending(session).WaitToReadAsync(deadline.Token).AsTask(), session));
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

                while (written < wanted && _queue.Pending(session).TryRead(out var item))
                {
                    if (_queue.Skip?.Invoke(item) == true)
                    {
                        continue;
                    }

                    WriteObjectSafe(_queue.Output(item));
                    written++;
                }

                waits.Add((_queue.Pending(session).WaitToReadAsync(deadline.Token).AsTask(), session));
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // -Timeout elapsed.
            if (wanted != int.MaxValue && written < wanted)
            {
                var message = string.Create(CultureInfo.InvariantCulture, $"{written} of {wanted} {_queue.ItemsName} arrived within {Timeout} s.");
                WriteErrorSafe(ErrorRecords.Create(new TimeoutException(message), "WaitTimeout", ErrorCategory.OperationTimeout,
                    string.Join(",", _sessions.Select(s => ErrorRecords.Target(s.DeviceId, s.ModuleId))), message, _queue.TimeoutAdvice));
            }
        }
    }
}

/// <summary>
/// What a session wait drains: the items' name and the advice for a timeout (for the error), the session's queue of
/// received, unread items, the object written for an item, and which items to pass over (e.g. calls answered already).
/// </summary>
internal sealed record SessionQueue<T>(
    string ItemsName, string TimeoutAdvice, Func<DeviceSession, ChannelReader<T>> Pending, Func<T, PSObject> Output, Func<T, bool>? Skip = null);

/// <summary>The queues a device session fills: desired patches (Wait-IoTTwinDesired) and direct-method calls (Wait-IoTDeviceMethod).</summary>
internal static class SessionQueues
{
    public static readonly SessionQueue<DesiredPatch> DesiredPatches = new(
        "desired-property patches",
        "Wait longer (-Timeout), or check that the back end set desired properties (Get-IoTTwin) and that the session is Connected.",
        session => session.PendingPatches,
        patch => patch.ToPSObject());

    public static readonly SessionQueue<DeviceMethodCall> MethodCalls = new(
        "direct-method calls",
        "Wait longer (-Timeout), or check that the back end invoked the method (Invoke-IoTDeviceMethod) and that the session is Connected.",
        session => session.PendingMethodCalls,
        call => call.ToPSObject(),
        call => call.Answered); // answered already (e.g. by an event handler)
}
