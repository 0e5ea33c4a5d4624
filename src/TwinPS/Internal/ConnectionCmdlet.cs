using System.Management.Automation;
using TwinPS.Client;
using TwinPS.Models;

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
        return Task.CompletedTask;
    }

    /// <summary>Runs one device's work; a failure becomes a non-terminating error targeted at the device.</summary>
    internal Task RunDeviceAsync(string deviceId, Func<Task> work) => RunModuleAsync(deviceId, null, work);

    /// <summary>Runs one device's or module's work; a failure becomes a non-terminating error targeted at it.</summary>
    internal async Task RunModuleAsync(string deviceId, string? moduleId, Func<Task> work)
    {
        try
        {
            await work().ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (CancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex) when (ex is not PipelineStoppedException)
        {
            ErrorRecord record = ErrorRecords.FromException(ex, deviceId, moduleId);
            if (ex is IoTHubServiceException { Status: 401 or 403 } or IoTHubServiceException { ErrorCode: IoTHubServiceException.ConnectionErrorCode })
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
