using System.Diagnostics;
using System.Text.Json.Nodes;
using TwinPS.Client.Device;
using TwinPS.Protocol;

namespace TwinPS.Client.Tests.Device;

/// <summary>The device client against the real emulator: twin GET, reported PATCH, desired notifications, authentication.</summary>
public sealed class DeviceClientTests(DeviceHubFixture fixture) : IClassFixture<DeviceHubFixture>
{
    private readonly DeviceHub _hub = fixture.Hub;

    [Fact]
    public async Task GetTwin_shows_desired_set_by_the_backend_with_versions_and_no_tags()
    {
        var cs = await _hub.CreateDeviceAsync();
        var id = IoTHubConnectionString.Parse(cs).DeviceId!;
        await _hub.Service.UpdateTwinAsync(id, null, new TwinPatch
        {
            Tags = (JsonObject)JsonNode.Parse("""{"location":{"plant":"Redmond43"}}""")!,
            Desired = (JsonObject)JsonNode.Parse("""{"telemetryInterval":30,"nested":{"a":1}}""")!,
        });

        await using var device = IoTHubDeviceClient.Create(cs, _hub.DeviceOptions());
        await device.OpenAsync();
        var twin = await device.GetTwinAsync();

        Assert.Equal(30, (int)twin.Desired["telemetryInterval"]!);
        Assert.Equal(1, (int)twin.Desired["nested"]!["a"]!);
        Assert.Equal(2, twin.DesiredVersion); // created at 1, one update
        Assert.Equal(1, twin.ReportedVersion); // never reported
        Assert.False(twin.Desired.ContainsKey("$version"));
        Assert.DoesNotContain("Redmond43", twin.ToJson(), StringComparison.Ordinal);
        Assert.DoesNotContain("$metadata", twin.ToJson(), StringComparison.Ordinal);
        Assert.Equal(DeviceConnectionStatus.Connected, device.Status);
    }

    [Fact]
    public async Task UpdateReported_returns_the_new_version_and_the_backend_sees_the_values_and_removals()
    {
        var cs = await _hub.CreateDeviceAsync();
        var id = IoTHubConnectionString.Parse(cs).DeviceId!;
        await using var device = IoTHubDeviceClient.Create(cs, _hub.DeviceOptions());
        await device.OpenAsync();
        var before = (await device.GetTwinAsync()).ReportedVersion;

        var v1 = await device.UpdateReportedAsync((JsonObject)JsonNode.Parse("""{"temperature":21.5,"connectivity":"cellular","battery":{"level":87}}""")!);
        var v2 = await device.UpdateReportedAsync((JsonObject)JsonNode.Parse("""{"battery":null}""")!);

        Assert.Equal(before + 1, v1);
        Assert.Equal(v1 + 1, v2);
        var twin = await _hub.Service.GetTwinAsync(id);
        Assert.Equal(21.5, (double)twin.Reported["temperature"]!);
        Assert.Equal("cellular", (string)twin.Reported["connectivity"]!);
        Assert.False(twin.Reported.ContainsKey("battery"));
        Assert.Equal(v2, twin.ReportedVersion);
        Assert.Equal("Connected", twin.ConnectionState);
        Assert.NotEqual("0001-01-01T00:00:00Z", twin.LastActivityTime);
    }

    [Fact]
    public async Task Desired_patch_from_a_REST_PATCH_arrives_with_only_the_changed_keys_and_its_version()
    {
        var cs = await _hub.CreateDeviceAsync();
        var id = IoTHubConnectionString.Parse(cs).DeviceId!;
        await _hub.Service.UpdateTwinAsync(id, null, new TwinPatch { Desired = (JsonObject)JsonNode.Parse("""{"keep":1}""")! });
        await using var device = IoTHubDeviceClient.Create(cs, _hub.DeviceOptions());
        var events = new DeviceEvents(device);
        await device.OpenAsync();

        var updated = await _hub.Service.UpdateTwinAsync(id, null, new TwinPatch { Desired = (JsonObject)JsonNode.Parse("""{"telemetryInterval":5,"route":null}""")! });

        var patch = events.NextDesired();
        Assert.False(patch.IsSynthetic);
        Assert.Equal(updated.DesiredVersion, patch.Version);
        Assert.Equal(5, (int)patch.Patch["telemetryInterval"]!);
        Assert.False(patch.Patch.ContainsKey("keep"));
        Assert.False(patch.Patch.ContainsKey("$version"));
        Assert.Equal(patch.Version, device.DesiredVersion);
    }

    [Fact]
    public async Task Desired_patch_from_a_REST_PUT_sends_removed_keys_as_null()
    {
        var cs = await _hub.CreateDeviceAsync();
        var id = IoTHubConnectionString.Parse(cs).DeviceId!;
        await _hub.Service.UpdateTwinAsync(id, null, new TwinPatch { Desired = (JsonObject)JsonNode.Parse("""{"old":1,"same":2}""")! });
        await using var device = IoTHubDeviceClient.Create(cs, _hub.DeviceOptions());
        var events = new DeviceEvents(device);
        await device.OpenAsync();

        await _hub.Service.ReplaceTwinAsync(id, null, tags: null, desired: (JsonObject)JsonNode.Parse("""{"same":2,"added":3}""")!);

        var patch = events.NextDesired();
        Assert.True(patch.Patch.ContainsKey("old"));
        Assert.Null(patch.Patch["old"]);
        Assert.Equal(3, (int)patch.Patch["added"]!);
        var twin = await device.GetTwinAsync();
        Assert.False(twin.Desired.ContainsKey("old"));
        Assert.Equal(patch.Version, twin.DesiredVersion);
    }

    [Fact]
    public async Task An_invalid_reported_key_is_refused_before_sending_and_nothing_changes()
    {
        var cs = await _hub.CreateDeviceAsync();
        var id = IoTHubConnectionString.Parse(cs).DeviceId!;
        await using var device = IoTHubDeviceClient.Create(cs, _hub.DeviceOptions());
        await device.OpenAsync();
        var before = await _hub.Service.GetTwinAsync(id);

        var ex = await Assert.ThrowsAsync<TwinValidationException>(() => device.UpdateReportedAsync((JsonObject)JsonNode.Parse("""{"ok":1,"bad.key":2}""")!));

        Assert.Contains("bad.key", ex.Message, StringComparison.Ordinal);
        var after = await _hub.Service.GetTwinAsync(id);
        Assert.Equal(before.ReportedVersion, after.ReportedVersion);
        Assert.False(after.Reported.ContainsKey("ok"));
    }

    [Fact]
    public async Task A_wrong_key_is_refused_with_an_authentication_error_and_no_hang()
    {
        var cs = await _hub.CreateDeviceAsync();
        var wrong = IoTHubConnectionString.Parse(cs);
        var bad = $"HostName=localhost;DeviceId={wrong.DeviceId};SharedAccessKey={IdentityRules.GenerateSymmetricKey()}";
        await using var device = IoTHubDeviceClient.Create(bad, _hub.DeviceOptions());

        // No hang: the hub's refusal (401, not a connect timeout) ends the call.
        var ex = await Assert.ThrowsAsync<IoTHubServiceException>(() => device.OpenAsync().WaitAsync(TimeBounds.Eventually));

        Assert.Equal(401, ex.Status);
        Assert.Equal("IotHubUnauthorizedAccess", ex.ErrorCode);
        Assert.Contains(wrong.DeviceId!, ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("sig=", ex.ToString(), StringComparison.Ordinal);
        Assert.Equal(DeviceConnectionStatus.Disconnected, device.Status);
    }

    [Fact]
    public async Task Unknown_and_disabled_devices_are_refused()
    {
        var cs = await _hub.CreateDeviceAsync();
        var parsed = IoTHubConnectionString.Parse(cs);
        var identity = await _hub.Service.GetDeviceAsync(parsed.DeviceId!);
        identity.Status = "disabled";
        await _hub.Service.UpdateDeviceAsync(identity);

        await using var disabled = IoTHubDeviceClient.Create(cs, _hub.DeviceOptions());
        var ex = await Assert.ThrowsAsync<IoTHubServiceException>(() => disabled.OpenAsync());
        Assert.Equal(401, ex.Status);

        await using var unknown = IoTHubDeviceClient.Create($"HostName=localhost;DeviceId=never-created-{Guid.NewGuid():N};SharedAccessKey={parsed.SharedAccessKey}", _hub.DeviceOptions());
        var ex2 = await Assert.ThrowsAsync<IoTHubServiceException>(() => unknown.OpenAsync());
        Assert.Equal(401, ex2.Status);
    }

    [Fact]
    public async Task Disabling_a_connected_device_drops_its_connection()
    {
        var cs = await _hub.CreateDeviceAsync();
        var id = IoTHubConnectionString.Parse(cs).DeviceId!;
        await using var device = IoTHubDeviceClient.Create(cs, _hub.DeviceOptions(autoReconnect: true));
        var events = new DeviceEvents(device);
        await device.OpenAsync();

        var identity = await _hub.Service.GetDeviceAsync(id);
        identity.Status = "disabled";
        await _hub.Service.UpdateDeviceAsync(identity);

        // Dropped, then the reconnect is refused (401), which ends reconnecting.
        var final = events.WaitFor(DeviceConnectionStatus.Disconnected);
        Assert.Equal(401, Assert.IsType<IoTHubServiceException>(final.Error).Status);
    }

    [Fact]
    public async Task A_second_connection_of_the_same_device_drops_the_first()
    {
        var cs = await _hub.CreateDeviceAsync();
        var id = IoTHubConnectionString.Parse(cs).DeviceId!;
        await using var first = IoTHubDeviceClient.Create(cs, _hub.DeviceOptions(autoReconnect: false));
        var firstEvents = new DeviceEvents(first);
        await first.OpenAsync();
        await using var second = IoTHubDeviceClient.Create(cs, _hub.DeviceOptions(autoReconnect: false));
        await second.OpenAsync();

        firstEvents.WaitFor(DeviceConnectionStatus.Disconnected);
        var ex = await Assert.ThrowsAsync<IoTHubServiceException>(() => first.GetTwinAsync());
        Assert.Equal(IoTHubServiceException.ConnectionErrorCode, ex.ErrorCode);
        await second.UpdateReportedAsync(new JsonObject { ["who"] = "second" });
        var twin = await _hub.Service.GetTwinAsync(id);
        Assert.Equal("Connected", twin.ConnectionState);
        Assert.Equal("second", (string)twin.Reported["who"]!);
    }

    [Fact]
    public async Task Connection_state_follows_the_connection()
    {
        var cs = await _hub.CreateDeviceAsync();
        var id = IoTHubConnectionString.Parse(cs).DeviceId!;
        Assert.Equal("Disconnected", (await _hub.Service.GetTwinAsync(id)).ConnectionState);
        var device = IoTHubDeviceClient.Create(cs, _hub.DeviceOptions());
        await device.OpenAsync();
        Assert.Equal("Connected", (await _hub.Service.GetTwinAsync(id)).ConnectionState);

        await device.CloseAsync();

        await Eventually(async () => Assert.Equal("Disconnected", (await _hub.Service.GetTwinAsync(id)).ConnectionState));
        Assert.Equal(DeviceConnectionStatus.Closed, device.Status);
        await Assert.ThrowsAsync<ObjectDisposedException>(() => device.GetTwinAsync());
    }

    [Fact]
    public async Task A_device_policy_token_and_GatewayHostName_are_accepted()
    {
        var cs = IoTHubConnectionString.Parse(await _hub.CreateDeviceAsync());
        var policy = _hub.Policy("device");
        var viaPolicy = $"HostName=localhost;DeviceId={cs.DeviceId};SharedAccessKeyName=device;SharedAccessKey={policy.SharedAccessKey};GatewayHostName=localhost:{_hub.MqttPort}";
        var options = _hub.DeviceOptions();
        options.MqttPort = null; // the port comes from GatewayHostName

        await using var device = IoTHubDeviceClient.Create(viaPolicy, options);
        await device.OpenAsync();

        Assert.Equal($"localhost:{_hub.MqttPort}", device.Endpoint);
        Assert.True((await device.UpdateReportedAsync(new JsonObject { ["viaPolicy"] = true })) > 1);
    }

    [Fact]
    public async Task A_host_name_with_the_https_port_still_authenticates_on_the_mqtt_port()
    {
        // Device connection strings derived from the emulator's service string carry the HTTPS port in HostName.
        var cs = IoTHubConnectionString.Parse(await _hub.CreateDeviceAsync());
        var withPort = $"HostName=localhost:{_hub.HttpsPort};DeviceId={cs.DeviceId};SharedAccessKey={cs.SharedAccessKey}";

        await using var device = IoTHubDeviceClient.Create(withPort, _hub.DeviceOptions());
        await device.OpenAsync();

        Assert.Equal($"localhost:{_hub.MqttPort}", device.Endpoint);
        Assert.NotNull(await device.GetTwinAsync());
    }

    [Fact]
    public async Task The_server_certificate_must_chain_to_the_trusted_CA()
    {
        var cs = await _hub.CreateDeviceAsync();
        var options = _hub.DeviceOptions();
        options.TrustedCACertificate = null;
        await using var device = IoTHubDeviceClient.Create(cs, options);

        var ex = await Assert.ThrowsAsync<IoTHubServiceException>(() => device.OpenAsync());

        Assert.Equal(IoTHubServiceException.ConnectionErrorCode, ex.ErrorCode);
    }

    [Fact]
    public async Task A_SAS_token_is_renewed_by_reconnecting_before_it_expires()
    {
        var cs = await _hub.CreateDeviceAsync();
        var options = _hub.DeviceOptions();
        options.SasTokenTimeToLive = TimeSpan.FromSeconds(12);
        await using var device = IoTHubDeviceClient.Create(cs, options);
        var events = new DeviceEvents(device);
        await device.OpenAsync();

        var renewing = events.WaitFor(DeviceConnectionStatus.Reconnecting);
        Assert.Contains("renewing", renewing.Reason, StringComparison.Ordinal);
        Assert.Null(renewing.Error);
        events.WaitFor(DeviceConnectionStatus.Connected);

        Assert.True(await device.UpdateReportedAsync(new JsonObject { ["renewed"] = true }) > 1);
        Assert.True(events.NoDesiredArrives(), "a renewal must not invent desired patches");
    }

    private static async Task Eventually(Func<Task> assertion)
    {
        var until = DateTime.UtcNow + TimeBounds.Eventually;
        while (true)
        {
            try
            {
                await assertion();
                return;
            }
            catch (Exception) when (DateTime.UtcNow < until)
            {
                await Task.Delay(100);
            }
        }
    }
}
