using System.Globalization;
using System.Text.Json.Nodes;
using TwinPS.Protocol;

namespace TwinPS.Client;

/// <summary>A jobs-v2 job as the hub reports it (<c>PUT/GET /jobs/v2/{id}</c>, cancel, <c>/jobs/v2/query</c>).</summary>
public sealed class IoTHubJob
{
    private IoTHubJob(JsonObject json)
    {
        Json = json;
        JobId = JsonFields.GetString(json, "jobId") ?? string.Empty;
        Type = JsonFields.GetString(json, "type") ?? JsonFields.GetString(json, "jobType") ?? JobStatuses.Unknown;
        Status = JsonFields.GetString(json, "status") ?? JobStatuses.Unknown;
        QueryCondition = JsonFields.GetString(json, "queryCondition");
        CreatedTime = JobTimes.Parse(json, "createdTime", "createdDateTimeUtc");
        StartTime = JobTimes.Parse(json, "startTime", "startTimeUtc");
        EndTime = JobTimes.Parse(json, "endTime", "endTimeUtc");
        MaxExecutionTimeInSeconds = JsonFields.GetInt64(json, "maxExecutionTimeInSeconds");
        FailureReason = JsonFields.GetString(json, "failureReason");
        StatusMessage = JsonFields.GetString(json, "statusMessage");
        UpdateTwin = JsonFields.GetObject(json, "updateTwin");
        CloudToDeviceMethod = JsonFields.GetObject(json, "cloudToDeviceMethod");
        Statistics = DeviceJobStatistics.FromJson(JsonFields.GetObject(json, "deviceJobStatistics"));
    }

    /// <summary>Reads a job document (a private copy).</summary>
    public static IoTHubJob FromJson(JsonObject json)
    {
        ArgumentNullException.ThrowIfNull(json);
        return new IoTHubJob((JsonObject)json.DeepClone());
    }

    /// <summary>The document as the hub sent it.</summary>
    public JsonObject Json { get; }

    /// <summary>The job id.</summary>
    public string JobId { get; }

    /// <summary><c>scheduleUpdateTwin</c>, <c>scheduleDeviceMethod</c> or another type the hub reports (e.g. <c>unknown</c>).</summary>
    public string Type { get; }

    /// <summary>queued, scheduled, running, completed, failed, cancelled (or unknown).</summary>
    public string Status { get; }

    /// <summary>The condition that selects the devices.</summary>
    public string? QueryCondition { get; }

    /// <summary>When the job was created.</summary>
    public DateTimeOffset? CreatedTime { get; }

    /// <summary>When the job starts or started.</summary>
    public DateTimeOffset? StartTime { get; }

    /// <summary>When the job ended (only once it is terminal).</summary>
    public DateTimeOffset? EndTime { get; }

    /// <summary>The job's time limit.</summary>
    public long? MaxExecutionTimeInSeconds { get; }

    /// <summary>Why the job failed, when it did.</summary>
    public string? FailureReason { get; }

    /// <summary>The hub's status message, if any.</summary>
    public string? StatusMessage { get; }

    /// <summary>The twin patch of a twin-update job.</summary>
    public JsonObject? UpdateTwin { get; }

    /// <summary>The method call of a method job.</summary>
    public JsonObject? CloudToDeviceMethod { get; }

    /// <summary>Per-device counters.</summary>
    public DeviceJobStatistics Statistics { get; }

    /// <summary>True when the job has finished (completed, failed or cancelled).</summary>
    public bool IsTerminal => JobStatuses.IsTerminal(Status);

    /// <inheritdoc/>
    public override string ToString() => $"Job {JobId} ({Type}, {Status})";
}

/// <summary>The <c>deviceJobStatistics</c> of a job.</summary>
public sealed record DeviceJobStatistics(int DeviceCount, int FailedCount, int SucceededCount, int RunningCount, int PendingCount)
{
    /// <summary>Reads the counters (absent ones are 0).</summary>
    public static DeviceJobStatistics FromJson(JsonObject? json) => json is null
        ? new DeviceJobStatistics(0, 0, 0, 0, 0)
        : new DeviceJobStatistics(Count(json, "deviceCount"), Count(json, "failedCount"), Count(json, "succeededCount"), Count(json, "runningCount"), Count(json, "pendingCount"));

    /// <summary>Devices finished (succeeded + failed).</summary>
    public int CompletedCount => SucceededCount + FailedCount;

    private static int Count(JsonObject json, string name) =>
        JsonFields.GetInt64(json, name) is long value ? (int)Math.Clamp(value, 0, int.MaxValue) : 0;
}

/// <summary>One device's record of a job (<c>SELECT * FROM devices.jobs</c>).</summary>
public sealed class DeviceJobRecord
{
    private DeviceJobRecord(JsonObject json)
    {
        Json = json;
        DeviceId = JsonFields.GetString(json, "deviceId") ?? string.Empty;
        ModuleId = JsonFields.GetString(json, "moduleId");
        JobId = JsonFields.GetString(json, "jobId") ?? string.Empty;
        JobType = JsonFields.GetString(json, "jobType") ?? JsonFields.GetString(json, "type") ?? JobStatuses.Unknown;
        Status = JsonFields.GetString(json, "status") ?? JobStatuses.Unknown;
        StartTime = JobTimes.Parse(json, "startTimeUtc", "startTime");
        EndTime = JobTimes.Parse(json, "endTimeUtc", "endTime");
        CreatedTime = JobTimes.Parse(json, "createdDateTimeUtc", "createdTime");
        LastUpdatedTime = JobTimes.Parse(json, "lastUpdatedDateTimeUtc", "lastUpdatedTime");
        if (JsonFields.GetObject(json, "outcome") is { } outcome && JsonFields.GetObject(outcome, "deviceMethodResponse") is { } method)
        {
            MethodStatus = JsonFields.GetInt64(method, "status") is long s ? (int)Math.Clamp(s, int.MinValue, int.MaxValue) : null;
            MethodPayload = method["payload"];
        }

        if (JsonFields.GetObject(json, "error") is { } error)
        {
            ErrorCode = JsonFields.GetString(error, "code");
            ErrorDescription = JsonFields.GetString(error, "description");
        }
    }

    /// <summary>Reads a record (a private copy).</summary>
    public static DeviceJobRecord FromJson(JsonObject json)
    {
        ArgumentNullException.ThrowIfNull(json);
        return new DeviceJobRecord((JsonObject)json.DeepClone());
    }

    /// <summary>The document as the hub sent it.</summary>
    public JsonObject Json { get; }

    /// <summary>The device id.</summary>
    public string DeviceId { get; }

    /// <summary>The module id, when the record is a module's.</summary>
    public string? ModuleId { get; }

    /// <summary>The job id.</summary>
    public string JobId { get; }

    /// <summary><c>scheduleUpdateTwin</c> or <c>scheduleDeviceMethod</c>.</summary>
    public string JobType { get; }

    /// <summary>pending, scheduled, running, completed, failed or canceled (one l, as the hub spells it here).</summary>
    public string Status { get; }

    /// <summary>When the device's part started.</summary>
    public DateTimeOffset? StartTime { get; }

    /// <summary>When the device's part ended.</summary>
    public DateTimeOffset? EndTime { get; }

    /// <summary>When the record was created.</summary>
    public DateTimeOffset? CreatedTime { get; }

    /// <summary>When the record last changed.</summary>
    public DateTimeOffset? LastUpdatedTime { get; }

    /// <summary>For a method job: the status the device answered with.</summary>
    public int? MethodStatus { get; }

    /// <summary>For a method job: the payload the device answered with.</summary>
    public JsonNode? MethodPayload { get; }

    /// <summary>The error code when the device's part failed (e.g. <c>DeviceNotOnline</c>).</summary>
    public string? ErrorCode { get; }

    /// <summary>The error text when the device's part failed.</summary>
    public string? ErrorDescription { get; }
}

/// <summary>Reads the job timestamps the hub sends (ISO 8601, with or without an offset; no offset means UTC).</summary>
internal static class JobTimes
{
    public static DateTimeOffset? Parse(JsonObject json, string name, string alternative)
    {
        var text = JsonFields.GetString(json, name) ?? JsonFields.GetString(json, alternative);
        if (string.IsNullOrWhiteSpace(text)
            || !DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var value))
        {
            return null;
        }

        // .NET's "never set" (0001-01-01) is how some hubs write an unset time.
        return value.Year <= 1 ? null : value;
    }

}

/// <summary>Client-side rules for job requests (the wire rules are TwinPS.Protocol's).</summary>
public static class JobRules
{
    /// <summary>A new job id: a lowercase GUID (the form every hub accepts).</summary>
    public static string NewJobId() => Guid.NewGuid().ToString("D");

    /// <summary>Checks a query condition (the WHERE clause without <c>WHERE</c>; <c>*</c> for all devices).</summary>
    /// <exception cref="ArgumentException">Empty or too long.</exception>
    public static void ValidateCondition(string? condition)
    {
        if (string.IsNullOrWhiteSpace(condition))
        {
            throw new ArgumentException("The job's query condition must not be empty; use '*' for every device.", nameof(condition));
        }

        if (condition.Length > JobLimits.MaxQueryConditionLength)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"The query condition is {condition.Length} characters long; IoT Hub accepts at most {JobLimits.MaxQueryConditionLength}. Target a tag instead of a long id list."), nameof(condition));
        }
    }

    internal static bool SameJob(IoTHubJob job, string type, string condition) =>
        string.Equals(job.Type, type, StringComparison.OrdinalIgnoreCase)
        && string.Equals(job.QueryCondition?.Trim(), condition.Trim(), StringComparison.Ordinal);
}
