using System.Management.Automation;
using TwinPS.Internal;
using TwinPS.Models;

namespace TwinPS.Commands;

/// <summary>
/// Shared shape of the device-side cmdlets that act on sessions from <c>Connect-IoTDevice</c>: <c>-Session</c> (by
/// value from the pipeline), defaulting to the only open session.
/// </summary>
public abstract class DeviceSessionCommandBase : AsyncCmdlet
{
    /// <summary>The device session(s) from Connect-IoTDevice; when omitted, the only open session is used.</summary>
    [Parameter(ValueFromPipeline = true)]
    [ValidateNotNull]
    public DeviceSession[]? Session { get; set; }

    /// <summary>The sessions given, or the only open one; throws a terminating error when there is none or several.</summary>
    protected IReadOnlyList<DeviceSession> ResolveSessions()
    {
        if (Session is { Length: > 0 })
        {
            return Session;
        }

        var open = DeviceSessions.All;
        return open.Count switch
        {
            1 => open,
            0 => throw new TerminatingErrorException(ErrorRecords.Create(
                new InvalidOperationException("There is no open device session."), "NoDeviceSession", ErrorCategory.ConnectionError, null,
                "There is no open device session.", "Run Connect-IoTDevice first and pass its result with -Session (or through the pipeline).")),
            _ => throw new TerminatingErrorException(ErrorRecords.Create(
                new InvalidOperationException("Several device sessions are open."), "AmbiguousDeviceSession", ErrorCategory.InvalidArgument, null,
                $"{open.Count} device sessions are open ({string.Join(", ", open.Select(s => s.DeviceId))}); say which one with -Session.",
                "Pass the session from Connect-IoTDevice with -Session or through the pipeline.")),
        };
    }

    /// <summary>A non-terminating error for a session that is closed.</summary>
    protected static ErrorRecord SessionClosed(DeviceSession session) => ErrorRecords.Create(
        new InvalidOperationException($"The device session of '{session.DeviceId}' is closed."), "DeviceSessionClosed", ErrorCategory.ConnectionError,
        ErrorRecords.Target(session.DeviceId, session.ModuleId),
        $"The device session of '{ErrorRecords.Target(session.DeviceId, session.ModuleId)}' is closed ({session.LastStatusReason ?? "disconnected"}).",
        "Run Connect-IoTDevice again.");

    /// <summary>Maps a failure of an operation on <paramref name="session"/>.</summary>
    protected static ErrorRecord ErrorFor(Exception exception, DeviceSession session) =>
        exception is ObjectDisposedException ? SessionClosed(session) : ErrorRecords.FromException(exception, session.DeviceId, session.ModuleId);
}
