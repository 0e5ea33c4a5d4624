using System.Net;
using System.Text.Json.Nodes;
using TwinPS.Emulator.Tests.Infrastructure;

namespace TwinPS.Emulator.Tests;

/// <summary>Jobs under a tier: concurrent-job slots and the jobOperation / jobDevice classes (method metering: ThrottleTests).</summary>
public sealed class JobSlotTests
{
    private static EmulatorProcess Start(params string[] extra) =>
        EmulatorProcess.Start(["--https-port", "0", "--mqtt-port", "0", "--in-memory", .. extra]);

    private static async Task<JsonObject> ClassStatsAsync(HubClient hub, string throttleClass)
    {
        HubResponse r = await hub.GetAsync("$twinps/stats");
        return (JsonObject)r.Obj["throttled"]!["byClass"]![throttleClass]!;
    }

    [Fact]
    public async Task On_S1_a_second_active_job_is_429_ThrottlingMaxActiveJobCountExceeded_until_the_first_ends()
    {
        using EmulatorProcess emulator = Start("--tier", "S1");
        using var hub = new HubClient(emulator);
        string later = DateTimeOffset.UtcNow.AddHours(1).ToString("o");
        string first = JobTests.NewJobId(), second = JobTests.NewJobId(), third = JobTests.NewJobId();

        HubResponse created = await hub.PutAsync("jobs/v2/" + first, JobTests.TwinJob(first, "*", """{"etag":"*","tags":{"a":1}}""", later));
        HubResponse refused = await hub.PutAsync("jobs/v2/" + second, JobTests.MethodJob(second, "*", "reboot"));

        Assert.Equal(HttpStatusCode.OK, created.Status);
        Assert.Equal((HttpStatusCode)429, refused.Status);
        Assert.Equal("ThrottlingMaxActiveJobCountExceeded", refused.Header("iothub-errorcode"));
        Assert.Equal("ThrottlingMaxActiveJobCountExceeded", refused.EnvelopeCode);
        Assert.Equal("unknown", (string)(await hub.GetAsync("jobs/v2/" + second)).Obj["status"]!);

        Assert.Equal(HttpStatusCode.OK, (await hub.PostAsync($"jobs/v2/{first}/cancel", null!)).Status);
        HubResponse accepted = await hub.PutAsync("jobs/v2/" + third, JobTests.TwinJob(third, "*", """{"etag":"*","tags":{"a":2}}"""));
        Assert.Equal(HttpStatusCode.OK, accepted.Status);
    }

    [Fact]
    public async Task Without_a_tier_there_is_no_job_slot_limit()
    {
        using EmulatorProcess emulator = Start();
        using var hub = new HubClient(emulator);
        string later = DateTimeOffset.UtcNow.AddHours(1).ToString("o");
        for (int i = 0; i < 3; i++)
        {
            string id = JobTests.NewJobId();
            Assert.Equal(HttpStatusCode.OK, (await hub.PutAsync("jobs/v2/" + id, JobTests.TwinJob(id, "*", """{"etag":"*"}""", later))).Status);
        }
    }

    [Fact]
    public async Task Job_calls_cost_jobOperation_and_each_device_a_job_touches_costs_jobDevice()
    {
        using EmulatorProcess emulator = Start("--tier", "S1");
        using var hub = new HubClient(emulator);
        string plant = Ids.New("plant");
        string[] ids = Enumerable.Range(0, 5).Select(_ => Ids.New("p")).ToArray();
        await JobTests.CreateDevicesAsync(hub, ids, plant);
        long operationsBefore = (long)(await ClassStatsAsync(hub, "jobOperation"))["admitted"]!;
        string jobId = JobTests.NewJobId();

        await hub.PutAsync("jobs/v2/" + jobId, JobTests.TwinJob(jobId, $"tags.plant = '{plant}'", """{"etag":"*","tags":{"paced":true}}"""));
        JsonObject job = await JobTests.WaitForJobAsync(hub, jobId, JobTests.IsTerminal);
        await hub.GetAsync("jobs/v2/query");

        Assert.Equal("completed", (string)job["status"]!);
        Assert.Equal(5, (long)(await ClassStatsAsync(hub, "jobDevice"))["admitted"]!);
        long polls = (long)(await ClassStatsAsync(hub, "jobOperation"))["admitted"]! - operationsBefore;
        Assert.True(polls >= 3, $"jobOperation admitted {polls}"); // the PUT, at least one GET, the list
    }
}
