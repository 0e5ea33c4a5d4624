using System.Management.Automation;
using TwinPS.Client;
using TwinPS.Client.Resilience;
using TwinPS.Internal;
using TwinPS.Models;
using TwinPS.Protocol;

namespace TwinPS.Commands;

/// <summary>
/// Shared shape of the twin cmdlets: <c>-Connection</c>, <c>-ThrottleLimit</c>, the resolved
/// service client, and per-item error handling (non-terminating, target = the device id).
/// </summary>
public abstract class TwinCommandBase : AsyncCmdlet
{
    /// <summary>Default number of concurrent requests.</summary>
    public const int DefaultThrottleLimit = 8;

    /// <summary>Largest allowed -ThrottleLimit.</summary>
    public const int MaxThrottleLimit = 64;

    /// <summary>The hub connection; default: the session's (Connect-IoTHub) or IOTHUB_CONNECTION_STRING.</summary>
    [Parameter]
    [ValidateNotNull]
    public IoTHubConnection? Connection { get; set; }

    /// <summary>The resolved connection (set in BeginProcessing).</summary>
    internal IoTHubConnection HubConnection { get; private set; } = null!;

    /// <summary>The service client of <see cref="HubConnection"/>.</summary>
    internal IoTHubServiceClient Client => HubConnection.ServiceClient;

    /// <inheritdoc/>
    protected override Task BeginProcessingAsync(CancellationToken cancellationToken)
    {
        HubConnection = ConnectionResolver.Resolve(this, Connection);
        Reporter = new BulkReporter(this, HubConnection.ServiceClient, MyInvocation.MyCommand?.Name ?? GetType().Name, ReportedThrottleClass,
            (MyInvocation.MyCommand?.Name ?? GetType().Name).Length + 0x7700) { Noun = "twins" };
        return Task.CompletedTask;
    }

    /// <summary>Progress (done/total, rate, waiting on the hub's throttle) and verbose back-off/learned-rate lines; set in BeginProcessing.</summary>
    internal BulkReporter? Reporter { get; private set; }

    /// <summary>The throttle class whose waiting requests and learned pace the progress record shows.</summary>
    internal virtual ThrottleClass ReportedThrottleClass => ThrottleClass.TwinUpdate;

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
    /// Runs one item's work, turning its failure into a non-terminating error targeted at the
    /// device (authentication and permission failures end the command: no other item could
    /// succeed either; a connection error after all retries ends only its item).
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

    /// <summary>Validates ids before any request; writes a non-terminating error and returns false when invalid.</summary>
    internal bool ValidateIds(string? deviceId, string? moduleId)
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

    /// <summary>Writes a twin (with the TwinPS.Twin type name) from any thread.</summary>
    internal void WriteTwinSafe(IoTHubTwin twin) => WriteObjectSafe(new Twin(twin).ToPSObject());

    /// <inheritdoc/>
    protected override ErrorRecord CreateTerminatingErrorRecord(Exception exception) =>
        ErrorRecords.FromException(exception, deviceId: null, moduleId: null);

    // Only a refusal of the caller ends the command: no other item could succeed either. A connection that failed after
    // all retries fails that item only (the next one may well get through: a reset, a hub failing over).
    private static bool IsFatalForAllItems(Exception exception) => exception is IoTHubServiceException
    {
        Status: 401 or 403,
    };

    /// <summary>Empty module ids (e.g. from a device twin piped by property name) mean "device twin".</summary>
    internal static string? NormalizeModuleId(string? moduleId) => string.IsNullOrEmpty(moduleId) ? null : moduleId;
}
