using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using TwinPS.Emulator.Domain;
using TwinPS.Emulator.Limits;
using TwinPS.Protocol;

namespace TwinPS.Emulator.Rest;

/// <summary>The identity registry: /devices/{id}, /devices/{id}/modules[/{mid}], GET /devices, bulk POST /devices.</summary>
internal sealed class DeviceHandlers(DeviceTable table, HubRegistry registry, HubThrottle throttle)
{
    public Task GetDeviceAsync(HttpContext context, string deviceId) => WriteIdentityAsync(context, table.GetDevice(deviceId));

    public async Task PutDeviceAsync(HttpContext context, string deviceId)
    {
        IdentityRules.ValidateDeviceId(deviceId);
        JsonObject body = await RequestBody.ReadObjectAsync(context).ConfigureAwait(false);
        CheckBodyId(body, "deviceId", deviceId);
        IdentityRequest request = IdentityJson.ReadRequest(body, isModule: false);
        string? ifMatch = context.Request.Headers.IfMatch;
        TwinSnapshot snapshot = string.IsNullOrWhiteSpace(ifMatch)
            ? await registry.CreateDeviceAsync(deviceId, request).ConfigureAwait(false)
            : await registry.UpdateDeviceAsync(deviceId, ifMatch, request).ConfigureAwait(false);
        await WriteIdentityAsync(context, snapshot).ConfigureAwait(false);
    }

    public async Task DeleteDeviceAsync(HttpContext context, string deviceId)
    {
        await registry.DeleteDeviceAsync(deviceId, context.Request.Headers.IfMatch).ConfigureAwait(false);
        context.Response.StatusCode = StatusCodes.Status204NoContent;
    }

    public Task ListDevicesAsync(HttpContext context)
    {
        int top = IoTHubLimits.MaxDeviceListTop;
        string? topText = context.Request.Query["top"];
        if (topText is not null && int.TryParse(topText, NumberStyles.Integer, CultureInfo.InvariantCulture, out int t) && t >= 1 && t <= IoTHubLimits.MaxDeviceListTop)
            top = t;
        var devices = new List<TwinSnapshot>(Math.Min(top, table.DeviceCount));
        foreach (string id in table.SortedDeviceIds())
        {
            if (devices.Count >= top) break;
            if (table.FindDevice(id) is TwinSnapshot s) devices.Add(s);
        }

        return WriteArrayAsync(context, devices);
    }

    public Task ListModulesAsync(HttpContext context, string deviceId) => WriteArrayAsync(context, table.GetModules(deviceId));

    public Task GetModuleAsync(HttpContext context, string deviceId, string moduleId) =>
        WriteIdentityAsync(context, table.GetModule(deviceId, moduleId, forTwin: false));

    public async Task PutModuleAsync(HttpContext context, string deviceId, string moduleId)
    {
        JsonObject body = await RequestBody.ReadObjectAsync(context).ConfigureAwait(false);
        CheckBodyId(body, "deviceId", deviceId);
        CheckBodyId(body, "moduleId", moduleId);
        IdentityRequest request = IdentityJson.ReadRequest(body, isModule: true);
        string? ifMatch = context.Request.Headers.IfMatch;
        TwinSnapshot snapshot = string.IsNullOrWhiteSpace(ifMatch)
            ? await registry.CreateModuleAsync(deviceId, moduleId, request).ConfigureAwait(false)
            : await registry.UpdateModuleAsync(deviceId, moduleId, ifMatch, request).ConfigureAwait(false);
        await WriteIdentityAsync(context, snapshot).ConfigureAwait(false);
    }

    public async Task DeleteModuleAsync(HttpContext context, string deviceId, string moduleId)
    {
        await registry.DeleteModuleAsync(deviceId, moduleId, context.Request.Headers.IfMatch).ConfigureAwait(false);
        context.Response.StatusCode = StatusCodes.Status204NoContent;
    }

    public async Task BulkAsync(HttpContext context)
    {
        JsonNode body = await RequestBody.ReadJsonAsync(context).ConfigureAwait(false);
        if (body is not JsonArray entries)
            throw new IoTHubProtocolException(IoTHubErrorCode.IotHubFormatError, "The bulk registry body must be a JSON array of devices.");

        // Every entry is one registry operation against the throttle (reference §3.1).
        await throttle.EnsureAsync(ThrottleClass.Registry, Math.Clamp(entries.Count, 1, IoTHubLimits.MaxBulkEntries), context.RequestAborted).ConfigureAwait(false);
        BulkResult result = await registry.BulkAsync(entries).ConfigureAwait(false);
        if (!result.IsSuccessful)
        {
            context.Response.Headers[IoTHubErrorEnvelope.ErrorCodeHeader] = nameof(IoTHubErrorCode.BulkRegistryOperationFailure);
            context.Response.Headers["IotHubErrorCode"] = nameof(IoTHubErrorCode.BulkRegistryOperationFailure);
        }

        await HttpJson.WriteAsync(context, result.IsSuccessful ? 200 : 400, w => result.Write(w)).ConfigureAwait(false);
    }

    private static void CheckBodyId(JsonObject body, string name, string pathValue)
    {
        if (body[name] is JsonValue v && v.TryGetValue(out string? inBody) && !string.IsNullOrEmpty(inBody)
            && !string.Equals(inBody, pathValue, StringComparison.Ordinal))
        {
            throw new IoTHubProtocolException(IoTHubErrorCode.ArgumentInvalid, $"The '{name}' in the body ('{Shorten(inBody)}') does not match the one in the path ('{Shorten(pathValue)}').");
        }
    }

    private static string Shorten(string s) => s.Length > 128 ? s[..128] + "…" : s;

    private static Task WriteIdentityAsync(HttpContext context, TwinSnapshot snapshot)
    {
        context.Response.Headers.ETag = "\"" + snapshot.Identity.ETag + "\"";
        return HttpJson.WriteBytesAsync(context, 200, snapshot.IdentityJson);
    }

    private static Task WriteArrayAsync(HttpContext context, IReadOnlyList<TwinSnapshot> items)
    {
        using var buffer = new MemoryStream();
        buffer.WriteByte((byte)'[');
        for (int i = 0; i < items.Count; i++)
        {
            if (i > 0) buffer.WriteByte((byte)',');
            buffer.Write(items[i].IdentityJson);
        }

        buffer.WriteByte((byte)']');
        return HttpJson.WriteBytesAsync(context, 200, buffer.ToArray());
    }
}
