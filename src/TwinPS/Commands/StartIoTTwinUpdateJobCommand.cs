using System.Management.Automation;
using System.Text.Json.Nodes;
using TwinPS.Client;
using TwinPS.Models;

namespace TwinPS.Commands;

/// <summary>
/// <para type="synopsis">Starts a job on the hub that updates the twins of every matching device.</para>
/// <para type="description">Creates a scheduleUpdateTwin job: at -StartTime the hub merges -Tag and -Desired into every
/// twin that matches the condition, with no client staying connected.</para>
/// </summary>
[Cmdlet(VerbsLifecycle.Start, "IoTTwinUpdateJob", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = ConditionSet)]
[OutputType(typeof(HubJob))]
public sealed class StartIoTTwinUpdateJobCommand : JobStartCommandBase
{
    /// <summary>Desired properties to merge into every matching twin ($null removes a key).</summary>
    [Parameter]
    [ValidateNotNull]
    public object? Desired { get; set; }

    /// <summary>Tags to merge into every matching twin ($null removes a key).</summary>
    [Parameter]
    [ValidateNotNull]
    public object? Tag { get; set; }

    /// <inheritdoc/>
    protected override string Action => "Start twin-update job";

    /// <inheritdoc/>
    protected override JsonObject BuildRequest(string jobId, string condition) =>
        IoTHubServiceClient.BuildTwinUpdateJob(jobId, condition, ObjectOrNull(Tag, nameof(Tag)), ObjectOrNull(Desired, nameof(Desired)), StartTime, MaxExecutionTime);

    /// <inheritdoc/>
    protected override Task<IoTHubJob> CreateAsync(string jobId, string condition, CancellationToken cancellationToken) =>
        Client.ScheduleTwinUpdateAsync(jobId, condition, ObjectOrNull(Tag, nameof(Tag)), ObjectOrNull(Desired, nameof(Desired)), StartTime, MaxExecutionTime, cancellationToken);
}
