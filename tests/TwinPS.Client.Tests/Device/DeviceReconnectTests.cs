using System.Diagnostics;
using System.Text.Json.Nodes;
using TwinPS.Client.Device;
using TwinPS.Protocol;
using Xunit.Abstractions;

namespace TwinPS.Client.Tests.Device;

/// <summary>The emulator stops under a connected client, and comes back on the same port and data folder.</summary>
public sealed class DeviceReconnectTests(ITestOutputHelper output) : IDisposable
{
    private readonly DeviceHub _hub = DeviceHub.Start();
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    private void Mark(string what) => output.WriteLine($"{_clock.Elapsed.TotalSeconds:F1}s {what}");

    [UnixFact] // Freezing the emulator uses SIGSTOP; on Windows the test is reported as skipped, not passed.
    public async Task A_pending_request_fails_fast_when_the_hub_goes_away_and_the_client_reconnects_and_surfaces_missed_changes()
    {
        var cs = await _hub.CreateDeviceAsync();
        var id = IoTHubConnectionString.Parse(cs).DeviceId!;
        await _hub.Service.UpdateTwinAsync(id, null, new TwinPatch { Desired = (JsonObject)JsonNode.Parse("""{"interval":1,"mode":"a"}""")! });
        var options = _hub.DeviceOptions();
        // 'Never': a request that fails within TimeBounds.Eventually failed because of the drop, not by timing out.
        options.OperationTimeout = TimeBounds.Never;
        await using var device = IoTHubDeviceClient.Create(cs, options);
        var events = new DeviceEvents(device);
        await device.OpenAsync();
        var versionBefore = device.DesiredVersion;

        // Frozen hub: the request is sent and stays unanswered; then the process dies and every socket closes.
        Mark("before _hub.Freeze();");
        _hub.Freeze();
        var pending = device.GetTwinAsync();
        await Task.Delay(TimeBounds.Quiet); // lets the request go out; a frozen hub cannot answer it
        Assert.False(pending.IsCompleted);
        Mark("before _hub.Kill();");
        _hub.Kill();
        var ex = await Assert.ThrowsAsync<IoTHubServiceException>(() => pending.WaitAsync(TimeBounds.Eventually));
        Assert.Equal(IoTHubServiceException.ConnectionErrorCode, ex.ErrorCode);
        Assert.Contains("dropped", ex.Message, StringComparison.Ordinal);
        Mark("before events.WaitFor(DeviceConnectionStatus.Reconnecting);");
        events.WaitFor(DeviceConnectionStatus.Reconnecting);

        // While it is down, new requests fail at once with a clear error.
        var down = await Assert.ThrowsAsync<IoTHubServiceException>(() => device.UpdateReportedAsync(new JsonObject { ["x"] = 1 }).WaitAsync(TimeBounds.Eventually));
        Assert.Contains("not connected", down.Message, StringComparison.Ordinal);

        // The back end changes desired properties while the device cannot connect (the hub runs on another MQTT port).
        var mqttPort = _hub.MqttPort;
        Mark("before _hub.Restart(mqttPort: 0);");
        _hub.Restart(mqttPort: 0);
        await _hub.Service.UpdateTwinAsync(id, null, new TwinPatch { Desired = (JsonObject)JsonNode.Parse("""{"interval":2,"mode":null,"added":true}""")! });
        Mark("before _hub.Restart(mqttPort: mqttPort);");
        _hub.Restart(mqttPort: mqttPort);

        Mark("before events.WaitFor(DeviceConnectionStatus.Connected);");
        events.WaitFor(DeviceConnectionStatus.Connected);
        var synthetic = events.NextDesired();
        Assert.True(synthetic.IsSynthetic);
        Assert.True(synthetic.Version > versionBefore);
        Assert.Equal(2, (int)synthetic.Patch["interval"]!);
        Assert.True(synthetic.Patch.ContainsKey("mode"));
        Assert.Null(synthetic.Patch["mode"]);
        Assert.True((bool)synthetic.Patch["added"]!);

        // And it works normally again: twin read, reported patch, live notifications.
        var twin = await device.GetTwinAsync();
        Assert.Equal(synthetic.Version, twin.DesiredVersion);
        Assert.True(await device.UpdateReportedAsync(new JsonObject { ["back"] = true }) > 1);
        await _hub.Service.UpdateTwinAsync(id, null, new TwinPatch { Desired = new JsonObject { ["live"] = 1 } });
        Mark("before var live = events.NextDesired();");
        var live = events.NextDesired();
        Assert.False(live.IsSynthetic);
        Assert.Equal(1, (int)live.Patch["live"]!);
    }

    public void Dispose() => _hub.Dispose();
}

/// <summary>A fact that needs a Unix platform (signals); elsewhere it is reported as skipped, never as passed.</summary>
public sealed class UnixFactAttribute : FactAttribute
{
    public UnixFactAttribute()
    {
        if (OperatingSystem.IsWindows())
        {
            Skip = "needs SIGSTOP/SIGCONT (Unix only)";
        }
    }
}
