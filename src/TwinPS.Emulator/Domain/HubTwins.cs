using System.Text.Json.Nodes;
using TwinPS.Emulator.Storage;
using TwinPS.Protocol;
using static TwinPS.Emulator.Domain.HubErrors;

namespace TwinPS.Emulator.Domain;

/// <summary>
/// Twin writes: the backend's PATCH and PUT of tags and desired properties, and a device's reported-properties patch.
/// Each is committed to the store before it becomes visible in the <see cref="DeviceTable"/> or is acknowledged; a
/// desired change is then announced on <see cref="HubEvents"/>.
/// </summary>
internal sealed class HubTwins(DeviceTable table, HubStore store, HubEvents events, WriteCounts counts)
{
    /// <summary>The device's own view of its twin (<c>{"desired":{…},"reported":{…}}</c>), or null when unknown.</summary>
    public JsonObject? GetDeviceTwinView(string deviceId, string? moduleId)
    {
        TwinSnapshot? snapshot = table.Find(deviceId, moduleId);
        return snapshot is null ? null : TwinOps.ToDeviceTwinJson(snapshot.Twin);
    }

    /// <summary>
    /// Backend PATCH (merge) or PUT (replace) of tags and desired properties. If-Match optional (412 when stale).
    /// Raises <see cref="HubEvents.DesiredPropertiesChanged"/> after the commit when desired properties changed.
    /// </summary>
    public async Task<TwinSnapshot> UpdateTwinAsync(string deviceId, string? moduleId, string? ifMatch, JsonObject body, bool replace)
    {
        ArgumentNullException.ThrowIfNull(body);
        TwinEntry entry = table.TwinEntry(deviceId, moduleId);
        TwinSnapshot snapshot;
        TwinChange change;
        await entry.Gate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (entry.Deleted) throw TwinNotFound(deviceId, moduleId);
            TwinSnapshot current = entry.Current;
            if (!ETags.Matches(ifMatch, current.TwinETag)) throw PreconditionFailed();
            change = replace ? TwinOps.Replace(current.Twin, body) : TwinOps.Patch(current.Twin, body);
            snapshot = current.With(twin: change.State);
            await store.CommitAsync(TwinOperation(snapshot)).ConfigureAwait(false);
            counts.Count(WriteKind.Twin);
            entry.Current = snapshot;
        }
        finally
        {
            entry.Gate.Release();
        }

        if (change.DesiredNotification is not null)
            events.RaiseDesiredPropertiesChanged(new DesiredPropertiesChangedEventArgs(deviceId, moduleId, change.DesiredNotification, TwinOps.DesiredVersion(snapshot.Twin)));
        return snapshot;
    }

    /// <summary>
    /// A device's reported-properties patch (MQTT). Validates fully; on error throws (TwinValidationException /
    /// IoTHubProtocolException) and applies nothing. Returns the new reported <c>$version</c>.
    /// </summary>
    public async Task<long> PatchReportedAsync(string deviceId, string? moduleId, JsonObject patch)
    {
        ArgumentNullException.ThrowIfNull(patch);
        TwinEntry entry = table.TwinEntry(deviceId, moduleId);
        await entry.Gate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (entry.Deleted) throw TwinNotFound(deviceId, moduleId);
            TwinSnapshot current = entry.Current;
            TwinState next = TwinOps.PatchReported(current.Twin, patch);
            TwinSnapshot snapshot = current.With(twin: next);
            await store.CommitAsync(TwinOperation(snapshot)).ConfigureAwait(false);
            counts.Count(WriteKind.Reported);
            entry.Current = snapshot;
            return TwinOps.ReportedVersion(next);
        }
        finally
        {
            entry.Gate.Release();
        }
    }

    private static IoTHubProtocolException TwinNotFound(string deviceId, string? moduleId) =>
        moduleId is null ? DeviceNotFound(deviceId) : ModuleTwinNotFound(deviceId, moduleId);

    private static StoreOperation TwinOperation(TwinSnapshot snapshot) => snapshot.Identity.ModuleId is null
        ? new StoreOperation.PutDeviceTwin(snapshot.Identity.DeviceId, TwinOps.ToStorage(snapshot.Twin))
        : new StoreOperation.PutModuleTwin(snapshot.Identity.DeviceId, snapshot.Identity.ModuleId, TwinOps.ToStorage(snapshot.Twin));
}
