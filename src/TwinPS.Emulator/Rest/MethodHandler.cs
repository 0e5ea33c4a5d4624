using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using TwinPS.Emulator.Domain;
using TwinPS.Emulator.Methods;
using TwinPS.Protocol;

namespace TwinPS.Emulator.Rest;

/// <summary>
/// <c>POST /twins/{id}/methods</c> and <c>POST /twins/{id}/modules/{mid}/methods</c>: validates the body like the hub
/// (400 for bad timeouts, 413 over 128 KB), checks the target exists (404 DeviceNotFound / ModuleNotFound), invokes
/// through the <see cref="DeviceMethodBroker"/> and answers <c>200 {"status","payload"}</c>.
/// </summary>
internal sealed class MethodHandler(DeviceTable devices, DeviceMethodBroker broker)
{
    /// <summary>Reads and validates the request (before any throttling is charged).</summary>
    public static async Task<DirectMethodRequest> ReadRequestAsync(HttpContext context)
    {
        JsonObject body = await RequestBody.ReadObjectAsync(context).ConfigureAwait(false);
        return DirectMethodRequest.Parse(body);
    }

    public async Task InvokeAsync(HttpContext context, string deviceId, string? moduleId, DirectMethodRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (devices.FindDevice(deviceId) is null) throw HubErrors.DeviceNotFound(deviceId);
        if (moduleId is not null && devices.FindModule(deviceId, moduleId) is null) throw HubErrors.ModuleNotFound(deviceId, moduleId);

        DirectMethodResponse response = await broker.InvokeAsync(deviceId, moduleId, request, context.RequestAborted).ConfigureAwait(false);
        JsonObject json = response.ToJson();
        await HttpJson.WriteAsync(context, 200, w => json.WriteTo(w)).ConfigureAwait(false);
    }
}
