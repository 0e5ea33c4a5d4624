using System.Globalization;
using System.Management.Automation;
using TwinPS.Client;
using TwinPS.Completion;
using TwinPS.Internal;
using TwinPS.Models;
using TwinPS.Protocol;

namespace TwinPS.Commands;

/// <summary>
/// <para type="synopsis">Waits for jobs to finish, showing their progress.</para>
/// <para type="description">Polls each job until it is completed, failed or cancelled, shows progress from its device
/// statistics, and writes each job as it finishes. On -Timeout or Ctrl+C it stops waiting and leaves the jobs running.</para>
/// </summary>
[Cmdlet(VerbsLifecycle.Wait, "IoTJob")]
[OutputType(typeof(HubJob))]
public sealed class WaitIoTJobCommand : JobCommandBase
{
    private const int ProgressActivityId = 0x7716;
    private readonly List<string> _jobIds = [];

    /// <summary>The job id(s); binds from piped jobs.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(JobIdCompleter))]
    public string[] JobId { get; set; } = [];

    /// <summary>Stop waiting after this many seconds (the jobs keep running); default: wait until they finish.</summary>
    [Parameter]
    [ValidateRange(1, int.MaxValue)]
    [Alias("TimeoutSec")]
    public int Timeout { get; set; }

    /// <summary>Seconds between two reads of a job (1–300, default 2).</summary>
    [Parameter]
    [ValidateRange(1, 300)]
    public int PollInterval { get; set; } = 2;

    /// <inheritdoc/>
    protected override Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        foreach (string jobId in JobId)
        {
            if (ValidateJobId(jobId) && !_jobIds.Contains(jobId))
            {
                _jobIds.Add(jobId);
            }
        }

        return Task.CompletedTask;
    }

    /// <inheritdoc/>
    protected override async Task EndProcessingAsync(CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (MyInvocation.BoundParameters.ContainsKey(nameof(Timeout)))
        {
            deadline.CancelAfter(TimeSpan.FromSeconds(Timeout));
        }

        var waiting = _jobIds.Select((id, index) => (Id: id, Activity: ProgressActivityId + index)).ToList();
        var last = new Dictionary<string, IoTHubJob>(StringComparer.Ordinal);
        try
        {
            while (waiting.Count > 0)
            {
                foreach (var entry in waiting.ToList())
                {
                    IoTHubJob job;
                    try
                    {
                        job = await Client.GetJobAsync(entry.Id, deadline.Token).ConfigureAwait(false);
                    }
                    catch (IoTHubServiceException ex) when (!deadline.IsCancellationRequested)
                    {
                        waiting.Remove(entry);
                        ErrorRecord record = ErrorRecords.FromException(ex, null, null).WithTarget(entry.Id);
                        if (ex is { Status: 401 or 403 })
                        {
                            throw new TerminatingErrorException(record);
                        }

                        WriteErrorSafe(record);
                        continue;
                    }

                    last[entry.Id] = job;
                    if (job.IsTerminal)
                    {
                        waiting.Remove(entry);
                        WriteProgressSafe(new ProgressRecord(entry.Activity, "Wait-IoTJob " + entry.Id, job.Status) { RecordType = ProgressRecordType.Completed });
                        if (string.Equals(job.Status, JobStatuses.Failed, StringComparison.OrdinalIgnoreCase))
                        {
                            WriteWarningSafe($"Job '{job.JobId}' failed: {job.FailureReason ?? job.StatusMessage ?? "the hub gave no reason"}.");
                        }

                        WriteJobSafe(job);
                    }
                    else
                    {
                        WriteProgressSafe(Progress(entry.Activity, job));
                    }
                }

                if (waiting.Count > 0)
                {
                    await Task.Delay(TimeSpan.FromSeconds(PollInterval), deadline.Token).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // -Timeout elapsed: the jobs keep running.
            foreach (var entry in waiting)
            {
                string state = last.TryGetValue(entry.Id, out var job) ? job.Status : "unknown";
                string message = string.Create(CultureInfo.InvariantCulture, $"Job '{entry.Id}' did not finish within {Timeout} s (it is {state}); it keeps running on the hub.");
                WriteProgressSafe(new ProgressRecord(entry.Activity, "Wait-IoTJob " + entry.Id, state) { RecordType = ProgressRecordType.Completed });
                WriteErrorSafe(ErrorRecords.Create(new TimeoutException(message), "WaitTimeout", ErrorCategory.OperationTimeout, entry.Id, message,
                    "Wait again (Wait-IoTJob), or cancel a job that has not started (Stop-IoTJob)."));
            }
        }
    }

    private static ProgressRecord Progress(int activity, IoTHubJob job)
    {
        var stats = job.Statistics;
        var text = string.Create(CultureInfo.InvariantCulture,
            $"{job.Status}: {stats.CompletedCount} of {stats.DeviceCount} devices done ({stats.SucceededCount} succeeded, {stats.FailedCount} failed, {stats.RunningCount} running, {stats.PendingCount} pending)");
        var record = new ProgressRecord(activity, "Wait-IoTJob " + job.JobId, text);
        if (stats.DeviceCount > 0)
        {
            record.PercentComplete = Math.Clamp(stats.CompletedCount * 100 / stats.DeviceCount, 0, 100);
        }

        return record;
    }
}
