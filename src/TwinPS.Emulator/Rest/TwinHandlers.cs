using Microsoft.AspNetCore.Http;
using TwinPS.Emulator.Domain;

namespace TwinPS.Emulator.Rest;

/// <summary>GET/PATCH/PUT /twins/{id}[/modules/{mid}].</summary>
internal sealed class TwinHandlers(DeviceTable devices, HubTwins twins)
{
    public Task GetAsync(HttpContext context, string deviceId, string? moduleId)
    {
        TwinSnapshot snapshot = moduleId is null ? devices.GetDevice(deviceId) : devices.GetModule(deviceId, moduleId, forTwin: true);
        return WriteTwinAsync(context, snapshot);
    }

    public async Task UpdateAsync(HttpContext context, string deviceId, string? moduleId, bool replace)
    {
        // Existence first (a PATCH to an unknown device is 404 whatever its body), then the body.
        _ = moduleId is null ? devices.GetDevice(deviceId) : devices.GetModule(deviceId, moduleId, forTwin: true);
        var body = await RequestBody.ReadObjectAsync(context).ConfigureAwait(false);
        string? ifMatch = context.Request.Headers.IfMatch;
        TwinSnapshot snapshot = await twins.UpdateTwinAsync(deviceId, moduleId, ifMatch, body, replace).ConfigureAwait(false);
        await WriteTwinAsync(context, snapshot).ConfigureAwait(false);
    }

    private static Task WriteTwinAsync(HttpContext context, TwinSnapshot snapshot)
    {
        context.Response.Headers.ETag = "\"" + snapshot.TwinETag + "\"";
        return HttpJson.WriteBytesAsync(context, 200, snapshot.TwinJson);
    }
}
