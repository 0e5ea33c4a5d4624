using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.Json.Nodes;
using Azure.Core;
using TwinPS.Protocol;
using TwinPS.Query;

namespace TwinPS.Client;

public sealed partial class IoTHubServiceClient
{
    /// <summary>
    /// Creates a twin-update job (<c>PUT /jobs/v2/{id}</c>, type <c>scheduleUpdateTwin</c>) that merges
    /// <paramref name="tags"/> and <paramref name="desired"/> into every twin matching <paramref name="condition"/>
    /// (a <c>null</c> removes a key), always with <c>"etag":"*"</c> (the job is a forced update). A create retried after
    /// its first answer was lost that meets 409 <c>JobAlreadyExists</c> is judged by reading the job back: the same type
    /// and condition is success.
    /// </summary>
    /// <param name="jobId">Job id (lowercase letters, digits, '-'; at most 64).</param>
    /// <param name="condition">The WHERE clause without <c>WHERE</c>, e.g. <c>tags.plant = 'Redmond43'</c>; <c>*</c> for all.</param>
    /// <param name="tags">Tags to merge, or null.</param>
    /// <param name="desired">Desired properties to merge, or null.</param>
    /// <param name="startTime">When to start (null: now); at most 168 hours ahead.</param>
    /// <param name="maxExecutionTime">The job's time limit (whole seconds), or null for the hub's default.</param>
    /// <param name="cancellationToken">Cancellation.</param>
    public Task<IoTHubJob> ScheduleTwinUpdateAsync(string jobId, string condition, JsonObject? tags, JsonObject? desired, DateTimeOffset? startTime = null, TimeSpan? maxExecutionTime = null, CancellationToken cancellationToken = default)
    {
        var body = BuildTwinUpdateJob(jobId, condition, tags, desired, startTime, maxExecutionTime);
        return CreateJobAsync(jobId, JobTypes.ScheduleUpdateTwin, condition, body, cancellationToken);
    }

    /// <summary>
    /// Creates a method job (<c>PUT /jobs/v2/{id}</c>, type <c>scheduleDeviceMethod</c>) that invokes
    /// <paramref name="method"/> on every device matching <paramref name="condition"/>. Judged like
    /// <see cref="ScheduleTwinUpdateAsync"/> on a retried create.
    /// </summary>
    public Task<IoTHubJob> ScheduleDeviceMethodAsync(string jobId, string condition, DirectMethodRequest method, DateTimeOffset? startTime = null, TimeSpan? maxExecutionTime = null, CancellationToken cancellationToken = default)
    {
        var body = BuildDeviceMethodJob(jobId, condition, method, startTime, maxExecutionTime);
        return CreateJobAsync(jobId, JobTypes.ScheduleDeviceMethod, condition, body, cancellationToken);
    }

    /// <summary>The request body of a twin-update job (validated; nothing is sent). Exposed for -WhatIf displays.</summary>
    /// <exception cref="ArgumentException">An invalid id, condition, time or an empty update.</exception>
    /// <exception cref="TwinPS.Protocol.TwinValidationException">The patch breaks a twin rule.</exception>
    public static JsonObject BuildTwinUpdateJob(string jobId, string condition, JsonObject? tags, JsonObject? desired, DateTimeOffset? startTime, TimeSpan? maxExecutionTime)
    {
        IdentityRules.ValidateJobId(jobId);
        JobRules.ValidateCondition(condition);
        if ((tags is null || tags.Count == 0) && (desired is null || desired.Count == 0))
        {
            throw new ArgumentException("A twin-update job needs tags and/or desired properties to set.", nameof(desired));
        }

        var patch = new TwinPatch { Tags = (JsonObject?)tags?.DeepClone(), Desired = (JsonObject?)desired?.DeepClone() };
        var update = patch.ToRequestBody();
        TwinInputValidation.ValidatePatch(update);
        update["etag"] = "*";
        var body = new JsonObject
        {
            ["jobId"] = jobId,
            ["type"] = JobTypes.ScheduleUpdateTwin,
            ["queryCondition"] = condition,
            ["updateTwin"] = update,
        };
        AddTimes(body, startTime, maxExecutionTime);
        return body;
    }

    /// <summary>The request body of a method job (validated; nothing is sent).</summary>
    /// <exception cref="ArgumentException">An invalid id, condition or time.</exception>
    public static JsonObject BuildDeviceMethodJob(string jobId, string condition, DirectMethodRequest method, DateTimeOffset? startTime, TimeSpan? maxExecutionTime)
    {
        ArgumentNullException.ThrowIfNull(method);
        IdentityRules.ValidateJobId(jobId);
        JobRules.ValidateCondition(condition);
        var body = new JsonObject
        {
            ["jobId"] = jobId,
            ["type"] = JobTypes.ScheduleDeviceMethod,
            ["queryCondition"] = condition,
            ["cloudToDeviceMethod"] = method.ToJson(),
        };
        AddTimes(body, startTime, maxExecutionTime);
        return body;
    }

    /// <summary>
    /// Gets a job. The hub answers an unknown id with 200 and <c>{"type":"unknown","status":"unknown"}</c>; this client
    /// turns that into 404 <c>JobNotFound</c>.
    /// </summary>
    public async Task<IoTHubJob> GetJobAsync(string jobId, CancellationToken cancellationToken = default)
    {
        IdentityRules.ValidateJobId(jobId);
        using var message = await SendAsync(RequestMethod.Get, "/jobs/v2/" + Escape(jobId), null, null, null, cancellationToken).ConfigureAwait(false);
        var job = IoTHubJob.FromJson(ReadJsonObject(message.Response, "job"));
        if (string.Equals(job.Status, JobStatuses.Unknown, StringComparison.OrdinalIgnoreCase)
            && string.Equals(job.Type, JobStatuses.Unknown, StringComparison.OrdinalIgnoreCase))
        {
            throw JobNotFound(jobId);
        }

        return job;
    }

    /// <summary>
    /// Cancels a queued or scheduled job (<c>POST /jobs/v2/{id}/cancel</c>) and returns it as the hub answered.
    /// </summary>
    /// <exception cref="IoTHubServiceException">404 <c>JobNotFound</c>; 405 <c>OperationNotAllowedInCurrentState</c> for a job that is running or finished.</exception>
    public async Task<IoTHubJob> CancelJobAsync(string jobId, CancellationToken cancellationToken = default)
    {
        IdentityRules.ValidateJobId(jobId);
        using var message = await SendAsync(RequestMethod.Post, "/jobs/v2/" + Escape(jobId) + "/cancel", null, null, null, cancellationToken).ConfigureAwait(false);
        return IoTHubJob.FromJson(ReadJsonObject(message.Response, "job"));
    }

    /// <summary>
    /// Lists jobs (<c>GET /jobs/v2/query</c>), optionally filtered by type and status, page by page: a page is requested
    /// only when the consumer has used the one before.
    /// </summary>
    public async IAsyncEnumerable<IoTHubJob> QueryJobsAsync(string? jobType = null, string? jobStatus = null, int? pageSize = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        if (pageSize is < 1 or > QueryOptions.MaxPageSize)
        {
            throw new ArgumentOutOfRangeException(nameof(pageSize), pageSize, $"The page size must be 1 to {QueryOptions.MaxPageSize}.");
        }

        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        var query = new List<(string Name, string Value)>(2);
        if (!string.IsNullOrEmpty(jobType))
        {
            query.Add(("jobType", jobType));
        }

        if (!string.IsNullOrEmpty(jobStatus))
        {
            query.Add(("jobStatus", jobStatus));
        }

        string? continuation = null;
        while (true)
        {
            var headers = new List<KeyValuePair<string, string>>(2);
            if (pageSize is int size)
            {
                headers.Add(new("x-ms-max-item-count", size.ToString(CultureInfo.InvariantCulture)));
            }

            if (continuation is not null)
            {
                headers.Add(new("x-ms-continuation", continuation));
            }

            List<IoTHubJob> jobs;
            using (var message = await SendAsync(RequestMethod.Get, "/jobs/v2/query", null, headers, null, cancellationToken, m =>
            {
                foreach (var (name, value) in query)
                {
                    m.Request.Uri.AppendQuery(name, value, escapeValue: true);
                }
            }).ConfigureAwait(false))
            {
                var response = message.Response;
                jobs = ReadJson(response) switch
                {
                    JsonArray array => array.OfType<JsonObject>().Select(IoTHubJob.FromJson).ToList(),
                    null => [],
                    _ => throw InvalidResponse(response, "a job list that is not a JSON array"),
                };
                response.Headers.TryGetValue("x-ms-continuation", out var next);
                continuation = string.IsNullOrEmpty(next) ? null : next;
            }

            foreach (var job in jobs)
            {
                yield return job;
            }

            if (continuation is null)
            {
                yield break;
            }
        }
    }

    /// <summary>
    /// The per-device records of a job (<c>SELECT * FROM devices.jobs WHERE devices.jobs.jobId = '…'</c>), page by page.
    /// </summary>
    public async IAsyncEnumerable<DeviceJobRecord> GetDeviceJobsAsync(string jobId, string? status = null, int? pageSize = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        IdentityRules.ValidateJobId(jobId);
        var where = "devices.jobs.jobId = " + QueryLiteral.Quote(jobId);
        if (!string.IsNullOrEmpty(status))
        {
            where += " AND devices.jobs.status = " + QueryLiteral.Quote(status);
        }

        var options = pageSize is null ? null : new QueryOptions { PageSize = pageSize };
        await foreach (var item in QueryItemsAsync("SELECT * FROM devices.jobs WHERE " + where, options, cancellationToken).ConfigureAwait(false))
        {
            if (item.Item is JsonObject record)
            {
                yield return DeviceJobRecord.FromJson(record);
            }
        }
    }

    // PUT of a new job. When an earlier attempt may have been applied (see LostAnswer) and the retry is refused 409
    // JobAlreadyExists, the job is read back: the same type and condition is our own create.
    private async Task<IoTHubJob> CreateJobAsync(string jobId, string type, string condition, JsonObject body, CancellationToken cancellationToken)
    {
        try
        {
            using var message = await SendAsync(RequestMethod.Put, "/jobs/v2/" + Escape(jobId), body, null, null, cancellationToken).ConfigureAwait(false);
            return IoTHubJob.FromJson(ReadJsonObject(message.Response, "job"));
        }
        catch (IoTHubServiceException ex) when (ex.Status == 409 && ex.FollowsLostAttempt)
        {
            IoTHubJob existing;
            try
            {
                existing = await GetJobAsync(jobId, cancellationToken).ConfigureAwait(false);
            }
            catch (IoTHubServiceException)
            {
                throw ex;
            }

            if (JobRules.SameJob(existing, type, condition))
            {
                return existing;
            }

            throw;
        }
    }

    private static void AddTimes(JsonObject body, DateTimeOffset? startTime, TimeSpan? maxExecutionTime)
    {
        if (startTime is DateTimeOffset start)
        {
            if (start - DateTimeOffset.UtcNow > JobLimits.MaxStartTimeAhead)
            {
                throw new ArgumentOutOfRangeException(nameof(startTime), start, "IoT Hub starts a job at most 168 hours (7 days) ahead.");
            }

            body["startTime"] = JobRequest.FormatTime(start);
        }

        if (maxExecutionTime is TimeSpan max)
        {
            if (max < TimeSpan.FromSeconds(1) || max.Ticks % TimeSpan.TicksPerSecond != 0)
            {
                throw new ArgumentOutOfRangeException(nameof(maxExecutionTime), max, "The maximum execution time must be a positive number of whole seconds.");
            }

            body["maxExecutionTimeInSeconds"] = (long)max.TotalSeconds;
        }
    }

    private static IoTHubServiceException JobNotFound(string jobId) => new(
        $"IoT Hub has no job '{jobId}' (it answered with type and status 'unknown').", 404, "JobNotFound", 404002, null, isTransient: false);
}
