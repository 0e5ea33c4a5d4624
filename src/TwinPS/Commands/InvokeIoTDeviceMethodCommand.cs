using System.Management.Automation;
using TwinPS.Client;
using TwinPS.Completion;
using TwinPS.Internal;
using TwinPS.Models;
using TwinPS.Protocol;

namespace TwinPS.Commands;

/// <summary>
/// <para type="synopsis">Invokes a direct method on one or many devices or modules.</para>
/// <para type="description">Calls -MethodName on every device (many concurrently, up to -ThrottleLimit) and writes one
/// TwinPS.MethodResult per device with the status and payload the device answered. A device that is offline
/// (DeviceNotOnline) or does not answer in time (GatewayTimeout) is a non-terminating error targeted at the device. A
/// call is retried only when the hub throttles it (429), never after a server error, a timeout or a lost connection,
/// because the method may already have run.</para>
/// </summary>
[Cmdlet(VerbsLifecycle.Invoke, "IoTDeviceMethod", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(MethodResult))]
public sealed class InvokeIoTDeviceMethodCommand : TwinCommandBase, IDynamicParameters
{
    private readonly DirectMethodParameters _method = new();
    private DirectMethodRequest? _request;

    /// <summary>The device id(s); also bound from piped strings and from objects with a DeviceId property (twins, devices).</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(DeviceIdCompleter))]
    public string[] DeviceId { get; set; } = [];

    /// <summary>The module id, to call a module instead of the device.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [AllowNull]
    [AllowEmptyString]
    [ArgumentCompleter(typeof(ModuleIdCompleter))]
    public string? ModuleId { get; set; }

    /// <summary>How many calls run at once for many devices.</summary>
    [Parameter]
    [ValidateRange(1, MaxThrottleLimit)]
    public int ThrottleLimit { get; set; } = DefaultThrottleLimit;

    /// <inheritdoc/>
    protected override int WorkThrottleLimit => ThrottleLimit;

    /// <summary>-MethodName, -Payload, -ResponseTimeout, -ConnectTimeout (see <see cref="DirectMethodParameters"/>).</summary>
    public object GetDynamicParameters() => _method;

    /// <inheritdoc/>
    protected override async Task BeginProcessingAsync(CancellationToken cancellationToken)
    {
        try
        {
            _request = _method.ToRequest();
        }
        catch (Exception ex) when (ex is PSObjectJsonException or IoTHubProtocolException)
        {
            // Refused before any call: malformed JSON, a payload over 128 KB (MessageTooLarge), a bad name or timeouts.
            throw new TerminatingErrorException(ErrorRecords.FromException(ex, null, null).WithTarget(_method.MethodName));
        }

        await base.BeginProcessingAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    protected override async Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        string? moduleId = NormalizeModuleId(ModuleId);
        var request = _request!;
        foreach (string deviceId in DeviceId)
        {
            if (!ValidateIds(deviceId, moduleId))
            {
                continue;
            }

            string target = ErrorRecords.Target(deviceId, moduleId)!;
            if (!await ShouldProcessSafe($"{(moduleId is null ? "device" : "module")} '{target}' on hub '{HubConnection.HostName}'",
                    $"Invoke direct method '{request.MethodName}'").ConfigureAwait(false))
            {
                continue;
            }

            await EnqueueWork(token => RunItemAsync(deviceId, moduleId, async () =>
            {
                var result = await Client.InvokeMethodAsync(deviceId, moduleId, request, token).ConfigureAwait(false);
                WriteObjectSafe(new MethodResult(result).ToPSObject());
            })).ConfigureAwait(false);
        }
    }
}
