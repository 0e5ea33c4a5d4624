using System.Management.Automation;
using TwinPS.Client;
using TwinPS.Client.Resilience;
using TwinPS.Protocol;
using TwinPS.Models;

namespace TwinPS.Internal;

/// <summary>
/// The one base of the cmdlets that talk to a hub's service API: <c>-Connection</c> and its resolution (explicit,
/// session default, IOTHUB_CONNECTION_STRING), the progress/verbose reporter of the connection, id checks before any
/// request, and per-item failure handling (non-terminating, target = the device or module id; authentication and
/// permission failures end the command because no other item could succeed either; a connection error after all retries
/// ends only its item).
/// </summary>
public abstract class HubCmdlet : AsyncCmdlet
{
    /// <summary>The hub connection; default: the session's (Connect-IoTHub) or IOTHUB_CONNECTION_STRING.</summary>
    [Parameter]
    [ValidateNotNull]
    public IoTHubConnection? Connection { get; set; }

    /// <summary>The resolved connection (set in BeginProcessing).</summary>
    internal IoTHubConnection HubConnection { get; private set; } = null!;

    /// <summary>The service client of <see cref="HubConnection"/>.</summary>
    internal IoTHubServiceClient Client => HubConnection.ServiceClient;

    /// <summary>Progress (done/total, rate, waiting on the hub's throttle) and verbose back-off/learned-rate lines; set in BeginProcessing.</summary>
    internal BulkReporter? Reporter { get; private set; }

    /// <summary>The throttle class whose waiting requests and learned pace the progress record shows.</summary>
    internal abstract ThrottleClass ReportedThrottleClass { get; }

    /// <summary>What the items are called in the progress status line ("twins", "devices").</summary>
    internal abstract string ReportedNoun { get; }

    /// <summary>Readable ShouldProcess target for a device on this hub.</summary>
    internal string DeviceTarget(string deviceId) => $"device '{deviceId}' on hub '{HubConnection.HostName}'";

    /// <inheritdoc/>
    protected override Task BeginProcessingAsync(CancellationToken cancellationToken)
    {
        HubConnection = ConnectionResolver.Resolve(this, Connection);
        string name = MyInvocation.MyCommand?.Name ?? GetType().Name;
        Reporter = new BulkReporter(this, HubConnection.ServiceClient, name, ReportedThrottleClass, name.Length + 0x7700) { Noun = ReportedNoun };
        return Task.CompletedTask;
    }

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

    /// <summary>
    /// Runs one item's work, turning its failure into a non-terminating error targeted at the device or module
    /// (authentication and permission failures end the command: no other item could succeed either; a connection error
    /// after all retries ends only its item).
    /// </summary>
    internal async Task RunItemAsync(string deviceId, string? moduleId, Func<Task> work)
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
            if (IsFatalForAllItems(ex))
            {
                ThrowTerminatingErrorSafe(record);
            }
            else
            {
                WriteErrorSafe(record);
            }
        }
    }

    /// <summary>
    /// Checks a device id (and a module id, system modules allowed) before any request; writes a non-terminating error
    /// and returns false when invalid.
    /// </summary>
    internal bool ValidateIds(string? deviceId, string? moduleId = null)
    {
        try
        {
            TwinPS.Protocol.IdentityRules.ValidateDeviceId(deviceId);
            if (moduleId is not null)
            {
                TwinPS.Protocol.IdentityRules.ValidateModuleId(moduleId, allowSystemModules: true);
            }

            return true;
        }
        catch (TwinPS.Protocol.IoTHubProtocolException ex)
        {
            WriteErrorSafe(ErrorRecords.FromException(ex, deviceId, moduleId));
            return false;
        }
    }

    /// <summary>Writes a twin (type name <c>TwinPS.Twin</c>) from any thread.</summary>
    internal void WriteTwinSafe(IoTHubTwin twin) => WriteObjectSafe(new Twin(twin).ToPSObject());

    /// <summary>Writes a device (type name <c>TwinPS.Device</c>) from any thread.</summary>
    internal void WriteDeviceSafe(DeviceIdentity device) => WriteObjectSafe(new Device(device, HubConnection.HostName).ToPSObject());

    // Only a refusal of the caller ends the command: no other item could succeed either. A connection that failed after
    // all retries fails that item only (the next one may well get through: a reset, a hub failing over).
    private static bool IsFatalForAllItems(Exception exception) => exception is IoTHubServiceException
    {
        Status: 401 or 403,
    };
}
