using System.Management.Automation;
using System.Text.Json.Nodes;
using TwinPS.Client;
using TwinPS.Internal;
using TwinPS.Models;
using TwinPS.Protocol;

namespace TwinPS.Commands;

/// <summary>
/// <para type="synopsis">Starts a job on the hub that invokes a direct method on every matching device.</para>
/// <para type="description">Creates a scheduleDeviceMethod job: at -StartTime the hub calls -MethodName on every device
/// that matches the condition and records each device's answer (Get-IoTJobDevice).</para>
/// </summary>
[Cmdlet(VerbsLifecycle.Start, "IoTDeviceMethodJob", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = ConditionSet)]
[OutputType(typeof(HubJob))]
public sealed class StartIoTDeviceMethodJobCommand : JobStartCommandBase, IDynamicParameters
{
    private readonly DirectMethodParameters _method = new();

    /// <summary>-MethodName, -Payload, -ResponseTimeout, -ConnectTimeout (see <see cref="DirectMethodParameters"/>).</summary>
    public object GetDynamicParameters() => _method;

    /// <inheritdoc/>
    protected override string Action => "Start direct-method job";

    /// <inheritdoc/>
    protected override JsonObject BuildRequest(string jobId, string condition) =>
        IoTHubServiceClient.BuildDeviceMethodJob(jobId, condition, Method(), StartTime, MaxExecutionTime);

    /// <inheritdoc/>
    protected override Task<IoTHubJob> CreateAsync(string jobId, string condition, CancellationToken cancellationToken) =>
        Client.ScheduleDeviceMethodAsync(jobId, condition, Method(), StartTime, MaxExecutionTime, cancellationToken);

    private DirectMethodRequest Method() => _method.ToRequest();
}
