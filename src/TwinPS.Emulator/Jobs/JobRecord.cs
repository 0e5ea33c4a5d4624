using System.Globalization;
using System.Text.Json.Nodes;
using TwinPS.Protocol;

namespace TwinPS.Emulator.Jobs;

/// <summary>
/// One jobs v2 job: what was requested, its lifecycle and its device statistics. Mutable; every change happens under
/// <see cref="Gate"/>, and <see cref="ToResponseJson"/> / <see cref="ToStorageJson"/> take a consistent copy.
/// </summary>
internal sealed class JobRecord
{
    public object Gate { get; } = new();

    /// <summary>Held while the job's row is copied and queued for the store (see <see cref="JobService.SaveAsync"/>).</summary>
    public object WriteOrder { get; } = new();

    public required string JobId { get; init; }

    /// <summary>Creation order (list order and paging key).</summary>
    public required long Sequence { get; init; }

    public required string Type { get; init; }

    public required string QueryCondition { get; init; }

    public JsonObject? UpdateTwin { get; init; }

    public DirectMethodRequest? Method { get; init; }

    public required DateTimeOffset CreatedTime { get; init; }

    /// <summary>When the job is due (the requested start time, or the creation time when none was given).</summary>
    public required DateTimeOffset StartTime { get; init; }

    public required long MaxExecutionTimeInSeconds { get; init; }

    public string Status { get; set; } = JobStatuses.Queued;

    /// <summary>When the runner actually started it (the execution-time budget counts from here).</summary>
    public DateTimeOffset? RunStartedAt { get; set; }

    public DateTimeOffset? EndTime { get; set; }

    public string? FailureReason { get; set; }

    public string? StatusMessage { get; set; }

    public int DeviceCount { get; set; }

    public int FailedCount { get; set; }

    public int SucceededCount { get; set; }

    public int RunningCount { get; set; }

    public int PendingCount { get; set; }

    /// <summary>Whether the job holds one of the tier's concurrent-job slots (queued, scheduled, running).</summary>
    public bool IsActive
    {
        get
        {
            lock (Gate) return !JobStatuses.IsTerminal(Status);
        }
    }

    public static JobRecord FromRequest(JobRequest request, long sequence, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(request);
        return new JobRecord
        {
            JobId = request.JobId,
            Sequence = sequence,
            Type = request.Type,
            QueryCondition = request.QueryCondition,
            UpdateTwin = request.UpdateTwin,
            Method = request.CloudToDeviceMethod,
            CreatedTime = now,
            StartTime = request.StartTime is { } s && s > now ? s : now,
            MaxExecutionTimeInSeconds = request.MaxExecutionTimeInSeconds,
        };
    }

    /// <summary>The JobResponse of GET/PUT/cancel/query.</summary>
    public JsonObject ToResponseJson()
    {
        lock (Gate)
        {
            var json = new JsonObject
            {
                [JobFields.JobId] = JobId,
                [JobFields.QueryCondition] = QueryCondition,
                [JobFields.CreatedTime] = JobRequest.FormatTime(CreatedTime),
                [JobFields.StartTime] = JobRequest.FormatTime(StartTime),
            };
            if (EndTime is { } end) json[JobFields.EndTime] = JobRequest.FormatTime(end);
            json[JobFields.MaxExecutionTimeInSeconds] = MaxExecutionTimeInSeconds;
            json[JobFields.Type] = Type;
            json[JobFields.Status] = Status;
            if (UpdateTwin is not null) json[JobFields.UpdateTwin] = UpdateTwin.DeepClone();
            if (Method is not null) json[JobFields.CloudToDeviceMethod] = Method.ToJson();
            if (FailureReason is not null) json[JobFields.FailureReason] = FailureReason;
            if (StatusMessage is not null) json[JobFields.StatusMessage] = StatusMessage;
            json[JobFields.DeviceJobStatistics] = new JsonObject
            {
                [JobFields.DeviceCount] = DeviceCount,
                [JobFields.FailedCount] = FailedCount,
                [JobFields.SucceededCount] = SucceededCount,
                [JobFields.RunningCount] = RunningCount,
                [JobFields.PendingCount] = PendingCount,
            };
            return json;
        }
    }

    /// <summary>The stored form: the JobResponse plus the sequence and the actual run start.</summary>
    public string ToStorageJson()
    {
        JsonObject json = ToResponseJson();
        json["$sequence"] = Sequence;
        lock (Gate)
        {
            if (RunStartedAt is { } r) json["$runStartedAt"] = JobRequest.FormatTime(r);
        }

        return json.ToJsonString();
    }

    public static JobRecord FromStorageJson(string text)
    {
        var json = (JsonObject)JsonNode.Parse(text)!;
        JsonObject stats = (JsonObject)json[JobFields.DeviceJobStatistics]!;
        var record = new JobRecord
        {
            JobId = (string)json[JobFields.JobId]!,
            Sequence = (long)json["$sequence"]!,
            Type = (string)json[JobFields.Type]!,
            QueryCondition = (string)json[JobFields.QueryCondition]!,
            UpdateTwin = json[JobFields.UpdateTwin]?.DeepClone() as JsonObject,
            Method = json[JobFields.CloudToDeviceMethod] is JsonObject m ? DirectMethodRequest.Parse(m) : null,
            CreatedTime = Time(json[JobFields.CreatedTime])!.Value,
            StartTime = Time(json[JobFields.StartTime])!.Value,
            MaxExecutionTimeInSeconds = (long)json[JobFields.MaxExecutionTimeInSeconds]!,
            Status = (string)json[JobFields.Status]!,
            RunStartedAt = Time(json["$runStartedAt"]),
            EndTime = Time(json[JobFields.EndTime]),
            FailureReason = (string?)json[JobFields.FailureReason],
            StatusMessage = (string?)json[JobFields.StatusMessage],
            DeviceCount = (int)stats[JobFields.DeviceCount]!,
            FailedCount = (int)stats[JobFields.FailedCount]!,
            SucceededCount = (int)stats[JobFields.SucceededCount]!,
            RunningCount = (int)stats[JobFields.RunningCount]!,
            PendingCount = (int)stats[JobFields.PendingCount]!,
        };
        return record;
    }

    /// <summary>The answer to GET for an id the hub does not know: 200 <c>{"type":"unknown","status":"unknown"}</c>.</summary>
    public static JsonObject UnknownJson() => new()
    {
        [JobFields.Type] = JobTypes.Unknown,
        [JobFields.Status] = JobStatuses.Unknown,
    };

    private static DateTimeOffset? Time(JsonNode? node) =>
        node is JsonValue v && v.TryGetValue(out string? s) && JobRequest.TryParseTime(s, out DateTimeOffset t) ? t : null;

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"job {JobId} ({Type}, {Status})");
}

/// <summary>
/// One device's part in a job (a row of <c>FROM devices.jobs</c>). Immutable: a change replaces the record.
/// </summary>
internal sealed record DeviceJobRecord
{
    public required string JobId { get; init; }

    public required string DeviceId { get; init; }

    public required string JobType { get; init; }

    public required string Status { get; init; }

    public required DateTimeOffset CreatedDateTimeUtc { get; init; }

    public DateTimeOffset? StartTimeUtc { get; init; }

    public DateTimeOffset? EndTimeUtc { get; init; }

    public required DateTimeOffset LastUpdatedDateTimeUtc { get; init; }

    /// <summary>The device's method answer (method jobs that reached the device).</summary>
    public DirectMethodResponse? MethodResponse { get; init; }

    public string? ErrorCode { get; init; }

    public string? ErrorDescription { get; init; }

    public bool IsFinished => Status is DeviceJobStatuses.Completed or DeviceJobStatuses.Failed or DeviceJobStatuses.Canceled;

    /// <summary>The DeviceJob JSON of <c>FROM devices.jobs</c> (jobs/methods reference §1.10).</summary>
    public JsonObject ToJson()
    {
        var json = new JsonObject
        {
            [JobFields.DeviceId] = DeviceId,
            [JobFields.JobId] = JobId,
            [JobFields.JobType] = JobType,
            [JobFields.Status] = Status,
            [JobFields.StartTimeUtc] = StartTimeUtc is { } s ? JobRequest.FormatTime(s) : null,
            [JobFields.EndTimeUtc] = EndTimeUtc is { } e ? JobRequest.FormatTime(e) : null,
            [JobFields.CreatedDateTimeUtc] = JobRequest.FormatTime(CreatedDateTimeUtc),
            [JobFields.LastUpdatedDateTimeUtc] = JobRequest.FormatTime(LastUpdatedDateTimeUtc),
            [JobFields.Outcome] = new JsonObject { [JobFields.DeviceMethodResponse] = MethodResponse?.ToJson() },
        };
        if (ErrorCode is not null)
            json[JobFields.Error] = new JsonObject { [JobFields.ErrorCode] = ErrorCode, [JobFields.ErrorDescription] = ErrorDescription };
        return json;
    }

    public string ToStorageJson() => ToJson().ToJsonString();

    public static DeviceJobRecord FromStorageJson(string text)
    {
        var json = (JsonObject)JsonNode.Parse(text)!;
        JsonObject? response = json[JobFields.Outcome]?[JobFields.DeviceMethodResponse] as JsonObject;
        return new DeviceJobRecord
        {
            JobId = (string)json[JobFields.JobId]!,
            DeviceId = (string)json[JobFields.DeviceId]!,
            JobType = (string)json[JobFields.JobType]!,
            Status = (string)json[JobFields.Status]!,
            CreatedDateTimeUtc = Time(json[JobFields.CreatedDateTimeUtc]) ?? DateTimeOffset.UtcNow,
            StartTimeUtc = Time(json[JobFields.StartTimeUtc]),
            EndTimeUtc = Time(json[JobFields.EndTimeUtc]),
            LastUpdatedDateTimeUtc = Time(json[JobFields.LastUpdatedDateTimeUtc]) ?? DateTimeOffset.UtcNow,
            MethodResponse = response is null ? null : DirectMethodResponse.Parse(response),
            ErrorCode = (string?)json[JobFields.Error]?[JobFields.ErrorCode],
            ErrorDescription = (string?)json[JobFields.Error]?[JobFields.ErrorDescription],
        };
    }

    private static DateTimeOffset? Time(JsonNode? node) =>
        node is JsonValue v && v.TryGetValue(out string? s) && JobRequest.TryParseTime(s, out DateTimeOffset t) ? t : null;
}
