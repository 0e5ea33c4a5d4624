using System.Management.Automation;
using TwinPS.Completion;
using TwinPS.Models;

namespace TwinPS.Commands;

/// <summary>
/// <para type="synopsis">Cancels a queued or scheduled job.</para>
/// <para type="description">Asks the hub to cancel the job. A job that is running or finished cannot be cancelled
/// (OperationNotAllowedInCurrentState).</para>
/// </summary>
[Cmdlet(VerbsLifecycle.Stop, "IoTJob", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(HubJob))]
public sealed class StopIoTJobCommand : JobCommandBase
{
    /// <summary>The job id(s); binds from piped jobs.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(JobIdCompleter))]
    public string[] JobId { get; set; } = [];

    /// <summary>Write the cancelled job.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    /// <inheritdoc/>
    protected override async Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        foreach (string jobId in JobId)
        {
            if (!ValidateJobId(jobId) || !await ShouldProcessSafe($"job '{jobId}' on hub '{HubConnection.HostName}'", "Cancel job").ConfigureAwait(false))
            {
                continue;
            }

            await RunJobAsync(jobId, async () =>
            {
                var job = await Client.CancelJobAsync(jobId, cancellationToken).ConfigureAwait(false);
                WriteVerboseSafe($"Job '{jobId}' is {job.Status}.");
                if (PassThru.IsPresent)
                {
                    WriteJobSafe(job);
                }
            }).ConfigureAwait(false);
        }
    }
}
