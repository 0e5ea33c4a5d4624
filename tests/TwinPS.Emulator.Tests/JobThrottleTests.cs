using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using TwinPS.Emulator.Tests.Infrastructure;

namespace TwinPS.Emulator.Tests;

/// <summary>The jobs classes of tier throttling: job slots per tier, the jobs operations budget and the runner's per-device pace.</summary>
public sealed class JobThrottleTests
{
    [Fact]
    public async Task S1_allows_one_active_job_and_the_runner_paces_devices_at_the_jobDevice_rate()
    {
        using EmulatorProcess emulator = Limits.Start("--tier", "S1", "--rate", "jobDevice=5/s,jobOperation=100/s", "--burst", "1");
        Assert.Equal(1, (int)emulator.Ready["throttle"]!["maxActiveJobs"]!);
        using var hub = new HubClient(emulator);
        string plant = Ids.New("plant");
        var ids = new List<string>();
        var bulk = new JsonArray();
        for (int i = 0; i < 15; i++)
        {
            string id = Ids.New();
            ids.Add(id);
            bulk.Add(new JsonObject { ["id"] = id, ["importMode"] = "create", ["tags"] = new JsonObject { ["plant"] = plant } });
        }

        Assert.Equal(HttpStatusCode.OK, (await hub.PostAsync("devices", bulk.ToJsonString())).Status);

        // A scheduled job holds S1's only slot: the next create is refused.
        string later = JobTests.NewJobId();
        string startLater = DateTimeOffset.UtcNow.AddHours(1).ToString("o", System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(HttpStatusCode.OK, (await hub.PutAsync("jobs/v2/" + later, JobTests.TwinJob(later, "*", """{"etag":"*","tags":{"x":1}}""", startLater))).Status);
        string now = JobTests.NewJobId();
        HubResponse refused = await hub.PutAsync("jobs/v2/" + now, JobTests.TwinJob(now, $"tags.plant = '{plant}'", """{"etag":"*","tags":{"ring":"b"}}"""));
        Assert.Equal((HttpStatusCode)429, refused.Status);
        Assert.Equal("ThrottlingMaxActiveJobCountExceeded", refused.Header("iothub-errorcode"));

        Assert.Equal(HttpStatusCode.OK, (await hub.PostAsync("jobs/v2/" + later + "/cancel", string.Empty)).Status);
        var stopwatch = Stopwatch.StartNew();
        Assert.Equal(HttpStatusCode.OK, (await hub.PutAsync("jobs/v2/" + now, JobTests.TwinJob(now, $"tags.plant = '{plant}'", """{"etag":"*","tags":{"ring":"b"}}"""))).Status);
        JsonObject job = await JobTests.WaitForJobAsync(hub, now, JobTests.IsTerminal);
        stopwatch.Stop();

        Assert.Equal("completed", (string)job["status"]!);
        Assert.Equal(15, (int)job["deviceJobStatistics"]!["succeededCount"]!);
        // 5 devices from the burst, then 10 more at 5/s: at least about 2 s.
        Assert.True(stopwatch.Elapsed >= TimeSpan.FromSeconds((15 - 5) / 5.0 * 0.75), $"15 device operations at 5/s after a burst of 5 took only {stopwatch.Elapsed}");
        JsonObject stats = await Limits.StatsAsync(hub);
        Assert.Equal(15, Limits.Admitted(stats, "jobDevice"));
        Assert.True(Limits.Queued(stats, "jobDevice") > 0);
        Assert.Equal(0, Limits.Throttled(stats, "jobDevice", "ThrottlingBacklogTimeout") + Limits.Throttled(stats, "jobDevice", "ThrottleBacklogLimitExceeded"));
        foreach (string id in ids) Assert.Equal("b", (string)(await hub.GetTwinAsync(id))["tags"]!["ring"]!);
    }

    [Fact]
    public async Task Strict_jobs_operations_have_their_own_budget_then_429_with_operation_type_JobsOperation()
    {
        using EmulatorProcess emulator = Limits.Start("--rate", "jobOperation=1/min", "--burst", "300", "--throttle", "strict");
        Assert.Null(emulator.Ready["throttle"]!["maxActiveJobs"]);
        using var hub = new HubClient(emulator);
        string jobId = JobTests.NewJobId();

        Assert.Equal(HttpStatusCode.OK, (await hub.PutAsync("jobs/v2/" + jobId, JobTests.TwinJob(jobId, "*", """{"etag":"*","tags":{"x":1}}""", DateTimeOffset.UtcNow.AddHours(1).ToString("o", System.Globalization.CultureInfo.InvariantCulture)))).Status);
        Assert.Equal(HttpStatusCode.OK, (await hub.GetAsync("jobs/v2/" + jobId)).Status);
        Assert.Equal(HttpStatusCode.OK, (await hub.GetAsync("jobs/v2/query")).Status);
        Assert.Equal(HttpStatusCode.OK, (await hub.PostAsync("jobs/v2/" + jobId + "/cancel", string.Empty)).Status);
        Assert.Equal(HttpStatusCode.OK, (await hub.GetAsync("jobs/v2/query?jobType=scheduleUpdateTwin")).Status);
        Limits.AssertThrottled(await hub.GetAsync("jobs/v2/" + jobId), "ThrottlingException", "JobsOperation");

        JsonObject stats = await Limits.StatsAsync(hub);
        Assert.Equal(5, Limits.Admitted(stats, "jobOperation"));
        Assert.Equal(1, Limits.Throttled(stats, "jobOperation", "ThrottlingException"));
    }
}
