using System.Text.Json.Nodes;
using TwinPS.Client.Tests.Infrastructure;

namespace TwinPS.Client.Tests;

/// <summary>The client against the real emulator process: twins, ETags, 412.</summary>
public sealed class EmulatorTwinTests : IClassFixture<EmulatorFixture>
{
    private readonly EmulatorFixture _hub;

    public EmulatorTwinTests(EmulatorFixture hub) => _hub = hub;

    private IoTHubServiceClient Client => _hub.Client;

    [Fact]
    public async Task A_conditional_write_answered_503_after_the_hub_applied_it_is_a_success_when_the_twin_holds_it()
    {
        // Its own emulator: some writes are committed and then answered 503 instead of their own answer (seeded, and the
        // requests go one at a time, so every run meets the same faults). The retry of such a PATCH carries an etag that
        // its own first attempt made stale, so the hub refuses it with 412; the client must read back and see its write.
        using var hub = EmulatorFixture.Start("--fault-rate", "0.4", "--fault-kind", "service-unavailable-after-commit", "--fault-seed", "5");
        var options = new IoTHubServiceClientOptions { TrustedCACertificatePath = hub.CaCertificatePath };
        options.ThrottleRetryDelay = TimeSpan.FromMilliseconds(5);
        options.ThrottleMaxRetryDelay = TimeSpan.FromMilliseconds(20);
        using var client = new IoTHubServiceClient(hub.ConnectionString, options);
        var unavailablePatches = 0;
        client.Resilience.RetryScheduled += (_, e) =>
        {
            if (e.Method == "PATCH" && e.Status == 503)
            {
                Interlocked.Increment(ref unavailablePatches);
            }
        };

        var id = "twin-" + Guid.NewGuid().ToString("N")[..8];
        await client.CreateDeviceAsync(new DeviceIdentity(id)); // a create answered 503 after commit meets 409 on its retry: read back too
        for (var round = 1; round <= 12; round++)
        {
            var twin = await client.GetTwinAsync(id);

            var updated = await client.UpdateTwinAsync(id, null, new TwinPatch { Desired = new() { ["round"] = round } }, twin.ETag);

            Assert.Equal(round, updated.Desired["round"]!.GetValue<int>());
        }

        Assert.True(unavailablePatches > 0, "no PATCH was answered 503: the judgement was not exercised");
        Assert.Equal(12, (await client.GetTwinAsync(id)).Desired["round"]!.GetValue<int>());
    }

    [Fact]
    public async Task Get_patch_with_etag_and_stale_etag_gives_412()
    {
        var id = "twin-" + Guid.NewGuid().ToString("N")[..8];
        await Client.CreateDeviceAsync(new DeviceIdentity(id));

        var twin = await Client.GetTwinAsync(id);
        Assert.Equal(id, twin.DeviceId);
        Assert.NotNull(twin.ETag);
        Assert.Equal(1, twin.DesiredVersion);

        var patch = new TwinPatch
        {
            Tags = new() { ["location"] = new JsonObject { ["plant"] = "Redmond43" } },
            Desired = new() { ["telemetryInterval"] = 30 },
        };
        var updated = await Client.UpdateTwinAsync(id, null, patch, twin.ETag);
        Assert.NotEqual(twin.ETag, updated.ETag);
        Assert.Equal("Redmond43", updated.Tags["location"]!["plant"]!.GetValue<string>());
        Assert.Equal(30, updated.Desired["telemetryInterval"]!.GetValue<int>());
        Assert.Equal(2, updated.DesiredVersion);

        var stale = await Assert.ThrowsAsync<IoTHubServiceException>(() =>
            Client.UpdateTwinAsync(id, null, new TwinPatch { Tags = new() { ["stale"] = true } }, twin.ETag));
        Assert.Equal(412, stale.Status);
        Assert.Equal("PreconditionFailed", stale.ErrorCode);
        Assert.Equal(id, stale.DeviceId);

        var forced = await Client.UpdateTwinAsync(id, null, new TwinPatch { Tags = new() { ["location"] = null, ["forced"] = true } }, "*");
        Assert.Null(forced.Tags["location"]);
        Assert.True(forced.Tags["forced"]!.GetValue<bool>());
    }

    [Fact]
    public async Task Replace_wipes_what_is_left_out_and_honours_etags()
    {
        var id = "replace-" + Guid.NewGuid().ToString("N")[..8];
        await Client.CreateDeviceAsync(new DeviceIdentity(id));
        var first = await Client.UpdateTwinAsync(id, null, new TwinPatch { Tags = new() { ["a"] = 1 }, Desired = new() { ["x"] = 1, ["y"] = 2 } });

        var desired = (JsonObject)first.Desired.DeepClone();
        desired.Remove("y");
        desired["z"] = "new";
        var replaced = await Client.ReplaceTwinAsync(id, null, null, desired, first.ETag);

        Assert.Empty(replaced.Tags);
        Assert.Equal(1, replaced.Desired["x"]!.GetValue<int>());
        Assert.Null(replaced.Desired["y"]);
        Assert.Equal("new", replaced.Desired["z"]!.GetValue<string>());

        var stale = await Assert.ThrowsAsync<IoTHubServiceException>(() => Client.ReplaceTwinAsync(id, null, new() { ["b"] = 2 }, null, first.ETag));
        Assert.Equal(412, stale.Status);
    }

    [Fact]
    public async Task Clearing_desired_removes_every_desired_property()
    {
        var id = "clear-" + Guid.NewGuid().ToString("N")[..8];
        await Client.CreateDeviceAsync(new DeviceIdentity(id));
        await Client.UpdateTwinAsync(id, null, new TwinPatch { Desired = new() { ["x"] = 1, ["y"] = new JsonObject { ["z"] = 2 } } });

        var cleared = await Client.UpdateTwinAsync(id, null, new TwinPatch { ClearDesired = true });

        Assert.DoesNotContain(cleared.Desired, p => !p.Key.StartsWith('$'));
    }

    [Fact]
    public async Task Missing_device_and_module_twins_are_DeviceNotFound()
    {
        var ex = await Assert.ThrowsAsync<IoTHubServiceException>(() => Client.GetTwinAsync("no-such-device-" + Guid.NewGuid().ToString("N")));
        Assert.Equal(404, ex.Status);
        Assert.Equal("DeviceNotFound", ex.ErrorCode);
        Assert.NotNull(ex.TrackingId);

        var id = "mod-" + Guid.NewGuid().ToString("N")[..8];
        await Client.CreateDeviceAsync(new DeviceIdentity(id));
        var moduleEx = await Assert.ThrowsAsync<IoTHubServiceException>(() => Client.GetTwinAsync(id, "nosuchmodule"));
        Assert.Equal(404, moduleEx.Status);
        Assert.Equal("nosuchmodule", moduleEx.ModuleId);
    }

    [Fact]
    public async Task Wrong_key_is_an_authentication_error()
    {
        var cs = TwinPS.Protocol.IoTHubConnectionString.Parse(
            $"HostName={_hub.ConnectionString.HostName};SharedAccessKeyName=iothubowner;SharedAccessKey={TestClients.Key}");
        using var client = _hub.NewClient(cs);

        var ex = await Assert.ThrowsAsync<IoTHubServiceException>(() => client.GetTwinAsync("anything"));

        Assert.Equal(401, ex.Status);
        Assert.False(ex.IsTransient);
        Assert.DoesNotContain(TestClients.Key, ex.ToString(), StringComparison.Ordinal);
        await Assert.ThrowsAsync<IoTHubServiceException>(() => client.VerifyConnectionAsync());
        await _hub.Client.VerifyConnectionAsync();
    }

    [Fact]
    public async Task Registry_read_policy_cannot_write()
    {
        using var client = _hub.NewClient(_hub.Policy("registryRead"));

        var ex = await Assert.ThrowsAsync<IoTHubServiceException>(() => client.CreateDeviceAsync(new DeviceIdentity("ro-" + Guid.NewGuid().ToString("N")[..8])));

        Assert.Equal(401, ex.Status);
    }
}
