using System.Text.Json.Nodes;
using TwinPS.Client.Device;
using TwinPS.Protocol;
using TwinPS.Testing;
using Xunit.Abstractions;

namespace TwinPS.Client.Tests.Device;

/// <summary>The device client against an emulator that throttles twin requests and drops MQTT connections.</summary>
public sealed class DeviceResilienceTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Twin_requests_answered_429_are_retried_until_they_succeed()
    {
        using var hub = DeviceHub.Start("--rate", "twinRead=2/s,twinUpdate=2/s", "--throttle", "strict");
        var cs = await hub.CreateDeviceAsync();
        var options = hub.DeviceOptions();
        options.ThrottleRetryDelay = TimeSpan.FromMilliseconds(100);
        options.ThrottleMaxRetryDelay = TimeSpan.FromMilliseconds(400);
        await using var device = IoTHubDeviceClient.Create(cs, options);
        await device.OpenAsync();

        // Twice the rate, at once: the hub answers res/429 to some; every call still succeeds.
        var reads = Enumerable.Range(0, 4).Select(_ => device.GetTwinAsync()).ToList();
        var patches = Enumerable.Range(0, 4).Select(i => device.UpdateReportedAsync(new JsonObject { ["n" + i] = i })).ToList();
        await Task.WhenAll(reads);
        var versions = await Task.WhenAll(patches);

        Assert.True(device.ThrottledRequests > 0, "the hub throttled nothing: the test proves nothing");
        Assert.Equal(4, versions.Distinct().Count());
        var twin = await device.GetTwinAsync();
        for (var i = 0; i < 4; i++)
        {
            Assert.Equal(i, (int)twin.Reported["n" + i]!);
        }

        output.WriteLine($"{device.ThrottledRequests} throttled twin requests retried");
    }

    [Fact]
    public async Task No_desired_patch_is_lost_or_raised_twice_across_dropped_connections()
    {
        using var hub = DeviceHub.Start("--fault-rate", "0.15", "--fault-kind", "MqttDisconnect", "--fault-seed", "5");
        var cs = await hub.CreateDeviceAsync();
        var id = IoTHubConnectionString.Parse(cs).DeviceId!;
        var options = hub.DeviceOptions();
        options.ReconnectInitialDelay = TimeSpan.FromMilliseconds(50);
        options.ReconnectMaxDelay = TimeSpan.FromMilliseconds(300);
        await using var device = IoTHubDeviceClient.Create(cs, options);
        var received = new List<DesiredPropertiesEventArgs>();
        var drops = 0;
        device.DesiredPropertiesReceived += (_, e) =>
        {
            lock (received)
            {
                received.Add(e);
            }
        };
        device.ConnectionStatusChanged += (_, e) =>
        {
            if (e.Status == DeviceConnectionStatus.Reconnecting)
            {
                Interlocked.Increment(ref drops);
            }
        };
        await device.OpenAsync();
        var start = (await device.GetTwinAsync()).Desired;

        // The back end changes desired properties 40 times while the hub keeps dropping the device's connection.
        const int Changes = 40;
        for (var i = 1; i <= Changes; i++)
        {
            var patch = new JsonObject { ["step"] = i, ["k" + (i % 7)] = i };
            if (i % 5 == 0)
            {
                patch["k" + ((i + 3) % 7)] = null;
            }

            await hub.Service.UpdateTwinAsync(id, null, new TwinPatch { Desired = patch });
            await Task.Delay(25);
        }

        var final = await hub.Service.GetTwinAsync(id);
        var finalVersion = (long)final.Desired["$version"]!;

        // Wait (bounded) until the final version has been raised.
        var until = DateTime.UtcNow + TimeBounds.Eventually;
        bool Raised()
        {
            lock (received)
            {
                return received.Any(e => e.Version >= finalVersion);
            }
        }

        while (!Raised() && DateTime.UtcNow < until)
        {
            await Task.Delay(50);
        }

        Assert.True(Raised(), $"version {finalVersion} was never raised (client at {device.DesiredVersion})");
        List<DesiredPropertiesEventArgs> events;
        lock (received)
        {
            events = [.. received];
        }

        output.WriteLine($"{drops} drops, {events.Count} patches raised ({events.Count(e => e.IsSynthetic)} synthetic), final version {finalVersion}");
        Assert.True(drops > 0, "no connection was dropped: the test proves nothing");

        // None raised twice: versions strictly increase.
        for (var i = 1; i < events.Count; i++)
        {
            Assert.True(events[i].Version > events[i - 1].Version, $"version {events[i].Version} raised after {events[i - 1].Version}");
        }

        // None lost: replaying the raised patches over the starting state gives the hub's final desired properties.
        var state = (JsonObject)start.DeepClone();
        foreach (var e in events)
        {
            DesiredPropertiesDiff.Apply(state, e.Patch);
        }

        var expected = DesiredPropertiesDiff.WithoutMetadata(final.Desired);
        Assert.True(JsonNode.DeepEquals(expected, state), $"expected {expected.ToJsonString()}, replayed {state.ToJsonString()}");
    }
}
