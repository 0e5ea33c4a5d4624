using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using TwinPS.Emulator.Domain;
using TwinPS.Emulator.Methods;
using TwinPS.Protocol;
using TwinPS.Query;

namespace TwinPS.Emulator.Jobs;

/// <summary>
/// Runs jobs v2: starts each job at its start time, evaluates its condition at run time (an invalid condition fails
/// the job), records every targeted device as <c>pending</c> in one commit, then updates twins (merge, etag <c>*</c>,
/// devices notified like any desired patch) or invokes the method on each device, committing every device's outcome
/// with the job's statistics. Honours cancel and <c>maxExecutionTimeInSeconds</c>. At start-up it resumes the jobs a
/// previous process left running (see docs/emulator-fidelity.md, "Jobs").
/// </summary>
internal sealed partial class JobRunner : BackgroundService
{
    private const int TwinWorkers = 8;
    private const int MethodWorkers = 32;
    private static readonly TimeSpan IdlePoll = TimeSpan.FromSeconds(1);

    private readonly JobService _jobs;
    private readonly DeviceTable _devices;
    private readonly HubTwins _twins;
    private readonly DeviceMethodBroker _methods;
    private readonly IJobThrottle _throttle;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, Task> _running = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _wake = new(0, int.MaxValue);

    public JobRunner(JobService jobs, DeviceTable devices, HubTwins twins, DeviceMethodBroker methods, IJobThrottle throttle, ILogger<JobRunner> logger)
    {
        _jobs = jobs;
        _devices = devices;
        _twins = twins;
        _methods = methods;
        _throttle = throttle;
        _logger = logger;
        _jobs.Changed += (_, _) => _wake.Release();
    }

    public override void Dispose()
    {
        _wake.Dispose();
        base.Dispose();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await RecoverAsync(stoppingToken).ConfigureAwait(false);
        while (!stoppingToken.IsCancellationRequested)
        {
            DateTimeOffset now = DateTimeOffset.UtcNow;
            DateTimeOffset? next = null;
            foreach (JobRecord job in _jobs.All)
            {
                string status;
                lock (job.Gate) status = job.Status;
                if (status is not (JobStatuses.Queued or JobStatuses.Scheduled) || _running.ContainsKey(job.JobId)) continue;
                if (job.StartTime <= now)
                {
                    Start(job, resume: false, stoppingToken);
                }
                else
                {
                    if (status == JobStatuses.Queued) await MarkScheduledAsync(job).ConfigureAwait(false);
                    if (next is null || job.StartTime < next) next = job.StartTime;
                }
            }

            TimeSpan wait = next is { } due ? due - DateTimeOffset.UtcNow : IdlePoll;
            if (wait > IdlePoll) wait = IdlePoll;
            if (wait < TimeSpan.Zero) wait = TimeSpan.Zero;
            try
            {
                await _wake.WaitAsync(wait, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        // Let running jobs notice the shutdown; what they did not finish is resumed at the next start.
        try
        {
            await Task.WhenAll(_running.Values).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task MarkScheduledAsync(JobRecord job)
    {
        lock (job.Gate)
        {
            if (job.Status != JobStatuses.Queued) return;
            job.Status = JobStatuses.Scheduled;
        }

        await _jobs.SaveAsync(job, []).ConfigureAwait(false);
    }

    /// <summary>
    /// Start-up: a cancelled job's unfinished devices become <c>canceled</c>; a running job's device in
    /// <c>running</c> is re-applied for twin jobs (an etag-<c>*</c> merge is idempotent) and marked failed for method
    /// jobs (the call may have reached the device: never invoked twice); statistics are recomputed from the device
    /// records; running jobs continue with their pending devices.
    /// </summary>
    private async Task RecoverAsync(CancellationToken stoppingToken)
    {
        foreach (JobRecord job in _jobs.All)
        {
            string status;
            lock (job.Gate) status = job.Status;
            IReadOnlyDictionary<string, DeviceJobRecord> devices = _jobs.DeviceJobs(job.JobId);
            var changed = new List<DeviceJobRecord>();
            DateTimeOffset now = DateTimeOffset.UtcNow;
            foreach (DeviceJobRecord d in devices.Values.Where(d => !d.IsFinished))
            {
                if (status == JobStatuses.Cancelled || JobStatuses.IsTerminal(status))
                    changed.Add(d with { Status = DeviceJobStatuses.Canceled, EndTimeUtc = now, LastUpdatedDateTimeUtc = now });
                else if (status == JobStatuses.Running && d.Status == DeviceJobStatuses.Running && job.Type == JobTypes.ScheduleDeviceMethod)
                    changed.Add(d with
                    {
                        Status = DeviceJobStatuses.Failed, EndTimeUtc = now, LastUpdatedDateTimeUtc = now, ErrorCode = "JobInterrupted",
                        ErrorDescription = "The emulator stopped while this device's method call was in flight; it is not invoked again because it may already have run.",
                    });
                else if (status == JobStatuses.Running && d.Status == DeviceJobStatuses.Running)
                    changed.Add(d with { Status = DeviceJobStatuses.Pending, LastUpdatedDateTimeUtc = now });
            }

            if (changed.Count > 0 || status == JobStatuses.Running)
            {
                var merged = devices.Values.ToDictionary(d => d.DeviceId, StringComparer.Ordinal);
                foreach (DeviceJobRecord d in changed) merged[d.DeviceId] = d;
                lock (job.Gate) Recount(job, merged.Values);
                await _jobs.SaveAsync(job, changed).ConfigureAwait(false);
            }

            if (status == JobStatuses.Running)
            {
                LogResumed(_logger, job.JobId);
                Start(job, resume: true, stoppingToken);
            }
        }
    }

    private void Start(JobRecord job, bool resume, CancellationToken stoppingToken)
    {
        Task task = Task.Run(() => RunAsync(job, resume, stoppingToken), CancellationToken.None);
        _running[job.JobId] = task;
        _ = task.ContinueWith(_ => _running.TryRemove(job.JobId, out Task? _), TaskScheduler.Default);
    }

    private async Task RunAsync(JobRecord job, bool resume, CancellationToken stoppingToken)
    {
        try
        {
            List<string> targets = resume
                ? _jobs.DeviceJobs(job.JobId).Values.Where(d => d.Status == DeviceJobStatuses.Pending).Select(d => d.DeviceId).Order(StringComparer.Ordinal).ToList()
                : await BeginAsync(job).ConfigureAwait(false) ?? [];
            if (!resume && !IsRunning(job)) return; // failed (invalid condition) or cancelled meanwhile
            await ProcessAsync(job, targets, stoppingToken).ConfigureAwait(false);
            if (!stoppingToken.IsCancellationRequested) await FinishAsync(job).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // a job's failure must never take the runner down; the job is failed instead
        catch (Exception ex) when (ex is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
#pragma warning restore CA1031
        {
            LogJobCrashed(_logger, ex, job.JobId);
            try
            {
                lock (job.Gate)
                {
                    if (!JobStatuses.IsTerminal(job.Status))
                    {
                        job.Status = JobStatuses.Failed;
                        job.FailureReason = "The emulator hit an internal error while running the job.";
                        job.EndTime = DateTimeOffset.UtcNow;
                    }
                }

                await _jobs.SaveAsync(job, []).ConfigureAwait(false);
            }
#pragma warning disable CA1031
            catch (Exception)
#pragma warning restore CA1031
            {
                // The store is gone (shutting down); the job is resumed at the next start.
            }
        }
    }

    private static bool IsRunning(JobRecord job)
    {
        lock (job.Gate) return job.Status == JobStatuses.Running;
    }

    /// <summary>Evaluates the condition and records the targets as pending (one commit). Null when the job failed or was cancelled.</summary>
    private async Task<List<string>?> BeginAsync(JobRecord job)
    {
        ParsedQuery condition;
        try
        {
            condition = IoTHubQuery.ParseCondition(job.QueryCondition);
        }
        catch (QuerySyntaxException ex)
        {
            lock (job.Gate)
            {
                if (JobStatuses.IsTerminal(job.Status)) return null;
                DateTimeOffset now = DateTimeOffset.UtcNow;
                job.Status = JobStatuses.Failed;
                job.RunStartedAt = now;
                job.EndTime = now;
                job.FailureReason = "The query condition is invalid: " + ex.Message;
            }

            await _jobs.SaveAsync(job, []).ConfigureAwait(false);
            return null;
        }

        var targets = new List<string>();
        foreach (string id in _devices.SortedDeviceIds())
        {
            if (_devices.FindDevice(id) is not TwinSnapshot snapshot) continue;
            if (condition.Matches((JsonObject)JsonNode.Parse(snapshot.TwinJson)!)) targets.Add(id);
        }

        DateTimeOffset started = DateTimeOffset.UtcNow;
        var records = targets.Select(id => new DeviceJobRecord
        {
            JobId = job.JobId, DeviceId = id, JobType = job.Type, Status = DeviceJobStatuses.Pending,
            CreatedDateTimeUtc = started, LastUpdatedDateTimeUtc = started,
        }).ToList();
        lock (job.Gate)
        {
            if (JobStatuses.IsTerminal(job.Status)) return null;
            job.Status = JobStatuses.Running;
            job.RunStartedAt = started;
            job.DeviceCount = targets.Count;
            job.PendingCount = targets.Count;
            job.RunningCount = job.SucceededCount = job.FailedCount = 0;
        }

        await _jobs.SaveAsync(job, records).ConfigureAwait(false);
        LogStarted(_logger, job.JobId, targets.Count);
        return targets;
    }

    private async Task ProcessAsync(JobRecord job, List<string> targets, CancellationToken stoppingToken)
    {
        DateTimeOffset deadline = (job.RunStartedAt ?? DateTimeOffset.UtcNow) + TimeSpan.FromSeconds(Math.Min(job.MaxExecutionTimeInSeconds, (long)TimeSpan.MaxValue.TotalSeconds / 2));
        int next = -1;
        int workers = Math.Min(targets.Count, job.Type == JobTypes.ScheduleDeviceMethod ? MethodWorkers : TwinWorkers);
        async Task WorkAsync()
        {
            while (!stoppingToken.IsCancellationRequested && IsRunning(job) && DateTimeOffset.UtcNow < deadline)
            {
                int i = Interlocked.Increment(ref next);
                if (i >= targets.Count) return;
                await _throttle.DeviceOperationAsync(stoppingToken).ConfigureAwait(false);
                if (!IsRunning(job) || DateTimeOffset.UtcNow >= deadline)
                {
                    return; // the device stays pending and is closed by FinishAsync
                }

                await RunDeviceAsync(job, targets[i], stoppingToken).ConfigureAwait(false);
            }
        }

        await Task.WhenAll(Enumerable.Range(0, workers).Select(_ => WorkAsync())).ConfigureAwait(false);
    }

    private async Task RunDeviceAsync(JobRecord job, string deviceId, CancellationToken stoppingToken)
    {
        DeviceJobRecord record = _jobs.DeviceJobs(job.JobId)[deviceId];
        DateTimeOffset started = DateTimeOffset.UtcNow;
        record = record with { Status = DeviceJobStatuses.Running, StartTimeUtc = started, LastUpdatedDateTimeUtc = started };
        lock (job.Gate)
        {
            job.PendingCount--;
            job.RunningCount++;
        }

        // A method job records "running" durably before the call, so a restart can tell a call that may have run.
        if (job.Type == JobTypes.ScheduleDeviceMethod) await _jobs.SaveAsync(job, [record]).ConfigureAwait(false);

        DeviceJobRecord done;
        try
        {
            if (job.Type == JobTypes.ScheduleUpdateTwin)
            {
                await _twins.UpdateTwinAsync(deviceId, null, "*", (JsonObject)job.UpdateTwin!.DeepClone(), replace: false).ConfigureAwait(false);
                done = Finished(record, DeviceJobStatuses.Completed, null, null, null);
            }
            else
            {
                if (_devices.FindDevice(deviceId) is null) throw HubErrors.DeviceNotFound(deviceId);
                DirectMethodResponse response = await _methods.InvokeAsync(deviceId, null, job.Method!, stoppingToken).ConfigureAwait(false);
                done = Finished(record, DeviceJobStatuses.Completed, response, null, null);
            }
        }
        catch (IoTHubProtocolException ex)
        {
            done = Finished(record, DeviceJobStatuses.Failed, null, IoTHubErrors.NameOf(ex.Code), ex.Message);
        }

        lock (job.Gate)
        {
            job.RunningCount--;
            if (done.Status == DeviceJobStatuses.Completed) job.SucceededCount++;
            else job.FailedCount++;
        }

        await _jobs.SaveAsync(job, [done]).ConfigureAwait(false);
    }

    /// <summary>Ends the job: completed; or failed when the time budget ran out; devices not reached are closed.</summary>
    private async Task FinishAsync(JobRecord job)
    {
        DateTimeOffset now = DateTimeOffset.UtcNow;
        List<DeviceJobRecord> left = _jobs.DeviceJobs(job.JobId).Values.Where(d => !d.IsFinished).ToList();
        bool cancelled;
        lock (job.Gate)
        {
            cancelled = job.Status == JobStatuses.Cancelled;
            if (!cancelled && job.Status != JobStatuses.Running) return;
        }

        var closed = left.Select(d => cancelled
            ? Finished(d, DeviceJobStatuses.Canceled, null, null, null)
            : Finished(d, DeviceJobStatuses.Failed, null, "JobExpired", "The job reached its maxExecutionTimeInSeconds before this device was processed.")).ToList();
        lock (job.Gate)
        {
            var all = _jobs.DeviceJobs(job.JobId).Values.ToDictionary(d => d.DeviceId, StringComparer.Ordinal);
            foreach (DeviceJobRecord d in closed) all[d.DeviceId] = d;
            Recount(job, all.Values);
            if (!cancelled)
            {
                job.EndTime = now;
                if (closed.Count > 0)
                {
                    job.Status = JobStatuses.Failed;
                    job.FailureReason = $"The job did not finish within maxExecutionTimeInSeconds ({job.MaxExecutionTimeInSeconds} s); {closed.Count} device(s) were not processed.";
                }
                else
                {
                    job.Status = JobStatuses.Completed;
                }
            }
        }

        await _jobs.SaveAsync(job, closed).ConfigureAwait(false);
        LogFinished(_logger, job.JobId, job.ToResponseJson()[JobFields.Status]!.GetValue<string>());
    }

    private static DeviceJobRecord Finished(DeviceJobRecord record, string status, DirectMethodResponse? response, string? code, string? description)
    {
        DateTimeOffset now = DateTimeOffset.UtcNow;
        return record with
        {
            Status = status, EndTimeUtc = now, LastUpdatedDateTimeUtc = now, MethodResponse = response, ErrorCode = code, ErrorDescription = description,
        };
    }

    /// <summary>Statistics from the device records (canceled devices count as failed, so the counts add up to deviceCount).</summary>
    private static void Recount(JobRecord job, IEnumerable<DeviceJobRecord> devices)
    {
        int count = 0, failed = 0, succeeded = 0, running = 0, pending = 0;
        foreach (DeviceJobRecord d in devices)
        {
            count++;
            switch (d.Status)
            {
                case DeviceJobStatuses.Completed: succeeded++; break;
                case DeviceJobStatuses.Failed or DeviceJobStatuses.Canceled: failed++; break;
                case DeviceJobStatuses.Running: running++; break;
                default: pending++; break;
            }
        }

        job.DeviceCount = count;
        job.FailedCount = failed;
        job.SucceededCount = succeeded;
        job.RunningCount = running;
        job.PendingCount = pending;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId} started on {Devices} device(s)")]
    private static partial void LogStarted(ILogger logger, string jobId, int devices);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId} ended {Status}")]
    private static partial void LogFinished(ILogger logger, string jobId, string status);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId} resumed after a restart")]
    private static partial void LogResumed(ILogger logger, string jobId);

    [LoggerMessage(Level = LogLevel.Error, Message = "Job {JobId} failed with an internal error")]
    private static partial void LogJobCrashed(ILogger logger, Exception exception, string jobId);
}

/// <summary>Where the job runner pays for each device it touches (the tier's jobs device-operation throttle).</summary>
internal interface IJobThrottle
{
    /// <summary>Waits until one more per-device job operation is allowed.</summary>
    ValueTask DeviceOperationAsync(CancellationToken cancellationToken);
}
