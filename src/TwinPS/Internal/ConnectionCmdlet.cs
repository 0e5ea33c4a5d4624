using System.Management.Automation;
using TwinPS.Client;
using TwinPS.Client.Resilience;
using TwinPS.Models;
using TwinPS.Protocol;

namespace TwinPS.Internal;

/// <summary>
/// Base of the device-identity cmdlets: <c>-Connection</c>, its resolution (explicit, session default,
/// IOTHUB_CONNECTION_STRING) and per-item failure handling (non-terminating, target = the device id; authentication,
/// permission and connection failures end the command because no other item could succeed either).
/// </summary>
public abstract class ConnectionCmdlet : AsyncCmdlet
{
    /// <summary>The hub connection; default: the session's (Connect-IoTHub) or IOTHUB_CONNECTION_STRING.</summary>
    [Parameter]
    [ValidateNotNull]
    public IoTHubConnection? Connection { get; set; }

    /// <summary>The resolved connection (set before the first record).</summary>
    internal IoTHubConnection HubConnection { get; private set; } = null!;

    /// <summary>The service client of <see cref="HubConnection"/>.</summary>
    internal IoTHubServiceClient Client => HubConnection.ServiceClient;

    /// <summary>Readable ShouldProcess target for a device on this hub.</summary>
    internal string DeviceTarget(string deviceId) => $"device '{deviceId}' on hub '{HubConnection.HostName}'";

    /// <inheritdoc/>
    protected override Task BeginProcessingAsync(CancellationToken cancellationToken)
    {
        HubConnection = ConnectionResolver.Resolve(this, Connection);
        Reporter = new BulkReporter(this, HubConnection.ServiceClient, MyInvocation.MyCommand?.Name ?? GetType().Name, ReportedThrottleClass,
            (MyInvocation.MyCommand?.Name ?? GetType().Name).Length + 0x7700) { Noun = "devices" };
        return Task.CompletedTask;
    }

    /// <summary>Progress (done/total, rate, waiting on the hub's throttle) and verbose back-off/learned-rate lines; set in BeginProcessing.</summary>
    internal BulkReporter? Reporter { get; private set; }

    /// <summary>The throttle class whose waiting requests and learned pace the progress record shows.</summary>
    internal virtual ThrottleClass ReportedThrottleClass => ThrottleClass.Registry;

    /// <summary>Counts the whole input when it is known before the first record (an -DeviceId array, not pipeline input).</summary>
    internal void ExpectItems(int count)
    {
        if (!MyInvocation.ExpectingInput)
        {
            Reporter?.AddExpected(count);
        }
    }

    /// <inheritdoc/>
    protected override Task EndProcessingAsync(CancellationToken cancellationToken)
    {
        Reporter?.Complete();
        return Task.CompletedTask;
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            Reporter?.Dispose();
        }

        base.Dispose(disposing);
    }

    /// <summary>Runs one device's work; a failure becomes a non-terminating error targeted at the device.</summary>
    internal Task RunDeviceAsync(string deviceId, Func<Task> work) => RunModuleAsync(deviceId, null, work);

    /// <summary>Runs one device's or module's work; a failure becomes a non-terminating error targeted at it.</summary>
    internal async Task RunModuleAsync(string deviceId, string? moduleId, Func<Task> work)
    {
        try
        {
            await work().ConfigureAwait(false);
            Reporter?.ItemDone();
        }
        catch (OperationCanceledException) when (CancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex) when (ex is not PipelineStoppedException)
        {
            Reporter?.ItemDone(failed: true);
            ErrorRecord record = ErrorRecords.FromException(ex, deviceId, moduleId);
            if (ex is IoTHubServiceException { Status: 401 or 403 })
            {
                ThrowTerminatingErrorSafe(record);
            }
            else
            {
                WriteErrorSafe(record);
            }
        }
    }

    /// <summary>Checks a device id before any request; writes a non-terminating error and returns false when invalid.</summary>
    internal bool ValidateDeviceId(string? deviceId)
    {
        try
        {
            TwinPS.Protocol.IdentityRules.ValidateDeviceId(deviceId);
            return true;
        }
        catch (TwinPS.Protocol.IoTHubProtocolException ex)
        {
            WriteErrorSafe(ErrorRecords.FromException(ex, deviceId, moduleId: null));
            return false;
        }
    }

    /// <summary>Writes a device (type name <c>TwinPS.Device</c>) from any thread.</summary>
    internal void WriteDeviceSafe(DeviceIdentity device) => WriteObjectSafe(new Device(device, HubConnection.HostName).ToPSObject());
}
