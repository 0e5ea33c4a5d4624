using System.Text.Json;
using System.Text.Json.Nodes;
using TwinPS.Emulator.Storage;
using TwinPS.Protocol;
using static TwinPS.Emulator.Domain.HubErrors;

namespace TwinPS.Emulator.Domain;

/// <summary>BulkRegistryOperationResult.</summary>
internal sealed class BulkResult
{
    public List<(string DeviceId, string? ModuleId, IoTHubErrorCode Code, string Status, string Operation)> Errors { get; } = [];

    public bool IsSuccessful => Errors.Count == 0;

    public void Write(Utf8JsonWriter w)
    {
        ArgumentNullException.ThrowIfNull(w);
        w.WriteStartObject();
        w.WriteBoolean("isSuccessful", IsSuccessful);
        w.WriteStartArray("errors");
        foreach (var e in Errors)
        {
            w.WriteStartObject();
            w.WriteString("deviceId", e.DeviceId);
            if (e.ModuleId is not null) w.WriteString("moduleId", e.ModuleId);
            w.WriteString("errorCode", IoTHubErrors.NameOf(e.Code));
            w.WriteString("errorStatus", e.Status);
            w.WriteString("operation", e.Operation);
            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteStartArray("warnings");
        w.WriteEndArray();
        w.WriteEndObject();
    }
}

/// <summary>Bulk registry operations (POST /devices).</summary>
internal sealed partial class HubRegistry
{
    private static readonly string[] ImportModes =
    [
        "create", "update", "updateIfMatchETag", "createOrUpdate", "createOrUpdateIfMatchETag", "delete", "deleteIfMatchETag", "updateTwin", "updateTwinIfMatchETag",
    ];

    /// <summary>
    /// Runs up to 100 ExportImportDevice entries. The whole request is refused (nothing applied) for more than 100
    /// entries (413 TooManyDevices), a device named twice (400 DeviceDefinedMultipleTimes) or an entry without a valid
    /// id or import mode. Otherwise each entry succeeds or fails on its own (not atomic, like the hub): the successful
    /// ones are committed together in one transaction and the failures are listed in the result.
    /// </summary>
    public async Task<BulkResult> BulkAsync(JsonArray entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        if (entries.Count > IoTHubLimits.MaxBulkEntries)
            throw new IoTHubProtocolException(IoTHubErrorCode.TooManyDevices, $"Too many devices: {entries.Count} in one bulk request, at most {IoTHubLimits.MaxBulkEntries} are allowed.");
        if (entries.Count == 0)
            throw new IoTHubProtocolException(IoTHubErrorCode.ArgumentInvalid, "The bulk request contains no devices.");

        var parsed = new List<(JsonObject Body, string Id, string? ModuleId, string Mode)>();
        var seen = new HashSet<(string, string?)>();
        for (int i = 0; i < entries.Count; i++)
        {
            if (entries[i] is not JsonObject body)
                throw new IoTHubProtocolException(IoTHubErrorCode.ArgumentInvalid, $"Bulk entry [{i}] is not a JSON object.");
            string id = Text(body, "id") ?? throw new IoTHubProtocolException(IoTHubErrorCode.ArgumentInvalid, $"Bulk entry [{i}] has no 'id'.");
            IdentityRules.ValidateDeviceId(id);
            string? moduleId = Text(body, "moduleId");
            if (moduleId is not null) IdentityRules.ValidateModuleId(moduleId, allowSystemModules: false);
            string modeText = Text(body, "importMode") ?? "createOrUpdate";
            string mode = ImportModes.FirstOrDefault(m => string.Equals(m, modeText, StringComparison.OrdinalIgnoreCase))
                ?? throw new IoTHubProtocolException(IoTHubErrorCode.ArgumentInvalid, $"Bulk entry [{i}] has an unknown importMode '{modeText}'.");
            if (!seen.Add((id, moduleId)))
                throw new IoTHubProtocolException(IoTHubErrorCode.DeviceDefinedMultipleTimes, $"Device {id}{(moduleId is null ? "" : "/" + moduleId)} is defined more than once in the bulk request.");
            parsed.Add((body, id, moduleId, mode));
        }

        var result = new BulkResult();
        await _structure.WaitAsync().ConfigureAwait(false);
        var held = new List<TwinEntry>();
        try
        {
            // Staged state: what this request has done so far (null = deleted in this request).
            var stagedDevices = new Dictionary<string, TwinSnapshot?>(StringComparer.Ordinal);
            var stagedModules = new Dictionary<(string, string), TwinSnapshot?>();
            var operations = new List<StoreOperation>();
            var desiredEvents = new List<DesiredPropertiesChangedEventArgs>();
            var identityEvents = new List<IdentityChangedEventArgs>();

            foreach (var (body, id, moduleId, mode) in parsed)
            {
                try
                {
                    TwinSnapshot? current = await CurrentForBulkAsync(id, moduleId, stagedDevices, stagedModules, held).ConfigureAwait(false);
                    if (moduleId is not null && CurrentDeviceForBulk(id, stagedDevices) is null)
                        throw DeviceNotFound(id);
                    TwinSnapshot? next = ApplyBulkEntry(body, id, moduleId, mode, current, out JsonObject? notification);
                    if (next is null)
                    {
                        operations.Add(moduleId is null ? new StoreOperation.DeleteDevice(id) : new StoreOperation.DeleteModule(id, moduleId));
                        identityEvents.Add(new IdentityChangedEventArgs(id, moduleId, deleted: true));
                        if (moduleId is null)
                        {
                            stagedDevices[id] = null;
                            foreach (var key in stagedModules.Keys.Where(k => k.Item1 == id).ToList()) stagedModules[key] = null;
                        }
                        else
                        {
                            stagedModules[(id, moduleId)] = null;
                        }
                    }
                    else
                    {
                        operations.Add(PutOperation(next));
                        if (moduleId is null) stagedDevices[id] = next;
                        else stagedModules[(id, moduleId)] = next;
                        if (current is not null && !ReferenceEquals(current.Identity, next.Identity))
                            identityEvents.Add(new IdentityChangedEventArgs(id, moduleId, deleted: false));
                        if (notification is not null)
                            desiredEvents.Add(new DesiredPropertiesChangedEventArgs(id, moduleId, notification, TwinOps.DesiredVersion(next.Twin)));
                    }
                }
                catch (IoTHubProtocolException ex)
                {
                    result.Errors.Add((id, moduleId, ex.Code, ex.Message, mode));
                }
            }

            await store.CommitAsync(operations).ConfigureAwait(false);
            counts.Count(WriteKind.Registry, operations.Count);
            Publish(stagedDevices, stagedModules);
            foreach (var e in identityEvents) events.RaiseIdentityChanged(e);
            foreach (var e in desiredEvents) events.RaiseDesiredPropertiesChanged(e);
            return result;
        }
        finally
        {
            foreach (TwinEntry entry in held) entry.Gate.Release();
            _structure.Release();
        }
    }

    private void Publish(Dictionary<string, TwinSnapshot?> stagedDevices, Dictionary<(string, string), TwinSnapshot?> stagedModules)
    {
        foreach (var (id, snapshot) in stagedDevices)
        {
            if (snapshot is null)
            {
                if (table.RemoveDevice(id, out DeviceEntry? removed))
                {
                    removed.Deleted = true;
                    foreach (TwinEntry m in removed.Modules.Values) m.Deleted = true;
                }
            }
            else if (table.TryGetDevice(id, out DeviceEntry? existing) && !existing.Deleted)
            {
                existing.Current = snapshot;
            }
            else
            {
                table.SetDevice(id, new DeviceEntry(id, snapshot));
            }
        }

        foreach (var ((id, moduleId), snapshot) in stagedModules)
        {
            if (!table.TryGetDevice(id, out DeviceEntry? device)) continue;
            if (snapshot is null)
            {
                if (device.Modules.TryRemove(moduleId, out TwinEntry? removed)) removed.Deleted = true;
            }
            else if (device.Modules.TryGetValue(moduleId, out TwinEntry? existing) && !existing.Deleted)
            {
                existing.Current = snapshot;
            }
            else
            {
                device.Modules[moduleId] = new TwinEntry(id, moduleId, snapshot);
            }
        }

        table.InvalidateIndexes();
    }

    private TwinSnapshot? CurrentDeviceForBulk(string id, Dictionary<string, TwinSnapshot?> stagedDevices) =>
        stagedDevices.TryGetValue(id, out TwinSnapshot? staged) ? staged : table.FindDevice(id);

    private async Task<TwinSnapshot?> CurrentForBulkAsync(
        string id, string? moduleId, Dictionary<string, TwinSnapshot?> stagedDevices, Dictionary<(string, string), TwinSnapshot?> stagedModules, List<TwinEntry> held)
    {
        if (moduleId is null && stagedDevices.TryGetValue(id, out TwinSnapshot? stagedDevice)) return stagedDevice;
        if (moduleId is not null && stagedModules.TryGetValue((id, moduleId), out TwinSnapshot? stagedModule)) return stagedModule;
        if (moduleId is not null && stagedDevices.TryGetValue(id, out TwinSnapshot? parent) && parent is null) return null;

        TwinEntry? entry = table.TryEntry(id, moduleId);
        if (entry is null || entry.Deleted) return null;

        // Hold the entry's gate until the batch is published, so concurrent twin writers cannot interleave.
        await entry.Gate.WaitAsync().ConfigureAwait(false);
        held.Add(entry);
        if (moduleId is null)
        {
            foreach (TwinEntry module in ((DeviceEntry)entry).Modules.Values)
            {
                if (held.Contains(module)) continue;
                await module.Gate.WaitAsync().ConfigureAwait(false);
                held.Add(module);
            }
        }

        return entry.Deleted ? null : entry.Current;
    }

    private TwinSnapshot? ApplyBulkEntry(JsonObject body, string id, string? moduleId, string mode, TwinSnapshot? current, out JsonObject? notification)
    {
        notification = null;
        string? eTag = ETags.Unquote(Text(body, "eTag"));
        string? twinETag = ETags.Unquote(Text(body, "twinETag"));
        bool exists = current is not null;
        IoTHubProtocolException NotFound() => moduleId is null ? DeviceNotFound(id) : ModuleNotFound(id, moduleId);

        switch (mode)
        {
            case "delete":
            case "deleteIfMatchETag":
                if (!exists) throw NotFound();
                if (mode == "deleteIfMatchETag" && !ETags.Matches(eTag, current!.Identity.ETag)) throw PreconditionFailed();
                return null;

            case "updateTwin":
            case "updateTwinIfMatchETag":
                if (!exists) throw NotFound();
                if (mode == "updateTwinIfMatchETag" && !ETags.Matches(twinETag, current!.TwinETag)) throw PreconditionFailed();
                TwinChange change = TwinOps.Patch(current!.Twin, TwinBody(body));
                notification = change.DesiredNotification;
                return current.With(twin: change.State);

            default:
                if (mode == "create" && exists) throw moduleId is null ? DeviceAlreadyExists(id) : ModuleAlreadyExists(id, moduleId);
                if (mode is "update" or "updateIfMatchETag" && !exists) throw NotFound();
                if (mode is "updateIfMatchETag" or "createOrUpdateIfMatchETag" && exists && !ETags.Matches(eTag, current!.Identity.ETag))
                    throw PreconditionFailed();
                IdentityRequest request = IdentityJson.ReadRequest(body, isModule: moduleId is not null);
                bool hasTwin = body["tags"] is not null || body["properties"] is not null;
                if (!exists)
                {
                    TwinState twin = TwinOps.New(id, moduleId);
                    if (hasTwin) twin = TwinOps.Replace(twin, TwinBody(body)).State;
                    return NewSnapshot(id, moduleId, request, twin);
                }

                TwinSnapshot updated = current!.With(identity: ReplaceIdentity(current.Identity, request));
                if (hasTwin)
                {
                    TwinChange replaced = TwinOps.Replace(updated.Twin, TwinBody(body));
                    notification = replaced.DesiredNotification;
                    updated = updated.With(twin: replaced.State);
                }

                return updated;
        }
    }

    private static JsonObject TwinBody(JsonObject entry)
    {
        var twin = new JsonObject();
        if (entry["tags"] is JsonNode tags) twin["tags"] = tags.DeepClone();
        if (entry["properties"] is JsonObject properties && properties["desired"] is JsonNode desired)
            twin["properties"] = new JsonObject { ["desired"] = desired.DeepClone() };
        return twin;
    }

    private static string? Text(JsonObject body, string name)
    {
        JsonNode? node = body[name];
        if (node is null) return null;
        if (node is JsonValue v && v.TryGetValue(out string? s)) return s;
        throw new IoTHubProtocolException(IoTHubErrorCode.ArgumentInvalid, $"'{name}' must be a string.");
    }
}
