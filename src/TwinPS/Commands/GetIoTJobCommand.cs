using System.Management.Automation;
using TwinPS.Client;
using TwinPS.Completion;
using TwinPS.Internal;
using TwinPS.Models;
using TwinPS.Protocol;

namespace TwinPS.Commands;

/// <summary>
/// <para type="synopsis">Gets jobs of the hub's job engine: one by id, or a streamed list filtered by type and status.</para>
/// <para type="description">With -JobId, gets those jobs; without, lists the hub's jobs (the last 30 days) page by page,
/// optionally only those of -Type and -Status.</para>
/// </summary>
[Cmdlet(VerbsCommon.Get, "IoTJob", DefaultParameterSetName = ListSet)]
[OutputType(typeof(HubJob))]
public sealed class GetIoTJobCommand : JobCommandBase
{
    private const string IdSet = "Id";
    private const string ListSet = "List";

    /// <summary>The job id(s).</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true, ParameterSetName = IdSet)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(JobIdCompleter))]
    public string[] JobId { get; set; } = [];

    /// <summary>Only jobs of this type.</summary>
    [Parameter(ParameterSetName = ListSet)]
    [ValidateSet(JobTypes.ScheduleUpdateTwin, JobTypes.ScheduleDeviceMethod)]
    public string? Type { get; set; }

    /// <summary>Only jobs in this status.</summary>
    [Parameter(ParameterSetName = ListSet)]
    [ValidateSet(JobStatuses.Queued, JobStatuses.Scheduled, JobStatuses.Running, JobStatuses.Completed, JobStatuses.Failed, JobStatuses.Cancelled)]
    public string? Status { get; set; }

    /// <summary>Jobs per page requested from the hub (1–100).</summary>
    [Parameter(ParameterSetName = ListSet)]
    [ValidateRange(1, QueryOptions.MaxPageSize)]
    public int? PageSize { get; set; }

    /// <inheritdoc/>
    protected override async Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        if (ParameterSetName == IdSet)
        {
            foreach (string jobId in JobId)
            {
                if (ValidateJobId(jobId))
                {
                    await RunJobAsync(jobId, async () => WriteJobSafe(await Client.GetJobAsync(jobId, cancellationToken).ConfigureAwait(false))).ConfigureAwait(false);
                }
            }

            return;
        }

        // Lower-case wire literals, whatever case the user typed (ValidateSet ignores case).
        string? type = Type is null ? null : (string.Equals(Type, JobTypes.ScheduleDeviceMethod, StringComparison.OrdinalIgnoreCase) ? JobTypes.ScheduleDeviceMethod : JobTypes.ScheduleUpdateTwin);
        string? status = Status?.ToLowerInvariant();
        try
        {
            var written = 0;
            await foreach (IoTHubJob job in Client.QueryJobsAsync(type, status, PageSize, cancellationToken).ConfigureAwait(false))
            {
                WriteJobSafe(job);
                if (++written % QueryOptions.MaxPageSize == 0)
                {
                    await FlushPipelineCallsAsync(cancellationToken).ConfigureAwait(false);
                }
            }
        }
        catch (IoTHubServiceException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TerminatingErrorException(ErrorRecords.FromException(ex, null, null));
        }
    }
}
