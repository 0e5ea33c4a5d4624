using System.Net;
using System.Text.Json.Nodes;
using TwinPS.Emulator.Tests.Infrastructure;
using TwinPS.Testing;

namespace TwinPS.Emulator.Tests;

/// <summary>A job survives a kill -9 of the emulator (data folder): documented recovery in docs/emulator-fidelity.md, "Jobs".</summary>
public sealed class JobRestartTests
{
    [Fact]
    public async Task A_job_killed_mid_run_is_resumed_and_a_method_that_may_have_run_is_not_invoked_again()
    {
        string data = Path.Combine(Path.GetTempPath(), "twinps-jobs-" + Guid.NewGuid().ToString("N"));
        try
        {
            string plant = Ids.New("plant");
            string[] ids = Enumerable.Range(0, 40).Select(_ => Ids.New("r")).ToArray();
            string jobId = JobTests.NewJobId();
            string twinJobId = JobTests.NewJobId();
            using (EmulatorProcess first = EmulatorProcess.Start("--https-port", "0", "--mqtt-port", "0", "--data", data))
            using (var hub = new HubClient(first))
            {
                await JobTests.CreateDevicesAsync(hub, ids, plant);
                Assert.Equal(HttpStatusCode.OK, (await hub.PutAsync("jobs/v2/" + jobId, JobTests.MethodJob(jobId, $"tags.plant = '{plant}'", "slow", response: 5, connect: 5))).Status);
                Assert.Equal(HttpStatusCode.OK, (await hub.PutAsync("jobs/v2/" + twinJobId, JobTests.TwinJob(twinJobId, $"tags.plant = '{plant}'", """{"etag":"*","tags":{"after":"restart"}}""", DateTimeOffset.UtcNow.AddMinutes(30).ToString("o")))).Status);

                // Wait until device records in "running" are committed (query results are committed state).
                DateTime end = DateTime.UtcNow + TimeBounds.Eventually;
                while ((await JobTests.DeviceJobsAsync(hub, jobId, "devices.jobs.status = 'running'")).Count == 0)
                {
                    Assert.True(DateTime.UtcNow < end, "the job never had a running device");
                    await Task.Delay(20);
                }

                first.KillHard();
            }

            using EmulatorProcess second = EmulatorProcess.Start("--https-port", "0", "--mqtt-port", "0", "--data", data);
            using var hub2 = new HubClient(second);

            JsonObject job = await JobTests.WaitForJobAsync(hub2, jobId, JobTests.IsTerminal);
            Assert.Equal("completed", (string)job["status"]!);
            JsonObject stats = (JsonObject)job["deviceJobStatistics"]!;
            Assert.Equal(40, (int)stats["deviceCount"]!);
            Assert.Equal(40, (int)stats["failedCount"]!);
            List<JsonObject> rows = await JobTests.DeviceJobsAsync(hub2, jobId);
            Assert.Equal(ids.Order(StringComparer.Ordinal), rows.Select(r => (string)r["deviceId"]!).Order(StringComparer.Ordinal));
            int interrupted = rows.Count(r => (string?)r["error"]?["code"] == "JobInterrupted");
            int offline = rows.Count(r => (string?)r["error"]?["code"] == "DeviceNotOnline");
            Assert.True(interrupted >= 1, "no device was recorded as interrupted");
            Assert.Equal(40, interrupted + offline);

            // The scheduled job survived too, with its schedule.
            JsonObject scheduled = (await hub2.GetAsync("jobs/v2/" + twinJobId)).Obj;
            Assert.Equal("scheduled", (string)scheduled["status"]!);
            Assert.Equal(HttpStatusCode.OK, (await hub2.PostAsync($"jobs/v2/{twinJobId}/cancel", null!)).Status);
            second.Stop(TimeBounds.Eventually);
        }
        finally
        {
            try
            {
                Directory.Delete(data, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }
}
