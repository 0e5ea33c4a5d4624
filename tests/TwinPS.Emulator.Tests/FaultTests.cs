using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using TwinPS.Emulator.Tests.Infrastructure;
using TwinPS.Testing;

namespace TwinPS.Emulator.Tests;

/// <summary>
/// Fault injection against real emulator processes. With <c>--fault-rate 1</c> and one kind every eligible request meets
/// that fault, so each test knows exactly what happened; a seeded partial rate is checked for repeatability. Every faulted
/// request uses a new connection, so that the test's HTTP stack cannot silently resend it.
/// </summary>
public sealed class FaultTests
{
    private static readonly TimeSpan SlowDelay = TimeSpan.FromSeconds(1.5);

    [Theory]
    [InlineData("ServiceUnavailable", 503, "ServiceUnavailable")]
    [InlineData("ServerError", 500, "ServerError")]
    public async Task Error_faults_answer_the_classic_envelope_and_apply_nothing(string kind, int status, string code)
    {
        using EmulatorProcess emulator = Limits.Start("--fault-rate", "1", "--fault-kind", kind);
        Assert.Equal(kind, (string)emulator.Ready["faults"]!["kinds"]![0]!);
        using var hub = new HubClient(emulator);

        HubResponse r = await hub.PutAsync("devices/" + Ids.New(), "{}");
        Assert.Equal((HttpStatusCode)status, r.Status);
        Assert.Equal(code, r.EnvelopeCode);
        Assert.Equal(code, r.Header("iothub-errorcode"));
        Assert.Null(r.Headers.RetryAfter);
        HubResponse read = await hub.GetAsync("twins/any");
        Assert.Equal((HttpStatusCode)status, read.Status);

        // The test-support endpoint is never faulted.
        JsonObject stats = await Limits.StatsAsync(hub);
        Assert.Equal(2, Limits.Faults(stats, kind));
        Assert.Equal(2, (long)stats["faults"]!["total"]!);
        Assert.Equal(0, (long)stats["devices"]!);
        Assert.Equal(0, Limits.Writes(stats, "registry"));
    }

    [Fact]
    public async Task Reset_before_processing_drops_the_connection_and_applies_nothing()
    {
        using EmulatorProcess emulator = Limits.Start("--fault-rate", "1", "--fault-kind", "ResetBeforeProcessing");
        string id = Ids.New();
        using (var once = new HubClient(emulator))
        {
            await Assert.ThrowsAsync<HttpRequestException>(() => once.PutAsync("devices/" + id, "{}"));
        }

        using var hub = new HubClient(emulator);
        JsonObject stats = await Limits.StatsAsync(hub);
        Assert.Equal(1, Limits.Faults(stats, "ResetBeforeProcessing"));
        Assert.Equal(0, (long)stats["devices"]!);
        Assert.Equal(0, Limits.Writes(stats, "registry"));
    }

    [Fact]
    public async Task Reset_after_commit_applies_the_write_although_the_client_saw_a_reset()
    {
        // Reads are not eligible for this kind, so the test can read back what was applied.
        using EmulatorProcess emulator = Limits.Start("--fault-rate", "1", "--fault-kind", "reset-after-commit");
        string id = Ids.New();
        using (var once = new HubClient(emulator))
        {
            await Assert.ThrowsAsync<HttpRequestException>(() => once.PutAsync("devices/" + id, "{}"));
        }

        using (var once = new HubClient(emulator))
        {
            await Assert.ThrowsAsync<HttpRequestException>(() => once.PatchAsync("twins/" + id, """{"properties":{"desired":{"applied":true}}}"""));
        }

        using var hub = new HubClient(emulator);
        JsonObject twin = await hub.GetTwinAsync(id);
        Assert.True((bool)twin["properties"]!["desired"]!["applied"]!);
        Assert.Equal(2, (long)twin["properties"]!["desired"]!["$version"]!);
        JsonObject stats = await Limits.StatsAsync(hub);
        Assert.Equal(2, Limits.Faults(stats, "ResetAfterCommit"));
        Assert.Equal(1, Limits.Writes(stats, "registry"));
        Assert.Equal(1, Limits.Writes(stats, "twin"));
        Assert.Equal(1, (long)stats["devices"]!);
    }

    [Fact]
    public async Task Service_unavailable_after_commit_applies_the_write_although_the_client_saw_a_503()
    {
        // Reads are not eligible for this kind, so the test can read back what was applied.
        using EmulatorProcess emulator = Limits.Start("--fault-rate", "1", "--fault-kind", "service-unavailable-after-commit");
        string id = Ids.New();
        using var hub = new HubClient(emulator);

        HubResponse created = await hub.PutAsync("devices/" + id, "{}");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, created.Status);
        Assert.Equal("ServiceUnavailable", created.EnvelopeCode);
        Assert.Equal("ServiceUnavailable", created.Header("iothub-errorcode"));
        Assert.DoesNotContain(id, created.Body, StringComparison.Ordinal); // the handler's own answer does not leak through
        HubResponse patched = await hub.PatchAsync("twins/" + id, """{"properties":{"desired":{"applied":true}}}""");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, patched.Status);
        Assert.Equal("ServiceUnavailable", patched.EnvelopeCode);

        JsonObject twin = await hub.GetTwinAsync(id);
        Assert.True((bool)twin["properties"]!["desired"]!["applied"]!);
        Assert.Equal(2, (long)twin["properties"]!["desired"]!["$version"]!);
        JsonObject stats = await Limits.StatsAsync(hub);
        Assert.Equal(2, Limits.Faults(stats, "ServiceUnavailableAfterCommit"));
        Assert.Equal(1, Limits.Writes(stats, "registry"));
        Assert.Equal(1, Limits.Writes(stats, "twin"));
        Assert.Equal(1, (long)stats["devices"]!);
    }

    [Fact]
    public async Task Slow_response_delays_the_answer_then_processes_the_request()
    {
        using EmulatorProcess emulator = Limits.Start("--fault-rate", "1", "--fault-kind", "SlowResponse", "--fault-delay", SlowDelay.TotalSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(1.5, (double)emulator.Ready["faults"]!["slowResponseSeconds"]!);
        using var hub = new HubClient(emulator);
        var stopwatch = Stopwatch.StartNew();
        JsonObject device = await hub.CreateDeviceAsync(Ids.New());
        stopwatch.Stop();

        Assert.NotNull(device["deviceId"]);
        // A lower bound from the configured delay (less a clock-granularity margin): it cannot flake on a slow machine.
        Assert.True(stopwatch.Elapsed >= SlowDelay - TimeSpan.FromTicks(SlowDelay.Ticks / 10), $"answered after {stopwatch.Elapsed}");
        JsonObject stats = await Limits.StatsAsync(hub);
        Assert.Equal(1, Limits.Faults(stats, "SlowResponse"));
        Assert.Equal(1, Limits.Writes(stats, "registry"));
    }

    [Fact]
    public async Task Mqtt_disconnect_drops_the_device_on_GET_after_a_committed_reported_patch_and_instead_of_a_desired_notification()
    {
        // REST is never eligible for this kind, so the service side works normally.
        using EmulatorProcess emulator = Limits.Start("--fault-rate", "1", "--fault-kind", "MqttDisconnect");
        using var hub = new HubClient(emulator);
        string id = Ids.New();
        JsonObject identity = await hub.CreateDeviceAsync(id);

        using (RawMqttDevice get = await Limits.ConnectTwinDeviceAsync(emulator, identity))
        {
            await get.PublishAsync("$iothub/twin/GET/?$rid=g1", " ");
            Assert.True(await get.WaitDisconnectedAsync(TimeBounds.Eventually));
            Assert.False(get.TryReceive(TimeSpan.Zero, out _));
        }

        using (RawMqttDevice patch = await Limits.ConnectTwinDeviceAsync(emulator, identity))
        {
            await patch.PublishAsync("$iothub/twin/PATCH/properties/reported/?$rid=p1", """{"committed":true}""");
            Assert.True(await patch.WaitDisconnectedAsync(TimeBounds.Eventually));
            Assert.False(patch.TryReceive(TimeSpan.Zero, out _));
        }

        Assert.True((bool)(await hub.GetTwinAsync(id))["properties"]!["reported"]!["committed"]!);

        using (RawMqttDevice listener = await Limits.ConnectTwinDeviceAsync(emulator, identity))
        {
            Assert.Equal(HttpStatusCode.OK, (await hub.PatchAsync("twins/" + id, """{"properties":{"desired":{"d":1}}}""")).Status);
            Assert.True(await listener.WaitDisconnectedAsync(TimeBounds.Eventually));
            Assert.False(listener.TryReceive(TimeSpan.Zero, out _));
        }

        JsonObject stats = await Limits.StatsAsync(hub);
        Assert.Equal(3, Limits.Faults(stats, "MqttDisconnect"));
        Assert.Equal(1, Limits.Writes(stats, "reported"));
        Assert.Equal(1, Limits.Writes(stats, "twin"));
    }

    [Fact]
    public async Task Mqtt_twin_requests_meet_503_as_a_twin_response_with_the_numeric_envelope()
    {
        using EmulatorProcess emulator = Limits.Start("--fault-rate", "0.5", "--fault-seed", "7", "--fault-kind", "ServiceUnavailable");
        using var hub = new HubClient(emulator);
        string id = Ids.New();

        // A 503 applies nothing, so creating the device again until it succeeds is safe.
        HubResponse created = await hub.PutAsync("devices/" + id, "{}");
        for (int i = 0; i < 40 && created.Status == HttpStatusCode.ServiceUnavailable; i++) created = await hub.PutAsync("devices/" + id, "{}");
        Assert.Equal(HttpStatusCode.OK, created.Status);
        using RawMqttDevice mqtt = await Limits.ConnectTwinDeviceAsync(emulator, created.Obj);

        var topics = new List<string>();
        for (int i = 0; i < 40 && !topics.Any(t => t.StartsWith("$iothub/twin/res/503/", StringComparison.Ordinal)); i++)
        {
            (string topic, string body) = await mqtt.RequestAsync($"$iothub/twin/GET/?$rid=r{i}", " ");
            topics.Add(topic);
            if (topic.StartsWith("$iothub/twin/res/503/", StringComparison.Ordinal))
            {
                Assert.Equal($"$iothub/twin/res/503/?$rid=r{i}", topic);
                Assert.Equal(503001, (int)JsonNode.Parse(body)!["errorCode"]!);
            }
            else
            {
                Assert.Equal($"$iothub/twin/res/200/?$rid=r{i}", topic);
            }
        }

        Assert.Contains(topics, t => t.StartsWith("$iothub/twin/res/503/", StringComparison.Ordinal));
        Assert.True(mqtt.IsConnected);
    }

    [Fact]
    public async Task The_same_seed_gives_the_same_faults_to_the_same_sequence_of_requests()
    {
        static async Task<string> PatternAsync(string seed)
        {
            using EmulatorProcess emulator = Limits.Start("--fault-rate", "0.5", "--fault-seed", seed, "--fault-kind", "ServiceUnavailable,ServerError");
            Assert.Equal(int.Parse(seed, System.Globalization.CultureInfo.InvariantCulture), (int)emulator.Ready["faults"]!["seed"]!);
            using var hub = new HubClient(emulator);
            var pattern = new System.Text.StringBuilder();
            for (int i = 0; i < 24; i++) pattern.Append((int)(await hub.GetAsync("twins/none")).Status switch { 404 => '.', 503 => 'U', 500 => 'E', var s => throw new InvalidOperationException(s.ToString(System.Globalization.CultureInfo.InvariantCulture)) });
            JsonObject stats = await Limits.StatsAsync(hub);
            Assert.Equal(pattern.ToString().Count(c => c == 'U'), Limits.Faults(stats, "ServiceUnavailable"));
            Assert.Equal(pattern.ToString().Count(c => c == 'E'), Limits.Faults(stats, "ServerError"));
            return pattern.ToString();
        }

        string first = await PatternAsync("4242");
        string second = await PatternAsync("4242");
        Assert.Equal(first, second);
        Assert.Contains('.', first);
        Assert.True(first.Any(c => c != '.'), first);
    }
}
