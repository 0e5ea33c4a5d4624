using System.Text.Json.Nodes;
using TwinPS.Client.Tests.Infrastructure;
using TwinPS.Protocol;

namespace TwinPS.Client.Tests;

/// <summary>Request shapes and retry rules of direct methods and jobs v2, against a recording HTTPS server.</summary>
public sealed class MethodAndJobRequestTests : IAsyncLifetime
{
    private TestHttpsServer _server = null!;

    public async Task InitializeAsync() => _server = await TestHttpsServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Invoke_posts_the_call_to_the_device_and_returns_the_device_answer()
    {
        _server.Handler = (_, ctx) => TestHttpsServer.Reply(ctx, 200, """{"status":201,"payload":{"done":true,"n":[1,2]}}""");
        using var client = TestClients.For(_server);

        var result = await client.InvokeMethodAsync("dev#1", null, DirectMethodRequest.Create("reboot", new JsonObject { ["delay"] = 5 }, 45, 10));

        var request = Assert.Single(_server.Requests);
        Assert.Equal("POST", request.Method);
        Assert.StartsWith("/twins/dev%231/methods?api-version=2021-04-12", request.RawTarget);
        var body = JsonNode.Parse(request.Body)!.AsObject();
        Assert.Equal("reboot", (string?)body["methodName"]);
        Assert.Equal(5, (int?)body["payload"]!["delay"]);
        Assert.Equal(45, (int?)body["responseTimeoutInSeconds"]);
        Assert.Equal(10, (int?)body["connectTimeoutInSeconds"]);
        Assert.Equal(201, result.Status);
        Assert.Equal("dev#1", result.DeviceId);
        Assert.Equal("reboot", result.MethodName);
        Assert.Equal("""{"done":true,"n":[1,2]}""", result.Payload!.ToJsonString());
    }

    [Fact]
    public async Task Invoke_on_a_module_uses_the_module_path_and_sends_null_payload()
    {
        _server.Handler = (_, ctx) => TestHttpsServer.Reply(ctx, 200, """{"status":200,"payload":null}""");
        using var client = TestClients.For(_server);

        var result = await client.InvokeMethodAsync("dev1", "mod1", DirectMethodRequest.Create("ping", null));

        var request = Assert.Single(_server.Requests);
        Assert.StartsWith("/twins/dev1/modules/mod1/methods?", request.RawTarget);
        var body = JsonNode.Parse(request.Body)!.AsObject();
        Assert.True(body.ContainsKey("payload"));
        Assert.Null(body["payload"]);
        Assert.Equal(30, (int?)body["responseTimeoutInSeconds"]);
        Assert.Equal(0, (int?)body["connectTimeoutInSeconds"]);
        Assert.Equal("mod1", result.ModuleId);
        Assert.Null(result.Payload);
    }

    [Theory]
    [InlineData(504, "GatewayTimeout")]
    [InlineData(500, "ServerError")]
    [InlineData(503, "ServiceUnavailable")]
    [InlineData(404, "DeviceNotOnline")]
    public async Task Invoke_is_never_retried_after_an_answer_that_may_follow_a_run(int status, string code)
    {
        _server.Handler = (_, ctx) => TestHttpsServer.ReplyError(ctx, status, code);
        using var client = TestClients.For(_server);

        var ex = await Assert.ThrowsAsync<IoTHubServiceException>(() => client.InvokeMethodAsync("dev1", null, DirectMethodRequest.Create("reboot", null)));

        Assert.Equal(status, ex.Status);
        Assert.Equal(code, ex.ErrorCode);
        Assert.Equal("dev1", ex.DeviceId);
        Assert.Single(_server.Requests);
    }

    [Fact]
    public async Task Invoke_is_not_retried_after_a_dropped_connection()
    {
        _server.Handler = (_, ctx) =>
        {
            ctx.Abort();
            return Task.CompletedTask;
        };
        using var client = TestClients.For(_server);

        var ex = await Assert.ThrowsAsync<IoTHubServiceException>(() => client.InvokeMethodAsync("dev1", null, DirectMethodRequest.Create("reboot", null)));

        Assert.Equal(0, ex.Status);
        Assert.Single(_server.Requests);
    }

    [Fact]
    public async Task Invoke_is_retried_on_429_and_then_succeeds()
    {
        var attempts = 0;
        _server.Handler = (_, ctx) => Interlocked.Increment(ref attempts) <= 2
            ? TestHttpsServer.ReplyError(ctx, 429, "ThrottlingException")
            : TestHttpsServer.Reply(ctx, 200, """{"status":200,"payload":"ok"}""");
        using var client = TestClients.For(_server);

        var result = await client.InvokeMethodAsync("dev1", null, DirectMethodRequest.Create("reboot", null));

        Assert.Equal(3, _server.Requests.Count);
        Assert.Equal("\"ok\"", result.Payload!.ToJsonString());
    }

    [Fact]
    public async Task Invoke_waits_longer_than_the_client_default_network_timeout()
    {
        // The client's default per-try timeout is cut to 300 ms; the answer takes 1.5 s. A method call's own network
        // timeout (response + connect + 15 s) must apply instead, with no second call.
        _server.Handler = async (_, ctx) =>
        {
            await Task.Delay(1500);
            await TestHttpsServer.Reply(ctx, 200, """{"status":200,"payload":{}}""");
        };
        var options = TestClients.FastOptions();
        options.Retry.NetworkTimeout = TimeSpan.FromMilliseconds(300);
        using var client = TestClients.For(_server, options);

        var result = await client.InvokeMethodAsync("dev1", null, DirectMethodRequest.Create("slow", null, 5));

        Assert.Equal(200, result.Status);
        Assert.Single(_server.Requests);
    }

    [Fact]
    public void The_client_waits_for_a_call_as_long_as_the_hub_may_take()
    {
        Assert.Equal(TimeSpan.FromSeconds(60 + 30 + 15), IoTHubServiceClient.MethodNetworkTimeout(DirectMethodRequest.Create("m", null, 60, 30)));
        Assert.Equal(TimeSpan.FromSeconds(30 + 15), IoTHubServiceClient.MethodNetworkTimeout(DirectMethodRequest.Create("m", null)));
    }

    [Fact]
    public async Task Twin_update_job_is_put_with_etag_star_and_typed_times()
    {
        _server.Handler = (_, ctx) => TestHttpsServer.Reply(ctx, 200,
            """{"jobId":"job-1","type":"scheduleUpdateTwin","status":"queued","queryCondition":"tags.plant = 'R43'","createdTime":"2026-11-27T06:46:02.356Z","startTime":"2026-11-27T07:00:00Z","maxExecutionTimeInSeconds":600,"deviceJobStatistics":{"deviceCount":3,"pendingCount":3}}""");
        using var client = TestClients.For(_server);
        var start = new DateTimeOffset(2026, 11, 27, 7, 0, 0, TimeSpan.Zero);

        var job = await client.ScheduleTwinUpdateAsync("job-1", "tags.plant = 'R43'", new JsonObject { ["ring"] = "b" }, new JsonObject { ["fw"] = "2.1", ["old"] = null }, start, TimeSpan.FromMinutes(10));

        var request = Assert.Single(_server.Requests);
        Assert.Equal("PUT", request.Method);
        Assert.StartsWith("/jobs/v2/job-1?api-version=2021-04-12", request.RawTarget);
        var body = JsonNode.Parse(request.Body)!.AsObject();
        Assert.Equal("job-1", (string?)body["jobId"]);
        Assert.Equal("scheduleUpdateTwin", (string?)body["type"]);
        Assert.Equal("tags.plant = 'R43'", (string?)body["queryCondition"]);
        Assert.Equal("*", (string?)body["updateTwin"]!["etag"]);
        Assert.Equal("b", (string?)body["updateTwin"]!["tags"]!["ring"]);
        Assert.Equal("2.1", (string?)body["updateTwin"]!["properties"]!["desired"]!["fw"]);
        Assert.True(body["updateTwin"]!["properties"]!["desired"]!.AsObject().ContainsKey("old"));
        Assert.Equal("2026-11-27T07:00:00.000Z", (string?)body["startTime"]);
        Assert.Equal(600, (long?)body["maxExecutionTimeInSeconds"]);
        Assert.Equal("queued", job.Status);
        Assert.Equal(start, job.StartTime);
        Assert.Null(job.EndTime);
        Assert.Equal(3, job.Statistics.DeviceCount);
        Assert.Equal(3, job.Statistics.PendingCount);
    }

    [Fact]
    public async Task Method_job_carries_the_method_call()
    {
        _server.Handler = (_, ctx) => TestHttpsServer.Reply(ctx, 200, """{"jobId":"m-1","type":"scheduleDeviceMethod","status":"queued"}""");
        using var client = TestClients.For(_server);

        await client.ScheduleDeviceMethodAsync("m-1", "*", DirectMethodRequest.Create("reboot", new JsonObject { ["delay"] = 1 }, 20, 5));

        var body = JsonNode.Parse(Assert.Single(_server.Requests).Body)!.AsObject();
        Assert.Equal("scheduleDeviceMethod", (string?)body["type"]);
        Assert.Equal("reboot", (string?)body["cloudToDeviceMethod"]!["methodName"]);
        Assert.Equal(20, (int?)body["cloudToDeviceMethod"]!["responseTimeoutInSeconds"]);
        Assert.False(body.ContainsKey("startTime"));
        Assert.False(body.ContainsKey("updateTwin"));
    }

    [Fact]
    public async Task Create_retried_into_409_is_success_when_the_job_read_back_is_the_same()
    {
        var puts = 0;
        _server.Handler = (req, ctx) =>
        {
            if (req.Method == "PUT")
            {
                // The first attempt "creates" the job but its answer is lost (503); the retry meets 409.
                return Interlocked.Increment(ref puts) == 1
                    ? TestHttpsServer.ReplyError(ctx, 503, "ServiceUnavailable")
                    : TestHttpsServer.ReplyError(ctx, 409, "JobAlreadyExists");
            }

            return TestHttpsServer.Reply(ctx, 200, """{"jobId":"job-2","type":"scheduleUpdateTwin","status":"running","queryCondition":"*"}""");
        };
        using var client = TestClients.For(_server);

        var job = await client.ScheduleTwinUpdateAsync("job-2", "*", null, new JsonObject { ["a"] = 1 });

        Assert.Equal("running", job.Status);
        Assert.Equal(["PUT", "PUT", "GET"], _server.Requests.Select(r => r.Method));
    }

    [Fact]
    public async Task Create_retried_into_409_for_a_different_job_is_a_conflict()
    {
        var puts = 0;
        _server.Handler = (req, ctx) => req.Method == "PUT"
            ? (Interlocked.Increment(ref puts) == 1 ? TestHttpsServer.ReplyError(ctx, 503, "ServiceUnavailable") : TestHttpsServer.ReplyError(ctx, 409, "JobAlreadyExists"))
            : TestHttpsServer.Reply(ctx, 200, """{"jobId":"job-3","type":"scheduleUpdateTwin","status":"running","queryCondition":"tags.other = 1"}""");
        using var client = TestClients.For(_server);

        var ex = await Assert.ThrowsAsync<IoTHubServiceException>(() => client.ScheduleTwinUpdateAsync("job-3", "*", null, new JsonObject { ["a"] = 1 }));

        Assert.Equal(409, ex.Status);
        Assert.Equal("JobAlreadyExists", ex.ErrorCode);
    }

    [Fact]
    public async Task Create_retried_after_a_429_into_409_is_a_real_conflict_and_is_not_read_back()
    {
        // A throttled attempt was refused before it was applied: the 409 of the retry is someone else's job, even when
        // that job has the same type and condition.
        var puts = 0;
        _server.Handler = (req, ctx) => req.Method == "PUT"
            ? (Interlocked.Increment(ref puts) == 1 ? TestHttpsServer.ReplyError(ctx, 429, "ThrottlingException") : TestHttpsServer.ReplyError(ctx, 409, "JobAlreadyExists"))
            : TestHttpsServer.Reply(ctx, 200, """{"jobId":"job-5","type":"scheduleUpdateTwin","status":"running","queryCondition":"*"}""");
        using var client = TestClients.For(_server);

        var ex = await Assert.ThrowsAsync<IoTHubServiceException>(() => client.ScheduleTwinUpdateAsync("job-5", "*", null, new JsonObject { ["a"] = 1 }));

        Assert.Equal(409, ex.Status);
        Assert.Equal("JobAlreadyExists", ex.ErrorCode);
        Assert.Equal(["PUT", "PUT"], _server.Requests.Select(r => r.Method));
    }

    [Fact]
    public async Task A_first_attempt_409_is_a_real_conflict_and_is_not_read_back()
    {
        _server.Handler = (_, ctx) => TestHttpsServer.ReplyError(ctx, 409, "JobAlreadyExists");
        using var client = TestClients.For(_server);

        var ex = await Assert.ThrowsAsync<IoTHubServiceException>(() => client.ScheduleTwinUpdateAsync("job-4", "*", null, new JsonObject { ["a"] = 1 }));

        Assert.Equal("JobAlreadyExists", ex.ErrorCode);
        Assert.Single(_server.Requests);
    }

    [Fact]
    public async Task Unknown_job_is_JobNotFound()
    {
        _server.Handler = (_, ctx) => TestHttpsServer.Reply(ctx, 200, """{"type":"unknown","status":"unknown"}""");
        using var client = TestClients.For(_server);

        var ex = await Assert.ThrowsAsync<IoTHubServiceException>(() => client.GetJobAsync("nope"));

        Assert.Equal(404, ex.Status);
        Assert.Equal("JobNotFound", ex.ErrorCode);
        Assert.StartsWith("/jobs/v2/nope?", Assert.Single(_server.Requests).RawTarget);
    }

    [Fact]
    public async Task Cancel_posts_to_the_cancel_path()
    {
        _server.Handler = (_, ctx) => TestHttpsServer.Reply(ctx, 200, """{"jobId":"j","type":"scheduleUpdateTwin","status":"cancelled","endTime":"2026-11-27T08:00:00Z"}""");
        using var client = TestClients.For(_server);

        var job = await client.CancelJobAsync("j");

        var request = Assert.Single(_server.Requests);
        Assert.Equal("POST", request.Method);
        Assert.StartsWith("/jobs/v2/j/cancel?", request.RawTarget);
        Assert.True(job.IsTerminal);
        Assert.Equal(new DateTimeOffset(2026, 11, 27, 8, 0, 0, TimeSpan.Zero), job.EndTime);
    }

    [Fact]
    public async Task Job_query_streams_pages_with_filters_and_continuation()
    {
        _server.Handler = (req, ctx) => req.Header("x-ms-continuation") is null
            ? TestHttpsServer.Reply(ctx, 200, """[{"jobId":"a","type":"scheduleUpdateTwin","status":"completed"}]""", ("x-ms-continuation", "tok 1"), ("x-ms-item-type", "JobResponse"))
            : TestHttpsServer.Reply(ctx, 200, """[{"jobId":"b","type":"scheduleUpdateTwin","status":"completed"}]""");
        using var client = TestClients.For(_server);

        var jobs = new List<IoTHubJob>();
        await foreach (var job in client.QueryJobsAsync("scheduleUpdateTwin", "completed", 1))
        {
            jobs.Add(job);
        }

        Assert.Equal(["a", "b"], jobs.Select(j => j.JobId));
        var requests = _server.Requests;
        Assert.Equal(2, requests.Count);
        Assert.Contains("jobType=scheduleUpdateTwin", requests[0].RawTarget);
        Assert.Contains("jobStatus=completed", requests[0].RawTarget);
        Assert.StartsWith("/jobs/v2/query?", requests[0].RawTarget);
        Assert.Equal("1", requests[0].Header("x-ms-max-item-count"));
        Assert.Equal("tok 1", requests[1].Header("x-ms-continuation"));
    }

    [Fact]
    public async Task Device_job_records_are_queried_from_devices_jobs_with_a_quoted_id()
    {
        _server.Handler = (_, ctx) => TestHttpsServer.Reply(ctx, 200,
            """[{"deviceId":"d1","jobId":"job-5","jobType":"scheduleDeviceMethod","status":"completed","startTimeUtc":"2016-09-29T18:18:52.7418462","endTimeUtc":"2016-09-29T18:18:53.1","outcome":{"deviceMethodResponse":{"status":200,"payload":{"x":1}}}},{"deviceId":"d2","jobId":"job-5","jobType":"scheduleDeviceMethod","status":"failed","error":{"code":"DeviceNotOnline","description":"Timed out waiting for device to connect."}}]""",
            ("x-ms-item-type", "DeviceJob"));
        using var client = TestClients.For(_server);

        var records = new List<DeviceJobRecord>();
        await foreach (var record in client.GetDeviceJobsAsync("job-5"))
        {
            records.Add(record);
        }

        var body = JsonNode.Parse(Assert.Single(_server.Requests).Body)!;
        Assert.Equal("SELECT * FROM devices.jobs WHERE devices.jobs.jobId = 'job-5'", (string?)body["query"]);
        Assert.Equal(200, records[0].MethodStatus);
        Assert.Equal(new DateTimeOffset(2016, 9, 29, 18, 18, 52, TimeSpan.Zero).AddTicks(7418462), records[0].StartTime);
        Assert.Equal("DeviceNotOnline", records[1].ErrorCode);
        Assert.Equal("failed", records[1].Status);
    }

    [Theory]
    [InlineData("UPPER")]
    [InlineData("has_underscore")]
    [InlineData("")]
    public async Task Invalid_job_ids_are_refused_before_any_request(string jobId)
    {
        using var client = TestClients.For(_server);

        await Assert.ThrowsAnyAsync<IoTHubProtocolException>(() => client.ScheduleTwinUpdateAsync(jobId, "*", null, new JsonObject { ["a"] = 1 }));

        Assert.Empty(_server.Requests);
    }

    [Fact]
    public async Task A_twin_update_job_without_anything_to_set_is_refused()
    {
        using var client = TestClients.For(_server);

        await Assert.ThrowsAnyAsync<ArgumentException>(() => client.ScheduleTwinUpdateAsync("j", "*", null, null));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => client.ScheduleTwinUpdateAsync("j", " ", null, new JsonObject { ["a"] = 1 }));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => client.ScheduleTwinUpdateAsync("j", "*", null, new JsonObject { ["a"] = 1 }, DateTimeOffset.UtcNow.AddDays(8)));

        Assert.Empty(_server.Requests);
    }
}
