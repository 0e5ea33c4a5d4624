using System.Net;
using TwinPS.Testing;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace TwinPS.Emulator.Tests.Infrastructure;

/// <summary>Helpers for the throttling and fault-injection tests: emulators with extra options, stats, exact 429 checks.</summary>
public static partial class Limits
{
    /// <summary>An in-memory emulator on free ports with extra options.</summary>
    public static EmulatorProcess Start(params string[] extra) =>
        EmulatorProcess.Start(["--https-port", "0", "--mqtt-port", "0", "--in-memory", .. extra]);

    /// <summary>The <c>/$twinps/stats</c> document.</summary>
    public static async Task<JsonObject> StatsAsync(HubClient client)
    {
        HubResponse r = await client.GetAsync("$twinps/stats");
        Assert.Equal(HttpStatusCode.OK, r.Status);
        return r.Obj;
    }

    public static long Throttled(JsonObject stats, string throttleClass, string code) => (long)stats["throttled"]!["byClass"]![throttleClass]![code]!;

    public static long Admitted(JsonObject stats, string throttleClass) => (long)stats["throttled"]!["byClass"]![throttleClass]!["admitted"]!;

    public static long Queued(JsonObject stats, string throttleClass) => (long)stats["throttled"]!["byClass"]![throttleClass]!["queued"]!;

    public static long Faults(JsonObject stats, string kind) => (long)stats["faults"]!["byKind"]![kind]!;

    public static long Writes(JsonObject stats, string kind) => (long)stats["writesApplied"]![kind]!;

    /// <summary>
    /// Asserts the hub's exact 429: status, classic envelope with the throttling text and operation type, tracking id
    /// and timestamp, <c>iothub-errorcode</c>, and no <c>Retry-After</c>.
    /// </summary>
    public static void AssertThrottled(HubResponse r, string code, string operationType)
    {
        Assert.Equal((HttpStatusCode)429, r.Status);
        JsonObject body = r.Obj;
        Assert.Equal(["ExceptionMessage", "Message"], body.Select(p => p.Key).Order(StringComparer.Ordinal).ToArray());
        Assert.Equal($"ErrorCode:{code};The request has been throttled. Wait 10 seconds and try again. Operation type: {operationType}", (string)body["Message"]!);
        Assert.Matches(TrackingLine(), (string)body["ExceptionMessage"]!);
        Assert.Equal(code, r.Header("iothub-errorcode"));
        Assert.Null(r.Headers.RetryAfter);
        Assert.Null(r.Header("Retry-After"));
    }

    /// <summary>Connects a device over MQTT (plain MQTTnet) subscribed to twin answers and desired notifications.</summary>
    public static async Task<RawMqttDevice> ConnectTwinDeviceAsync(EmulatorProcess emulator, JsonObject identity)
    {
        RawMqttDevice device = await RawMqttDevice.ConnectAsync(emulator, identity);
        await device.SubscribeAsync("$iothub/twin/res/#");
        await device.SubscribeAsync("$iothub/twin/PATCH/properties/desired/#");
        return device;
    }

    /// <summary>Polls until <paramref name="condition"/> holds (generous overall timeout).</summary>
    public static async Task WaitUntilAsync(Func<Task<bool>> condition, string what)
    {
        DateTime deadline = DateTime.UtcNow + TimeBounds.Eventually;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) Assert.Fail("Timed out waiting for " + what);
            await Task.Delay(50);
        }
    }

    [GeneratedRegex(@"^Tracking ID:[0-9a-f]{32}-G:0-TimeStamp:\d\d/\d\d/\d{4} \d\d:\d\d:\d\d$")]
    private static partial Regex TrackingLine();
}
