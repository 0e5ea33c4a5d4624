using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using TwinPS.Emulator.Tests.Infrastructure;

namespace TwinPS.Emulator.Tests;

/// <summary>
/// Tier throttling against real emulator processes. Rates are compressed (a few per minute with a large --burst) so that
/// the bucket holds an exact, known number of requests and refills too slowly to matter during a test: the tests count
/// answers and codes, never time, except one generous lower bound on shaping.
/// </summary>
public sealed class ThrottleTests
{
    [Fact]
    public async Task Strict_twin_reads_updates_and_query_pages_each_have_their_own_budget_then_429_ThrottlingException()
    {
        // 1/min with 300 s of burst: each class holds exactly 5 requests.
        using EmulatorProcess emulator = Limits.Start("--rate", "twinRead=1/min,twinUpdate=1/min", "--rate", "query=1/min", "--burst", "300", "--throttle", "strict");
        using var hub = new HubClient(emulator);
        string id = Ids.New();
        await hub.CreateDeviceAsync(id);
        await hub.CreateDeviceAsync(Ids.New());
        await hub.CreateDeviceAsync(Ids.New());

        for (int i = 0; i < 5; i++) Assert.Equal(HttpStatusCode.OK, (await hub.GetAsync("twins/" + id)).Status);
        Limits.AssertThrottled(await hub.GetAsync("twins/" + id), "ThrottlingException", "TwinRead");

        for (int i = 0; i < 5; i++) Assert.Equal(HttpStatusCode.OK, (await hub.PatchAsync("twins/" + id, Desired("n", i))).Status);
        Limits.AssertThrottled(await hub.PatchAsync("twins/" + id, """{"properties":{"desired":{"n":99}}}"""), "ThrottlingException", "TwinUpdate");
        Limits.AssertThrottled(await hub.PutAsync("twins/" + id, """{"tags":{"t":1}}"""), "ThrottlingException", "TwinUpdate");

        // Every page counts, continuations too: 3 pages of one twin, then 2 more queries, then the 6th query call is refused.
        string? continuation = null;
        for (int page = 0; page < 3; page++)
        {
            string? token = continuation;
            HubResponse r = await hub.PostAsync("devices/query", """{"query":"SELECT * FROM devices"}""", m =>
            {
                m.Headers.TryAddWithoutValidation("x-ms-max-item-count", "1");
                if (token is not null) m.Headers.TryAddWithoutValidation("x-ms-continuation", token);
            });
            Assert.Equal(HttpStatusCode.OK, r.Status);
            continuation = r.Header("x-ms-continuation");
            Assert.True(page == 2 || continuation is not null);
        }

        for (int i = 0; i < 2; i++) Assert.Equal(HttpStatusCode.OK, (await hub.PostAsync("devices/query", """{"query":"SELECT COUNT() FROM devices"}""")).Status);
        Limits.AssertThrottled(await hub.PostAsync("devices/query", """{"query":"SELECT * FROM devices"}"""), "ThrottlingException", "Query");

        // The registry is not throttled here.
        Assert.Equal(HttpStatusCode.OK, (await hub.GetAsync("devices/" + id)).Status);

        JsonObject stats = await Limits.StatsAsync(hub);
        Assert.Equal(5, Limits.Admitted(stats, "twinRead"));
        Assert.Equal(1, Limits.Throttled(stats, "twinRead", "ThrottlingException"));
        Assert.Equal(5, Limits.Admitted(stats, "twinUpdate"));
        Assert.Equal(2, Limits.Throttled(stats, "twinUpdate", "ThrottlingException"));
        Assert.Equal(5, Limits.Admitted(stats, "query"));
        Assert.Equal(1, Limits.Throttled(stats, "query", "ThrottlingException"));
        Assert.Equal(4, (long)stats["throttled"]!["total"]!);
        Assert.Equal(4, (long)stats["throttled"]!["byCode"]!["ThrottlingException"]!);
        Assert.Equal(0, (long)stats["throttled"]!["byCode"]!["ThrottleBacklogLimitExceeded"]!);
        Assert.Equal(5, Limits.Writes(stats, "twin"));
        Assert.Equal(3, Limits.Writes(stats, "registry"));
        Assert.Equal(0, Limits.Throttled(stats, "registry", "ThrottlingException"));
    }

    [Fact]
    public async Task Strict_registry_budget_counts_every_bulk_entry_and_refuses_with_operation_type_CRUD()
    {
        using EmulatorProcess emulator = Limits.Start("--rate", "registry=1/min", "--burst", "300", "--throttle", "strict");
        using var hub = new HubClient(emulator);
        string id = Ids.New();

        await hub.CreateDeviceAsync(id); // 1
        string bulk = new JsonArray(
            new JsonObject { ["id"] = Ids.New(), ["importMode"] = "create" },
            new JsonObject { ["id"] = Ids.New(), ["importMode"] = "create" },
            new JsonObject { ["id"] = Ids.New(), ["importMode"] = "create" }).ToJsonString();
        Assert.Equal(HttpStatusCode.OK, (await hub.PostAsync("devices", bulk)).Status); // 3 more
        Assert.Equal(HttpStatusCode.OK, (await hub.GetAsync("devices/" + id)).Status); // 5th

        Limits.AssertThrottled(await hub.GetAsync("devices/" + id), "ThrottlingException", "CRUD");
        Limits.AssertThrottled(await hub.DeleteAsync("devices/" + id), "ThrottlingException", "CRUD");
        Limits.AssertThrottled(await hub.PostAsync("devices", new JsonArray(new JsonObject { ["id"] = Ids.New() }).ToJsonString()), "ThrottlingException", "CRUD");

        // Twins are another class: not throttled here.
        Assert.Equal(HttpStatusCode.OK, (await hub.GetAsync("twins/" + id)).Status);
        JsonObject stats = await Limits.StatsAsync(hub);
        Assert.Equal(3, Limits.Admitted(stats, "registry"));
        Assert.Equal(3, Limits.Throttled(stats, "registry", "ThrottlingException"));
        Assert.Equal(4, (long)stats["devices"]!);
        Assert.Equal(4, Limits.Writes(stats, "registry"));
    }

    [Fact]
    public async Task Strict_bulk_request_larger_than_the_bucket_is_admitted_once_and_its_debt_refuses_what_follows()
    {
        // A bucket of 2 (burst 1 s at 2/s would refill too fast; 2/min with 60 s of burst holds 2 and refills in 30 s).
        using EmulatorProcess emulator = Limits.Start("--rate", "registry=2/min", "--burst", "60", "--throttle", "strict");
        using var hub = new HubClient(emulator);
        var entries = new JsonArray();
        for (int i = 0; i < 10; i++) entries.Add(new JsonObject { ["id"] = Ids.New(), ["importMode"] = "create" });

        Assert.Equal(HttpStatusCode.OK, (await hub.PostAsync("devices", entries.ToJsonString())).Status);
        Limits.AssertThrottled(await hub.GetAsync("devices/" + (string)entries[0]!["id"]!), "ThrottlingException", "CRUD");
        JsonObject stats = await Limits.StatsAsync(hub);
        Assert.Equal(10, (long)stats["devices"]!);
        Assert.Equal(1, Limits.Throttled(stats, "registry", "ThrottlingException"));
    }

    [Fact]
    public async Task Strict_direct_methods_are_metered_in_4_KB_units_of_request_payload()
    {
        // 5 meter units in the bucket: a 9 KB payload costs 3, an empty one 1.
        using EmulatorProcess emulator = Limits.Start("--rate", "method=1/min", "--burst", "300", "--throttle", "strict");
        using var hub = new HubClient(emulator);
        string big = new JsonObject { ["methodName"] = "m", ["payload"] = new JsonObject { ["d"] = new string('x', 9000) }, ["responseTimeoutInSeconds"] = 5 }.ToJsonString();
        string small = """{"methodName":"m","responseTimeoutInSeconds":5}""";
        string target = "twins/" + Ids.New() + "/methods";

        // Charged before the target is looked up: the unknown device answers 404 once admitted.
        Assert.Equal(HttpStatusCode.NotFound, (await hub.PostAsync(target, big)).Status);   // 3 -> 2 left
        Limits.AssertThrottled(await hub.PostAsync(target, big), "ThrottlingException", "DirectMethod");
        Assert.Equal(HttpStatusCode.NotFound, (await hub.PostAsync(target, small)).Status); // 1 -> 1 left
        Assert.Equal(HttpStatusCode.NotFound, (await hub.PostAsync(target, small)).Status); // 1 -> 0 left
        Limits.AssertThrottled(await hub.PostAsync(target, small), "ThrottlingException", "DirectMethod");

        JsonObject stats = await Limits.StatsAsync(hub);
        Assert.Equal(3, Limits.Admitted(stats, "method"));
        Assert.Equal(2, Limits.Throttled(stats, "method", "ThrottlingException"));
    }

    [Fact]
    public async Task Shaping_queues_over_rate_requests_then_answers_429002_when_the_backlog_is_full_and_429003_when_they_wait_too_long()
    {
        // One token, refilled once a minute: the 2nd and 3rd read wait in a backlog of 2; the 4th finds it full.
        using EmulatorProcess emulator = Limits.Start("--rate", "twinRead=1/min", "--burst", "60", "--backlog", "2", "--backlog-timeout", "3");
        Assert.Equal("shape", (string)emulator.Ready["throttle"]!["mode"]!);
        using var hub = new HubClient(emulator);
        string id = Ids.New();
        await hub.CreateDeviceAsync(id);

        Assert.Equal(HttpStatusCode.OK, (await hub.GetAsync("twins/" + id)).Status);
        Task<HubResponse> second = hub.GetAsync("twins/" + id);
        Task<HubResponse> third = hub.GetAsync("twins/" + id);
        await Limits.WaitUntilAsync(async () => Limits.Queued(await Limits.StatsAsync(hub), "twinRead") == 2, "two queued reads");
        Assert.False(second.IsCompleted);
        Assert.False(third.IsCompleted);

        Limits.AssertThrottled(await hub.GetAsync("twins/" + id), "ThrottleBacklogLimitExceeded", "TwinRead");
        Limits.AssertThrottled(await second, "ThrottlingBacklogTimeout", "TwinRead");
        Limits.AssertThrottled(await third, "ThrottlingBacklogTimeout", "TwinRead");

        JsonObject stats = await Limits.StatsAsync(hub);
        Assert.Equal(1, Limits.Admitted(stats, "twinRead"));
        Assert.Equal(1, Limits.Throttled(stats, "twinRead", "ThrottleBacklogLimitExceeded"));
        Assert.Equal(2, Limits.Throttled(stats, "twinRead", "ThrottlingBacklogTimeout"));
        Assert.Equal(0, Limits.Throttled(stats, "twinRead", "ThrottlingException"));
    }

    [Fact]
    public async Task Shaping_serves_every_queued_update_at_the_rate_with_no_429_and_each_applied_once()
    {
        // 20/s with one second of burst: 60 updates from 12 concurrent callers take at least 2 s and all succeed.
        using EmulatorProcess emulator = Limits.Start("--rate", "twinUpdate=20/s", "--burst", "1");
        using var hub = new HubClient(emulator);
        string[] ids = [Ids.New(), Ids.New(), Ids.New()];
        foreach (string id in ids) await hub.CreateDeviceAsync(id);

        var stopwatch = Stopwatch.StartNew();
        int next = -1;
        var statuses = new List<HttpStatusCode>();
        await Task.WhenAll(Enumerable.Range(0, 12).Select(async _ =>
        {
            int n;
            while ((n = Interlocked.Increment(ref next)) < 60)
            {
                HubResponse r = await hub.PatchAsync("twins/" + ids[n % 3], Desired("n" + n, n));
                lock (statuses) statuses.Add(r.Status);
            }
        }));
        stopwatch.Stop();

        Assert.Equal(60, statuses.Count(s => s == HttpStatusCode.OK));
        // A lower bound from the rate ((60 - 20) / 20 s, less a margin): it cannot flake on a slow machine.
        Assert.True(stopwatch.Elapsed >= TimeSpan.FromSeconds((60 - 20) / 20.0 * 0.75), $"60 updates at 20/s after a burst of 20 took only {stopwatch.Elapsed}");
        JsonObject stats = await Limits.StatsAsync(hub);
        Assert.Equal(60, Limits.Admitted(stats, "twinUpdate"));
        Assert.True(Limits.Queued(stats, "twinUpdate") > 0);
        Assert.Equal(0, (long)stats["throttled"]!["total"]!);
        Assert.Equal(60, Limits.Writes(stats, "twin"));
        foreach (string id in ids)
        {
            JsonObject desired = (JsonObject)(await hub.GetTwinAsync(id))["properties"]!["desired"]!;
            Assert.Equal(20, desired.Count(p => p.Key.StartsWith('n')));
        }
    }

    [Fact]
    public async Task Mqtt_twin_requests_over_the_limit_get_res_429_and_share_the_budget_with_REST()
    {
        // Two reads and two updates in the bucket, strict.
        using EmulatorProcess emulator = Limits.Start("--rate", "twinRead=1/min,twinUpdate=1/min", "--burst", "120", "--throttle", "strict");
        using var hub = new HubClient(emulator);
        string id = Ids.New();
        JsonObject device = await hub.CreateDeviceAsync(id);
        using RawMqttDevice mqtt = await Limits.ConnectTwinDeviceAsync(emulator, device);

        Assert.Equal("$iothub/twin/res/200/?$rid=g1", (await mqtt.RequestAsync("$iothub/twin/GET/?$rid=g1", " ")).Topic);
        Assert.Equal(HttpStatusCode.OK, (await hub.GetAsync("twins/" + id)).Status);
        (string topic, string body) = await mqtt.RequestAsync("$iothub/twin/GET/?$rid=g3", " ");
        Assert.Equal("$iothub/twin/res/429/?$rid=g3", topic);
        Assert.Empty(body);
        Limits.AssertThrottled(await hub.GetAsync("twins/" + id), "ThrottlingException", "TwinRead");

        Assert.Equal("$iothub/twin/res/204/?$rid=p1&$version=2", (await mqtt.RequestAsync("$iothub/twin/PATCH/properties/reported/?$rid=p1", """{"a":1}""")).Topic);
        Assert.Equal("$iothub/twin/res/204/?$rid=p2&$version=3", (await mqtt.RequestAsync("$iothub/twin/PATCH/properties/reported/?$rid=p2", """{"a":2}""")).Topic);
        (topic, body) = await mqtt.RequestAsync("$iothub/twin/PATCH/properties/reported/?$rid=p3", """{"a":3}""");
        Assert.Equal("$iothub/twin/res/429/?$rid=p3", topic);
        Assert.Empty(body);
        Assert.True(mqtt.IsConnected);

        JsonObject stats = await Limits.StatsAsync(hub);
        Assert.Equal(2, Limits.Throttled(stats, "twinRead", "ThrottlingException"));
        Assert.Equal(1, Limits.Throttled(stats, "twinUpdate", "ThrottlingException"));
        Assert.Equal(2, Limits.Writes(stats, "reported"));
    }

    [Fact]
    public void Tier_sets_every_class_from_the_published_rates_and_units_and_rate_overrides_one()
    {
        using EmulatorProcess s1 = Limits.Start("--tier", "S1", "--units", "4", "--rate", "twinUpdate=5/s");
        JsonObject t = (JsonObject)s1.Ready["throttle"]!;
        Assert.Equal("S1", (string)t["tier"]!);
        Assert.Equal(4, (int)t["units"]!);
        Assert.Equal(1, (int)t["maxActiveJobs"]!);
        Assert.Equal("shape", (string)t["mode"]!);
        Assert.Equal(60, (double)t["burstSeconds"]!);
        Assert.Equal(100, (int)t["backlog"]!);
        Assert.Equal(10, (double)t["backlogTimeoutSeconds"]!);
        JsonObject rates = (JsonObject)t["ratesPerSecond"]!;
        Assert.Equal(["jobDevice", "jobOperation", "method", "query", "registry", "twinRead", "twinUpdate"], rates.Select(p => p.Key).Order(StringComparer.Ordinal).ToArray());
        Assert.Equal(100, (double)rates["twinRead"]!);          // per hub on S1
        Assert.Equal(5, (double)rates["twinUpdate"]!);          // overridden
        Assert.Equal(80.0 / 60, (double)rates["query"]!, 5);     // 20/min/unit
        Assert.Equal(400.0 / 60, (double)rates["registry"]!, 5); // 100/min/unit
        Assert.Equal(400.0 / 60, (double)rates["jobOperation"]!, 5);
        Assert.Equal(10, (double)rates["jobDevice"]!);
        Assert.Equal(160, (double)rates["method"]!);             // 160 KB/s/unit in 4 KB units
        Assert.Null(s1.Ready["faults"]);
    }

    private static string Desired(string key, int value) =>
        new JsonObject { ["properties"] = new JsonObject { ["desired"] = new JsonObject { [key] = value } } }.ToJsonString();
}
