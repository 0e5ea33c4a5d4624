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
public sealed class StartIoTDeviceMethodJobCommand : JobStartCommandBase
{
    /// <summary>The method name, e.g. <c>reboot</c>.</summary>
    [Parameter(Mandatory = true)]
    [ValidateNotNullOrEmpty]
    [Alias("Name")]
    public string MethodName { get; set; } = string.Empty;

    /// <summary>The payload: a hashtable, PSCustomObject, array, scalar or JSON text.</summary>
    [Parameter]
    [AllowNull]
    public object? Payload { get; set; }

    /// <summary>Seconds the hub waits for each device's answer (5–300).</summary>
    [Parameter]
    [ValidateRange(DirectMethodRequest.MinResponseTimeoutSeconds, DirectMethodRequest.MaxResponseTimeoutSeconds)]
    public int ResponseTimeout { get; set; } = DirectMethodRequest.DefaultResponseTimeoutSeconds;

    /// <summary>Seconds the hub waits for an offline device to connect (0–300).</summary>
    [Parameter]
    [ValidateRange(0, DirectMethodRequest.MaxConnectTimeoutSeconds)]
    public int ConnectTimeout { get; set; }

    /// <inheritdoc/>
    protected override string Action => "Start direct-method job";

    /// <inheritdoc/>
    protected override JsonObject BuildRequest(string jobId, string condition) =>
        IoTHubServiceClient.BuildDeviceMethodJob(jobId, condition, Method(), StartTime, MaxExecutionTime);

    /// <inheritdoc/>
    protected override Task<IoTHubJob> CreateAsync(string jobId, string condition, CancellationToken cancellationToken) =>
        Client.ScheduleDeviceMethodAsync(jobId, condition, Method(), StartTime, MaxExecutionTime, cancellationToken);

    private DirectMethodRequest Method() =>
        DirectMethodRequest.Create(MethodName, PSObjectJson.FromPowerShell(Payload), ResponseTimeout, ConnectTimeout);
}
