using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace TwinPS.Protocol;

/// <summary>
/// A validated jobs v2 create request (<c>PUT /jobs/v2/{jobId}</c>, jobs/methods reference §1.2–1.6). <see cref="Parse"/>
/// answers what the hub answers for a bad body; the query condition's syntax is deliberately NOT checked here (the hub
/// accepts an invalid condition and fails the job when it runs).
/// </summary>
public sealed class JobRequest
{
    private JobRequest(string jobId, string type, string queryCondition, JsonObject? updateTwin, DirectMethodRequest? method, DateTimeOffset? startTime, long maxExecution)
    {
        JobId = jobId;
        Type = type;
        QueryCondition = queryCondition;
        UpdateTwin = updateTwin;
        CloudToDeviceMethod = method;
        StartTime = startTime;
        MaxExecutionTimeInSeconds = maxExecution;
    }

    public string JobId { get; }

    /// <summary><see cref="JobTypes.ScheduleUpdateTwin"/> or <see cref="JobTypes.ScheduleDeviceMethod"/>.</summary>
    public string Type { get; }

    /// <summary>The WHERE-clause body (no <c>WHERE</c>); <c>*</c> means every device.</summary>
    public string QueryCondition { get; }

    /// <summary>For twin jobs: the patch (<c>etag</c>, <c>tags</c>, <c>properties.desired</c>) as sent. Do not modify.</summary>
    public JsonObject? UpdateTwin { get; }

    /// <summary>For method jobs: the method to invoke on each device.</summary>
    public DirectMethodRequest? CloudToDeviceMethod { get; }

    /// <summary>When to start; null means "now".</summary>
    public DateTimeOffset? StartTime { get; }

    public long MaxExecutionTimeInSeconds { get; }

    /// <summary>
    /// Reads and validates a create body for the job id in the path. Errors (all <see cref="IoTHubProtocolException"/>):
    /// bad job id, body/path id mismatch, bad start time or max execution time, missing condition or section → 400
    /// <c>ArgumentInvalid</c>; unknown type → 400 <c>GenericBadRequest</c>; condition over 8192 characters → 412
    /// <c>PreconditionFailed</c>; an <c>updateTwin.etag</c> other than <c>*</c> → 412 <c>PreconditionFailed</c> (null or
    /// absent is accepted, as C# v1 callers send <c>null</c>); invalid twin keys/values or reported properties → 400;
    /// method timeouts and payload as for a direct method.
    /// </summary>
    public static JobRequest Parse(string pathJobId, JsonObject body, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(body);
        IdentityRules.ValidateJobId(pathJobId);
        string? bodyId = OptionalString(body, JobFields.JobId);
        if (bodyId is not null && !string.Equals(bodyId, pathJobId, StringComparison.Ordinal))
            throw Invalid($"The jobId in the body ('{Shorten(bodyId)}') differs from the jobId in the path ('{pathJobId}').");

        string type = OptionalString(body, JobFields.Type) ?? throw new IoTHubProtocolException(IoTHubErrorCode.GenericBadRequest, "BadRequest: the job type is required (scheduleUpdateTwin or scheduleDeviceMethod).");
        if (type is not (JobTypes.ScheduleUpdateTwin or JobTypes.ScheduleDeviceMethod))
            throw new IoTHubProtocolException(IoTHubErrorCode.GenericBadRequest, $"BadRequest: the job type '{Shorten(type)}' is not supported; use scheduleUpdateTwin or scheduleDeviceMethod.");

        string? condition = OptionalString(body, JobFields.QueryCondition);
        if (string.IsNullOrWhiteSpace(condition))
            throw Invalid("The queryCondition is required. Use '*' to run the job on all devices.");
        if (condition.Length > JobLimits.MaxQueryConditionLength)
            throw new IoTHubProtocolException(IoTHubErrorCode.PreconditionFailed, $"The queryCondition is {condition.Length} characters long; at most {JobLimits.MaxQueryConditionLength} are allowed.");

        JsonObject? updateTwin = null;
        DirectMethodRequest? method = null;
        if (type == JobTypes.ScheduleUpdateTwin)
        {
            updateTwin = body[JobFields.UpdateTwin] as JsonObject ?? throw Invalid("A scheduleUpdateTwin job needs an updateTwin object.");
            ValidateUpdateTwin(updateTwin);
            updateTwin = (JsonObject)updateTwin.DeepClone();
        }
        else
        {
            JsonObject methodBody = body[JobFields.CloudToDeviceMethod] as JsonObject ?? throw Invalid("A scheduleDeviceMethod job needs a cloudToDeviceMethod object.");
            method = DirectMethodRequest.Parse(methodBody);
        }

        DateTimeOffset? start = ReadStartTime(body, now);
        long maxExecution = ReadMaxExecution(body);
        return new JobRequest(pathJobId, type, condition, updateTwin, method, start, maxExecution);
    }

    /// <summary>
    /// The <c>updateTwin</c> rules: <c>etag</c> must be <c>"*"</c> (a concrete etag → 412; null/absent accepted), the
    /// tags and desired properties must be a valid twin patch, and reported properties must be absent or empty.
    /// </summary>
    public static void ValidateUpdateTwin(JsonObject updateTwin)
    {
        ArgumentNullException.ThrowIfNull(updateTwin);
        if (updateTwin["etag"] is JsonValue etagValue)
        {
            if (!etagValue.TryGetValue(out string? etag) || ETags.Unquote(etag) != "*")
                throw new IoTHubProtocolException(IoTHubErrorCode.PreconditionFailed, "Missing or invalid etag for job type ScheduleUpdateTwin. ScheduleUpdateTwin job type is a force update, which only accepts '*' as the Etag.");
        }
        else if (updateTwin["etag"] is not null)
        {
            throw Invalid("updateTwin.etag must be the string \"*\".");
        }

        TwinPatchBody.Parse(updateTwin, TwinWriteMode.Patch);
    }

    /// <summary>The request as the hub echoes it in a JobResponse (without status fields).</summary>
    public JsonObject ToJson()
    {
        var json = new JsonObject
        {
            [JobFields.JobId] = JobId,
            [JobFields.Type] = Type,
            [JobFields.QueryCondition] = QueryCondition,
            [JobFields.StartTime] = StartTime is { } s ? FormatTime(s) : null,
            [JobFields.MaxExecutionTimeInSeconds] = MaxExecutionTimeInSeconds,
        };
        if (UpdateTwin is not null) json[JobFields.UpdateTwin] = UpdateTwin.DeepClone();
        if (CloudToDeviceMethod is not null) json[JobFields.CloudToDeviceMethod] = CloudToDeviceMethod.ToJson();
        return json;
    }

    /// <summary>Job times on the wire: UTC ISO 8601 with milliseconds and <c>Z</c> (<c>2026-03-01T02:00:00.000Z</c>).</summary>
    public static string FormatTime(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    /// <summary>Reads an ISO 8601 time; a time with no offset is UTC (the Python sample sends <c>datetime.utcnow().isoformat()</c>).</summary>
    public static bool TryParseTime(string? text, out DateTimeOffset time) =>
        DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out time);

    private static DateTimeOffset? ReadStartTime(JsonObject body, DateTimeOffset now)
    {
        JsonNode? node = body[JobFields.StartTime];
        if (node is null) return null;
        if (node is not JsonValue v || !v.TryGetValue(out string? text) || !TryParseTime(text, out DateTimeOffset start))
            throw Invalid("The startTime must be an ISO 8601 date and time (for example 2026-03-01T02:00:00Z).");
        if (start > now + JobLimits.MaxStartTimeAhead)
            throw Invalid("The startTime must be within 168 hours (7 days) from now.");
        return start;
    }

    private static long ReadMaxExecution(JsonObject body)
    {
        JsonNode? node = body[JobFields.MaxExecutionTimeInSeconds];
        if (node is null) return JobLimits.DefaultMaxExecutionTimeInSeconds;
        long value;
        if (node is JsonValue v && v.TryGetValue(out long l)) value = l;
        else if (node is JsonValue d && d.TryGetValue(out double dbl) && dbl == Math.Floor(dbl) && dbl is >= 1 and <= long.MaxValue) value = (long)dbl;
        else if (node is JsonValue e && e.TryGetValue(out JsonElement el) && el.ValueKind == JsonValueKind.Number && el.TryGetInt64(out long el64)) value = el64;
        else throw Invalid("The maxExecutionTimeInSeconds must be a whole number of seconds.");
        if (value < 1) throw Invalid("The maxExecutionTimeInSeconds must be at least 1.");
        return value;
    }

    private static string? OptionalString(JsonObject body, string name)
    {
        JsonNode? node = body[name];
        if (node is null) return null;
        if (node is JsonValue v && v.TryGetValue(out string? s)) return s;
        throw Invalid($"The {name} must be a string.");
    }

    private static IoTHubProtocolException Invalid(string message) => new(IoTHubErrorCode.ArgumentInvalid, message);

    private static string Shorten(string text) => text.Length > 80 ? text[..80] + "…" : text;
}
