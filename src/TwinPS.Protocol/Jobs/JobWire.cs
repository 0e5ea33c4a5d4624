namespace TwinPS.Protocol;

/// <summary>Job type literals of jobs v2 (jobs/methods reference §1.2).</summary>
public static class JobTypes
{
    public const string ScheduleUpdateTwin = "scheduleUpdateTwin";
    public const string ScheduleDeviceMethod = "scheduleDeviceMethod";

    /// <summary>What <c>GET /jobs/v2/{id}</c> reports for an id the hub does not know.</summary>
    public const string Unknown = "unknown";
}

/// <summary>Job-level status literals (§1.7). Note the double "l" in <see cref="Cancelled"/>.</summary>
public static class JobStatuses
{
    public const string Queued = "queued";
    public const string Scheduled = "scheduled";
    public const string Running = "running";
    public const string Completed = "completed";
    public const string Failed = "failed";
    public const string Cancelled = "cancelled";
    public const string Enqueued = "enqueued";
    public const string Unknown = "unknown";

    /// <summary>True for <c>completed</c>, <c>failed</c> and <c>cancelled</c>.</summary>
    public static bool IsTerminal(string? status) => status is Completed or Failed or Cancelled;
}

/// <summary>Per-device job status literals of <c>devices.jobs</c> (§1.10). Note the single "l" in <see cref="Canceled"/>.</summary>
public static class DeviceJobStatuses
{
    public const string Pending = "pending";
    public const string Scheduled = "scheduled";
    public const string Running = "running";
    public const string Completed = "completed";
    public const string Failed = "failed";
    public const string Canceled = "canceled";
}

/// <summary>JSON field names of JobRequest/JobResponse (§1.2, §1.7) and DeviceJob (§1.10).</summary>
public static class JobFields
{
    public const string JobId = "jobId";
    public const string Type = "type";
    public const string Status = "status";
    public const string QueryCondition = "queryCondition";
    public const string CreatedTime = "createdTime";
    public const string StartTime = "startTime";
    public const string EndTime = "endTime";
    public const string MaxExecutionTimeInSeconds = "maxExecutionTimeInSeconds";
    public const string UpdateTwin = "updateTwin";
    public const string CloudToDeviceMethod = "cloudToDeviceMethod";
    public const string FailureReason = "failureReason";
    public const string StatusMessage = "statusMessage";
    public const string DeviceJobStatistics = "deviceJobStatistics";
    public const string DeviceCount = "deviceCount";
    public const string FailedCount = "failedCount";
    public const string SucceededCount = "succeededCount";
    public const string RunningCount = "runningCount";
    public const string PendingCount = "pendingCount";

    // DeviceJob (FROM devices.jobs)
    public const string DeviceId = "deviceId";
    public const string JobType = "jobType";
    public const string StartTimeUtc = "startTimeUtc";
    public const string EndTimeUtc = "endTimeUtc";
    public const string CreatedDateTimeUtc = "createdDateTimeUtc";
    public const string LastUpdatedDateTimeUtc = "lastUpdatedDateTimeUtc";
    public const string Outcome = "outcome";
    public const string DeviceMethodResponse = "deviceMethodResponse";
    public const string Error = "error";
    public const string ErrorCode = "code";
    public const string ErrorDescription = "description";
}

/// <summary>Request/response headers and query parameters of <c>GET /jobs/v2/query</c> (§1.9) and twin queries.</summary>
public static class JobQueryWire
{
    public const string JobTypeParameter = "jobType";
    public const string JobStatusParameter = "jobStatus";
    public const string ContinuationHeader = "x-ms-continuation";
    public const string MaxItemCountHeader = "x-ms-max-item-count";
    public const string ItemTypeHeader = "x-ms-item-type";

    /// <summary><c>x-ms-item-type</c> of a job list page (sent on every page, empty ones included).</summary>
    public const string JobResponseItemType = "JobResponse";

    /// <summary><c>x-ms-item-type</c> of a <c>FROM devices.jobs</c> query.</summary>
    public const string DeviceJobItemType = "DeviceJob";
}

/// <summary>Job limits (§1.4, §1.6, §1.12).</summary>
public static class JobLimits
{
    /// <summary>Longest <c>queryCondition</c>; longer conditions are answered 412 <c>PreconditionFailed</c>.</summary>
    public const int MaxQueryConditionLength = 8192;

    /// <summary>How far ahead a job may be scheduled.</summary>
    public static readonly TimeSpan MaxStartTimeAhead = TimeSpan.FromHours(168);

    /// <summary>The emulator's (and the Node SDK's and CLI's) <c>maxExecutionTimeInSeconds</c> when none is given.</summary>
    public const long DefaultMaxExecutionTimeInSeconds = 3600;

    /// <summary>
    /// Concurrent v2 jobs per tier (queued, scheduled and running jobs hold a slot): 1 on F1 and S1, 5 on S2, 10 on S3;
    /// null for a tier without jobs (Basic) or an unknown tier.
    /// </summary>
    public static int? ConcurrentJobSlots(string tier) => tier?.ToUpperInvariant() switch
    {
        "F1" or "S1" => 1,
        "S2" => 5,
        "S3" => 10,
        _ => null,
    };
}
