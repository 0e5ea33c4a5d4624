using System.Text.Json.Nodes;
using TwinPS.Client.Tests.Infrastructure;

namespace TwinPS.Client.Tests;

/// <summary>Module identities and module twins against the real emulator process.</summary>
public sealed class EmulatorModuleTests : IClassFixture<EmulatorFixture>
{
    private readonly EmulatorFixture _hub;

    public EmulatorModuleTests(EmulatorFixture hub) => _hub = hub;

    private IoTHubServiceClient Client => _hub.Client;

    [Fact]
    public async Task Module_twin_get_patch_replace_with_etags()
    {
        var id = "modhost-" + Guid.NewGuid().ToString("N")[..8];
        await Client.CreateDeviceAsync(new DeviceIdentity(id));
        var module = await Client.CreateModuleAsync(id, "telemetry");
        Assert.Equal("telemetry", module.ModuleId);
        Assert.True(module.HasSymmetricKeys);
        Assert.DoesNotContain(module.GetPrimaryKey()!, module.Json.ToJsonString(), StringComparison.Ordinal);

        var duplicate = await Assert.ThrowsAsync<IoTHubServiceException>(() => Client.CreateModuleAsync(id, "telemetry"));
        Assert.Equal(409, duplicate.Status);
        Assert.Equal("telemetry", duplicate.ModuleId);

        var twin = await Client.GetTwinAsync(id, "telemetry");
        Assert.Equal("telemetry", twin.ModuleId);
        var patched = await Client.UpdateTwinAsync(id, "telemetry", new TwinPatch { Desired = new() { ["rate"] = 5 } }, twin.ETag);
        Assert.Equal(5, patched.Desired["rate"]!.GetValue<int>());
        var stale = await Assert.ThrowsAsync<IoTHubServiceException>(() =>
            Client.ReplaceTwinAsync(id, "telemetry", new JsonObject { ["t"] = 1 }, null, twin.ETag));
        Assert.Equal(412, stale.Status);
        Assert.Equal("telemetry", stale.ModuleId);

        var listed = await Client.GetModulesAsync(id);
        Assert.Contains(listed, m => m.ModuleId == "telemetry");
        var fetched = await Client.GetModuleAsync(id, "telemetry");
        await Client.DeleteModuleAsync(id, "telemetry", fetched.ETag!);
        var gone = await Assert.ThrowsAsync<IoTHubServiceException>(() => Client.GetTwinAsync(id, "telemetry"));
        Assert.Equal(404, gone.Status);
    }

    [Fact]
    public async Task System_module_ids_are_refused_for_creation_before_any_request()
    {
        var ex = await Assert.ThrowsAsync<TwinPS.Protocol.IoTHubProtocolException>(() => Client.CreateModuleAsync("any", "$edgeAgent"));
        Assert.Equal(TwinPS.Protocol.IoTHubErrorCode.ArgumentInvalid, ex.Code);
        Assert.Contains("$edgeAgent", ex.Message, StringComparison.Ordinal);
    }
}
