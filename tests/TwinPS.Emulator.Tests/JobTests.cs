using System.Net;
using System.Text.Json.Nodes;
using TwinPS.Emulator.Tests.Infrastructure;
using TwinPS.Testing;

namespace TwinPS.Emulator.Tests;

/// <summary>Jobs v2 against a real emulator: create/get/cancel/list, the runner, devices.jobs.</summary>
public sealed class JobTests(EmulatorFixture fixture) : IClassFixture<EmulatorFixture>
{
    private readonly HubClient _hub = fixture.Owner;

    internal static string NewJobId() => "job-" + Guid.NewGuid().ToString("N")[..12];

    internal static string TwinJob(string jobId, string condition, string update, string? startTime = null, long? maxSeconds = null)
    {
        var body = new JsonObject
        {
            ["jobId"] = jobId,
            ["type"] = "scheduleUpdateTwin",
            ["queryCondition"] = condition,
            ["updateTwin"] = JsonNode.Parse(update),
            ["startTime"] = startTime,
        };
        if (maxSeconds is not null) body["maxExecutionTimeInSeconds"] = maxSeconds;
        return body.ToJsonString();
    }

    internal static string MethodJob(string jobId, string condition, string methodName, int response = 10, int? connect = null, long? maxSeconds = null, string? startTime = null)
    {
        var method = new JsonObject { ["methodName"] = methodName, ["payload"] = new JsonObject { ["n"] = 1 }, ["responseTimeoutInSeconds"] = response };
        if (connect is not null) method["connectTimeoutInSeconds"] = connect;
        var body = new JsonObject
        {
            ["jobId"] = jobId,
            ["type"] = "scheduleDeviceMethod",
            ["queryCondition"] = condition,
            ["cloudToDeviceMethod"] = method,
            ["startTime"] = startTime,
        };
        if (maxSeconds is not null) body["maxExecutionTimeInSeconds"] = maxSeconds;
        return body.ToJsonString();
    }

    /// <summary>Polls GET /jobs/v2/{id} until the predicate holds (generous overall limit; fails with the last state).</summary>
    internal static async Task<JsonObject> WaitForJobAsync(HubClient hub, string jobId, Func<JsonObject, bool> done)
    {
        DateTime end = DateTime.UtcNow + TimeBounds.Eventually;
        JsonObject job;
        do
        {
            HubResponse r = await hub.GetAsync("jobs/v2/" + jobId);
            Assert.Equal(HttpStatusCode.OK, r.Status);
            job = r.Obj;
            if (done(job)) return job;
            await Task.Delay(50);
        }
        while (DateTime.UtcNow < end);
        throw new Xunit.Sdk.XunitException("job did not reach the expected state: " + job.ToJsonString());
    }

    internal static bool IsTerminal(JsonObject job) => (string?)job["status"] is "completed" or "failed" or "cancelled";

    internal static async Task<List<JsonObject>> DeviceJobsAsync(HubClient hub, string jobId, string? extra = null)
    {
        var rows = new List<JsonObject>();
        string query = $"SELECT * FROM devices.jobs WHERE devices.jobs.jobId = '{jobId}'" + (extra is null ? string.Empty : " AND " + extra);
        string? token = null;
        do
        {
            string? sent = token;
            HubResponse r = await hub.PostAsync("devices/query", new JsonObject { ["query"] = query }.ToJsonString(), m =>
            {
                m.Headers.TryAddWithoutValidation("x-ms-max-item-count", "10");
                if (sent is not null) m.Headers.TryAddWithoutValidation("x-ms-continuation", sent);
            });
            Assert.Equal(HttpStatusCode.OK, r.Status);
            Assert.Equal("DeviceJob", r.Header("x-ms-item-type"));
            rows.AddRange(((JsonArray)r.Json!).Select(n => (JsonObject)n!));
            token = r.Header("x-ms-continuation");
        }
        while (token is not null);
        return rows;
    }

    internal static async Task CreateDevicesAsync(HubClient hub, IEnumerable<string> ids, string? plant = null)
    {
        foreach (string[] chunk in ids.Chunk(100))
        {
            var body = new JsonArray(chunk.Select(id => (JsonNode)new JsonObject { ["id"] = id, ["importMode"] = "create" }).ToArray());
            HubResponse r = await hub.PostAsync("devices", body.ToJsonString());
            Assert.Equal(HttpStatusCode.OK, r.Status);
            if (plant is null) continue;
            foreach (string id in chunk)
            {
                HubResponse t = await hub.PatchAsync("twins/" + id, "{\"tags\":{\"plant\":\"" + plant + "\"}}");
                Assert.Equal(HttpStatusCode.OK, t.Status);
            }
        }
    }

    [Fact]
    public async Task A_twin_update_job_merges_into_every_matching_twin_and_connected_devices_get_the_desired_patch()
    {
        string plant = Ids.New("plant");
        string[] ids = [Ids.New("j"), Ids.New("j"), Ids.New("j")];
        string outsider = Ids.New("j");
        await CreateDevicesAsync(_hub, ids, plant);
        await CreateDevicesAsync(_hub, [outsider]);
        await _hub.PatchAsync("twins/" + ids[0], """{"properties":{"desired":{"legacy":true,"keep":1}}}""");
        HubResponse identity = await _hub.GetAsync("devices/" + ids[0]);
        using RawMqttDevice device = await RawMqttDevice.ConnectAsync(fixture.Emulator, identity.Obj);
        await device.SubscribeAsync("$iothub/twin/PATCH/properties/desired/#");
        string jobId = NewJobId();

        HubResponse created = await _hub.PutAsync("jobs/v2/" + jobId, TwinJob(jobId, $"tags.plant = '{plant}'",
            """{"etag":"*","tags":{"ring":"b"},"properties":{"desired":{"fw":"2.1.0","legacy":null}}}"""));

        Assert.Equal(HttpStatusCode.OK, created.Status);
        Assert.Equal(jobId, (string)created.Obj["jobId"]!);
        Assert.Equal("scheduleUpdateTwin", (string)created.Obj["type"]!);
        Assert.Equal("queued", (string)created.Obj["status"]!);
        JsonObject job = await WaitForJobAsync(_hub, jobId, IsTerminal);
        Assert.Equal("completed", (string)job["status"]!);
        Assert.NotNull(job["endTime"]);
        JsonObject stats = (JsonObject)job["deviceJobStatistics"]!;
        Assert.Equal(3, (int)stats["deviceCount"]!);
        Assert.Equal(3, (int)stats["succeededCount"]!);
        Assert.Equal(0, (int)stats["failedCount"]! + (int)stats["pendingCount"]! + (int)stats["runningCount"]!);
        foreach (string id in ids)
        {
            JsonObject twin = await _hub.GetTwinAsync(id);
            Assert.Equal("b", (string)twin["tags"]!["ring"]!);
            Assert.Equal("2.1.0", (string)twin["properties"]!["desired"]!["fw"]!);
        }

        JsonObject first = await _hub.GetTwinAsync(ids[0]);
        Assert.Null(first["properties"]!["desired"]!["legacy"]);
        Assert.Equal(1, (int)first["properties"]!["desired"]!["keep"]!);
        Assert.Null((await _hub.GetTwinAsync(outsider))["tags"]?["ring"]);
        (_, string patch) = device.Receive("$iothub/twin/PATCH/properties/desired/", TimeBounds.Eventually);
        Assert.Equal("2.1.0", (string)JsonNode.Parse(patch)!["fw"]!);

        List<JsonObject> rows = await DeviceJobsAsync(_hub, jobId);
        Assert.Equal(ids.Order(StringComparer.Ordinal), rows.Select(r => (string)r["deviceId"]!).Order(StringComparer.Ordinal));
        Assert.All(rows, r =>
        {
            Assert.Equal("completed", (string)r["status"]!);
            Assert.Equal("scheduleUpdateTwin", (string)r["jobType"]!);
            Assert.NotNull(r["endTimeUtc"]);
            Assert.Null(r["outcome"]!["deviceMethodResponse"]);
        });
    }

    [Fact]
    public async Task A_condition_that_matches_nobody_completes_with_no_devices()
    {
        string jobId = NewJobId();
        HubResponse created = await _hub.PutAsync("jobs/v2/" + jobId, TwinJob(jobId, $"tags.plant = '{Ids.New("nowhere")}'", """{"etag":"*","tags":{"x":1}}"""));
        Assert.Equal(HttpStatusCode.OK, created.Status);

        JsonObject job = await WaitForJobAsync(_hub, jobId, IsTerminal);

        Assert.Equal("completed", (string)job["status"]!);
        Assert.Equal(0, (int)job["deviceJobStatistics"]!["deviceCount"]!);
        Assert.Empty(await DeviceJobsAsync(_hub, jobId));
    }

    [Fact]
    public async Task An_invalid_condition_is_accepted_and_fails_the_job_when_it_runs()
    {
        string jobId = NewJobId();
        HubResponse created = await _hub.PutAsync("jobs/v2/" + jobId, TwinJob(jobId, "tags.plant = = 'x'", """{"etag":"*","tags":{"x":1}}"""));
        Assert.Equal(HttpStatusCode.OK, created.Status);
        Assert.Equal("queued", (string)created.Obj["status"]!);

        JsonObject job = await WaitForJobAsync(_hub, jobId, IsTerminal);

        Assert.Equal("failed", (string)job["status"]!);
        Assert.Contains("query condition is invalid", (string)job["failureReason"]!, StringComparison.Ordinal);
        Assert.Equal(0, (int)job["deviceJobStatistics"]!["deviceCount"]!);
    }

    [Fact]
    public async Task Bad_create_requests_are_refused_and_create_nothing()
    {
        string jobId = NewJobId();
        string future = DateTimeOffset.UtcNow.AddHours(200).ToString("o");

        Assert.Equal("ArgumentInvalid", (await _hub.PutAsync("jobs/v2/Upper-Case", TwinJob("Upper-Case", "*", """{"etag":"*"}"""))).Header("iothub-errorcode"));
        Assert.Equal("GenericBadRequest", (await _hub.PutAsync("jobs/v2/" + jobId, """{"jobId":"x","type":"scheduleTwinUpdate","queryCondition":"*"}""".Replace("\"x\"", "\"" + jobId + "\"", StringComparison.Ordinal))).Header("iothub-errorcode"));
        Assert.Equal(HttpStatusCode.PreconditionFailed, (await _hub.PutAsync("jobs/v2/" + jobId, TwinJob(jobId, "*", """{"etag":"AAAAAAAAAAE=","tags":{"a":1}}"""))).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await _hub.PutAsync("jobs/v2/" + jobId, TwinJob(jobId, "", """{"etag":"*"}"""))).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await _hub.PutAsync("jobs/v2/" + jobId, TwinJob(jobId, "*", """{"etag":"*"}""", startTime: future))).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await _hub.PutAsync("jobs/v2/" + jobId, TwinJob(jobId, "*", """{"etag":"*"}""", maxSeconds: 0))).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await _hub.PutAsync("jobs/v2/" + jobId, TwinJob(jobId, "*", """{"etag":"*","properties":{"reported":{"a":1}}}"""))).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await _hub.PutAsync("jobs/v2/" + jobId, TwinJob(jobId, "*", """{"etag":"*","tags":{"bad$key":1}}"""))).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await _hub.PutAsync("jobs/v2/" + jobId, MethodJob(jobId, "*", "m", response: 1))).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await _hub.PutAsync("jobs/v2/" + jobId, TwinJob("other-id", "*", """{"etag":"*"}"""))).Status);
        Assert.Equal(HttpStatusCode.PreconditionFailed, (await _hub.PutAsync("jobs/v2/" + jobId, TwinJob(jobId, "deviceId = '" + new string('x', 8200) + "'", """{"etag":"*"}"""))).Status);

        // Nothing was created: GET answers the hub's "unknown" document, cancel answers 404.
        HubResponse get = await _hub.GetAsync("jobs/v2/" + jobId);
        Assert.Equal(HttpStatusCode.OK, get.Status);
        Assert.Equal("unknown", (string)get.Obj["type"]!);
        Assert.Equal("unknown", (string)get.Obj["status"]!);
        HubResponse cancel = await _hub.PostAsync($"jobs/v2/{jobId}/cancel", null!);
        Assert.Equal(HttpStatusCode.NotFound, cancel.Status);
        Assert.Equal("JobNotFound", cancel.Header("iothub-errorcode"));
    }

    [Fact]
    public async Task A_duplicate_job_id_is_409_and_a_null_etag_is_accepted()
    {
        string jobId = NewJobId();
        HubResponse first = await _hub.PutAsync("jobs/v2/" + jobId, TwinJob(jobId, "deviceId = 'nobody'", """{"etag":null,"deviceId":null,"version":null,"tags":{"a":1},"properties":{"desired":{},"reported":{}}}"""));
        HubResponse second = await _hub.PutAsync("jobs/v2/" + jobId, TwinJob(jobId, "*", """{"etag":"*"}"""));

        Assert.Equal(HttpStatusCode.OK, first.Status);
        Assert.Equal(HttpStatusCode.Conflict, second.Status);
        Assert.Equal("JobAlreadyExists", second.Header("iothub-errorcode"));
        Assert.Equal("deviceId = 'nobody'", (string)(await _hub.GetAsync("jobs/v2/" + jobId)).Obj["queryCondition"]!);
    }

    [Fact]
    public async Task A_scheduled_job_waits_for_its_start_time_and_can_be_cancelled_before_it()
    {
        string soon = NewJobId(), later = NewJobId();
        string id = Ids.New("j");
        await CreateDevicesAsync(_hub, [id]);
        DateTimeOffset start = DateTimeOffset.UtcNow.AddSeconds(3);

        HubResponse created = await _hub.PutAsync("jobs/v2/" + soon, TwinJob(soon, $"deviceId = '{id}'", """{"etag":"*","tags":{"scheduled":true}}""", start.ToString("o")));
        await _hub.PutAsync("jobs/v2/" + later, TwinJob(later, $"deviceId = '{id}'", """{"etag":"*","tags":{"never":true}}""", DateTimeOffset.UtcNow.AddHours(1).ToString("o")));

        Assert.Equal("queued", (string)created.Obj["status"]!);
        JsonObject waiting = await WaitForJobAsync(_hub, later, j => (string?)j["status"] == "scheduled");
        HubResponse cancel = await _hub.PostAsync($"jobs/v2/{later}/cancel", null!);
        Assert.Equal(HttpStatusCode.OK, cancel.Status);
        Assert.Equal("cancelled", (string)cancel.Obj["status"]!);
        Assert.Equal("cancelled", (string)(await _hub.GetAsync("jobs/v2/" + later)).Obj["status"]!);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, (await _hub.PostAsync($"jobs/v2/{later}/cancel", null!)).Status);
        Assert.NotNull(waiting["startTime"]);

        JsonObject done = await WaitForJobAsync(_hub, soon, IsTerminal);
        Assert.Equal("completed", (string)done["status"]!);
        Assert.True(DateTimeOffset.Parse((string)done["endTime"]!, System.Globalization.CultureInfo.InvariantCulture) >= start.AddMilliseconds(-1));
        JsonObject twin = await _hub.GetTwinAsync(id);
        Assert.True((bool)twin["tags"]!["scheduled"]!);
        Assert.Null(twin["tags"]!["never"]);
        Assert.Equal("OperationNotAllowedInCurrentState", (await _hub.PostAsync($"jobs/v2/{soon}/cancel", null!)).Header("iothub-errorcode"));
    }

    [Fact]
    public async Task A_method_job_records_each_device_outcome_and_offline_devices_fail()
    {
        string plant = Ids.New("plant");
        string online = Ids.New("j"), offline = Ids.New("j");
        await CreateDevicesAsync(_hub, [online, offline], plant);
        HubResponse identity = await _hub.GetAsync("devices/" + online);
        using RawMqttDevice device = await RawMqttDevice.ConnectAsync(fixture.Emulator, identity.Obj);
        device.AnswerMethods((name, payload) => (200, $$"""{"ran":"{{name}}","got":{{payload}}}"""));
        await device.SubscribeAsync("$iothub/methods/POST/#");
        string jobId = NewJobId();

        HubResponse created = await _hub.PutAsync("jobs/v2/" + jobId, MethodJob(jobId, $"tags.plant = '{plant}'", "reboot"));
        Assert.Equal(HttpStatusCode.OK, created.Status);
        Assert.Equal("reboot", (string)created.Obj["cloudToDeviceMethod"]!["methodName"]!);

        JsonObject job = await WaitForJobAsync(_hub, jobId, IsTerminal);
        Assert.Equal("completed", (string)job["status"]!);
        Assert.Equal(1, (int)job["deviceJobStatistics"]!["succeededCount"]!);
        Assert.Equal(1, (int)job["deviceJobStatistics"]!["failedCount"]!);
        List<JsonObject> rows = await DeviceJobsAsync(_hub, jobId);
        JsonObject ok = rows.Single(r => (string)r["deviceId"]! == online);
        JsonObject failed = rows.Single(r => (string)r["deviceId"]! == offline);
        Assert.Equal("completed", (string)ok["status"]!);
        Assert.Equal(200, (int)ok["outcome"]!["deviceMethodResponse"]!["status"]!);
        Assert.Equal("reboot", (string)ok["outcome"]!["deviceMethodResponse"]!["payload"]!["ran"]!);
        Assert.Equal(1, (int)ok["outcome"]!["deviceMethodResponse"]!["payload"]!["got"]!["n"]!);
        Assert.Equal("failed", (string)failed["status"]!);
        Assert.Equal("DeviceNotOnline", (string)failed["error"]!["code"]!);

        // A condition on the job record's own fields works too.
        List<JsonObject> failedOnly = await DeviceJobsAsync(_hub, jobId, "devices.jobs.status = 'failed'");
        Assert.Equal(offline, (string)Assert.Single(failedOnly)["deviceId"]!);
    }

    [Fact]
    public async Task Cancelling_a_running_job_stops_it_and_the_devices_not_reached_are_canceled()
    {
        // 40 offline devices, each call waiting 5 s for a connection: 32 are in flight, 8 wait when the job is cancelled.
        string plant = Ids.New("plant");
        string[] ids = Enumerable.Range(0, 40).Select(_ => Ids.New("c")).ToArray();
        await CreateDevicesAsync(_hub, ids, plant);
        string jobId = NewJobId();
        await _hub.PutAsync("jobs/v2/" + jobId, MethodJob(jobId, $"tags.plant = '{plant}'", "slow", response: 5, connect: 5));
        await WaitForJobAsync(_hub, jobId, j => (int)j["deviceJobStatistics"]!["runningCount"]! > 0);

        HubResponse cancel = await _hub.PostAsync($"jobs/v2/{jobId}/cancel", null!);

        Assert.Equal(HttpStatusCode.OK, cancel.Status);
        Assert.Equal("cancelled", (string)cancel.Obj["status"]!);
        JsonObject job = await WaitForJobAsync(_hub, jobId, j => (int)j["deviceJobStatistics"]!["runningCount"]! == 0 && (int)j["deviceJobStatistics"]!["pendingCount"]! == 0);
        Assert.Equal("cancelled", (string)job["status"]!);
        Assert.Equal(40, (int)job["deviceJobStatistics"]!["failedCount"]!);
        List<JsonObject> rows = await DeviceJobsAsync(_hub, jobId);
        Assert.Equal(40, rows.Count);
        Assert.Contains(rows, r => (string)r["status"]! == "canceled");
        Assert.All(rows, r => Assert.True((string)r["status"]! is "canceled" or "failed"));
    }

    [Fact]
    public async Task A_job_that_exceeds_maxExecutionTime_fails_and_the_devices_not_reached_fail()
    {
        string plant = Ids.New("plant");
        string[] ids = Enumerable.Range(0, 40).Select(_ => Ids.New("t")).ToArray();
        await CreateDevicesAsync(_hub, ids, plant);
        string jobId = NewJobId();

        await _hub.PutAsync("jobs/v2/" + jobId, MethodJob(jobId, $"tags.plant = '{plant}'", "slow", response: 5, connect: 5, maxSeconds: 1));

        JsonObject job = await WaitForJobAsync(_hub, jobId, IsTerminal);
        Assert.Equal("failed", (string)job["status"]!);
        Assert.Contains("maxExecutionTimeInSeconds", (string)job["failureReason"]!, StringComparison.Ordinal);
        Assert.Equal(40, (int)job["deviceJobStatistics"]!["failedCount"]!);
        // 32 calls were in flight when the budget ran out (they end with 404103 after their 5 s connect timeout); the
        // devices not started by then are failed with JobExpired.
        List<JsonObject> expired = await DeviceJobsAsync(_hub, jobId, "devices.jobs.error.code = 'JobExpired'");
        List<JsonObject> offline = await DeviceJobsAsync(_hub, jobId, "devices.jobs.error.code = 'DeviceNotOnline'");
        Assert.True(expired.Count >= 8, $"{expired.Count} JobExpired");
        Assert.Equal(40, expired.Count + offline.Count);
    }

    [Fact]
    public async Task The_job_list_filters_by_type_and_status_and_pages()
    {
        string start = DateTimeOffset.UtcNow.AddHours(1).ToString("o");
        string[] twinJobs = [NewJobId(), NewJobId(), NewJobId()];
        string methodJob = NewJobId();
        foreach (string id in twinJobs) Assert.Equal(HttpStatusCode.OK, (await _hub.PutAsync("jobs/v2/" + id, TwinJob(id, "*", """{"etag":"*","tags":{"x":1}}""", start))).Status);
        Assert.Equal(HttpStatusCode.OK, (await _hub.PutAsync("jobs/v2/" + methodJob, MethodJob(methodJob, "*", "m", startTime: start))).Status);
        foreach (string id in twinJobs.Append(methodJob)) await WaitForJobAsync(_hub, id, j => (string?)j["status"] == "scheduled");

        foreach (string query in new[] { "jobType=scheduleUpdateTwin&jobStatus=scheduled", "jobType=ScheduleUpdateTwin&jobStatus=Scheduled" })
        {
            var seen = new List<JsonObject>();
            string? token = null;
            int pages = 0;
            do
            {
                string? sent = token;
                HubResponse r = await _hub.GetAsync("jobs/v2/query?" + query, m =>
                {
                    m.Headers.TryAddWithoutValidation("x-ms-max-item-count", "1");
                    if (sent is not null) m.Headers.TryAddWithoutValidation("x-ms-continuation", sent);
                });
                Assert.Equal(HttpStatusCode.OK, r.Status);
                Assert.Equal("JobResponse", r.Header("x-ms-item-type"));
                JsonArray items = (JsonArray)r.Json!;
                Assert.True(items.Count <= 1);
                seen.AddRange(items.Select(n => (JsonObject)n!));
                token = r.Header("x-ms-continuation");
                pages++;
            }
            while (token is not null && pages < 1000);

            Assert.Null(token);
            Assert.All(seen, j => Assert.Equal(("scheduleUpdateTwin", "scheduled"), ((string)j["type"]!, (string)j["status"]!)));
            List<string> mine = seen.Select(j => (string)j["jobId"]!).Where(twinJobs.Contains).ToList();
            Assert.Equal(twinJobs, mine); // creation order
            Assert.DoesNotContain(seen, j => (string)j["jobId"]! == methodJob);
        }

        HubResponse all = await _hub.GetAsync("jobs/v2/query");
        Assert.Contains(((JsonArray)all.Json!).Select(n => (string)n!["jobId"]!), id => id == methodJob);
        HubResponse none = await _hub.GetAsync("jobs/v2/query?jobType=scheduleDeviceMethod&jobStatus=nosuchstatus");
        Assert.Empty((JsonArray)none.Json!);
        Assert.Equal("JobResponse", none.Header("x-ms-item-type"));
        foreach (string id in twinJobs.Append(methodJob)) Assert.Equal(HttpStatusCode.OK, (await _hub.PostAsync($"jobs/v2/{id}/cancel", null!)).Status);
    }

    [Fact]
    public async Task Jobs_need_ServiceConnect()
    {
        using HubClient registry = fixture.Client("registryReadWrite");
        string jobId = NewJobId();

        Assert.Equal(HttpStatusCode.Unauthorized, (await registry.PutAsync("jobs/v2/" + jobId, TwinJob(jobId, "*", """{"etag":"*"}"""))).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await registry.GetAsync("jobs/v2/" + jobId)).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await registry.GetAsync("jobs/v2/query")).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await registry.PostAsync($"jobs/v2/{jobId}/cancel", null!)).Status);
    }
}
