using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json.Nodes;
using TwinPS.Emulator.Storage;
using TwinPS.Protocol;

namespace TwinPS.Emulator.Domain;

/// <summary>Device counts for the statistics endpoints.</summary>
internal readonly record struct RegistryCounts(long Total, long Enabled, long Disabled, long Connected, long Modules);

/// <summary>A desired-properties change committed by a backend PATCH or PUT (for the device endpoint).</summary>
internal sealed class DesiredPropertiesChangedEventArgs(string deviceId, string? moduleId, JsonObject patch, long desiredVersion) : EventArgs
{
    public string DeviceId { get; } = deviceId;

    public string? ModuleId { get; } = moduleId;

    /// <summary>The notification body (changed keys plus <c>$version</c>). Shared between handlers: do not modify.</summary>
    public JsonObject Patch { get; } = patch;

    public long DesiredVersion { get; } = desiredVersion;
}

/// <summary>An identity was updated (keys, status) or deleted (for the device endpoint to drop sessions).</summary>
internal sealed class IdentityChangedEventArgs(string deviceId, string? moduleId, bool deleted) : EventArgs
{
    public string DeviceId { get; } = deviceId;

    public string? ModuleId { get; } = moduleId;

    public bool Deleted { get; } = deleted;
}

/// <summary>
/// The hub's domain service: the identity registry and twins, served from memory and committed to the store before any
/// change becomes visible or is acknowledged. Every failure is an <see cref="IoTHubProtocolException"/> with the hub's
/// code; a failed operation changes nothing.
/// </summary>
internal sealed partial class HubRegistry : IDisposable
{
    private readonly HubStore _store;
    private readonly ConcurrentDictionary<string, DeviceEntry> _devices = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _structure = new(1, 1);
    private long _identityETagCounter;
    private volatile string[]? _sortedDeviceIds;
    private volatile (string DeviceId, string ModuleId)[]? _sortedModuleKeys;

    private HubRegistry(HubStore store)
    {
        _store = store;
    }

    /// <summary>Raised after a backend PATCH/PUT that touched desired properties is committed.</summary>
    public event EventHandler<DesiredPropertiesChangedEventArgs>? DesiredPropertiesChanged;

    /// <summary>Raised after an identity update or deletion is committed.</summary>
    public event EventHandler<IdentityChangedEventArgs>? IdentityChanged;

    public int DeviceCount => _devices.Count;

    public void Dispose() => _structure.Dispose();

    public long StoreTransactionCount => _store.TransactionCount;

    /// <summary>Loads every stored device, module and twin into memory.</summary>
    public static HubRegistry Load(HubStore store)
    {
        ArgumentNullException.ThrowIfNull(store);
        var registry = new HubRegistry(store);
        long maxCounter = 0;
        foreach (StoredDevice row in store.LoadDevices())
        {
            Identity identity = IdentityJson.FromStorageJson(row.Identity);
            var entry = new DeviceEntry(row.DeviceId, new TwinSnapshot(identity, TwinOps.FromStorage(row.Twin), ConnectionInfo.Initial));
            registry._devices[row.DeviceId] = entry;
            maxCounter = Math.Max(maxCounter, identity.ETagCounter);
        }

        foreach (StoredModule row in store.LoadModules())
        {
            if (!registry._devices.TryGetValue(row.DeviceId, out DeviceEntry? device)) continue;
            Identity identity = IdentityJson.FromStorageJson(row.Identity);
            device.Modules[row.ModuleId] = new TwinEntry(row.DeviceId, row.ModuleId, new TwinSnapshot(identity, TwinOps.FromStorage(row.Twin), ConnectionInfo.Initial));
            maxCounter = Math.Max(maxCounter, identity.ETagCounter);
        }

        registry._identityETagCounter = maxCounter;
        return registry;
    }

    // ------------------------------------------------------------------ reads

    /// <summary>The committed view of a device, or null.</summary>
    public TwinSnapshot? FindDevice(string deviceId) =>
        _devices.TryGetValue(deviceId, out DeviceEntry? entry) && !entry.Deleted ? entry.Current : null;

    /// <summary>The committed view of a module, or null.</summary>
    public TwinSnapshot? FindModule(string deviceId, string moduleId) =>
        _devices.TryGetValue(deviceId, out DeviceEntry? device) && !device.Deleted
        && device.Modules.TryGetValue(moduleId, out TwinEntry? module) && !module.Deleted ? module.Current : null;

    /// <summary>The identity (keys, thumbprints, status) of a device or module, or null (for device authentication).</summary>
    public Identity? FindIdentity(string deviceId, string? moduleId) =>
        (moduleId is null ? FindDevice(deviceId) : FindModule(deviceId, moduleId))?.Identity;

    /// <summary>A device's committed view or 404 DeviceNotFound.</summary>
    public TwinSnapshot GetDevice(string deviceId) => FindDevice(deviceId) ?? throw DeviceNotFound(deviceId);

    /// <summary>A module's committed view or 404 (DeviceNotFound for twins, ModuleNotFound for identities).</summary>
    public TwinSnapshot GetModule(string deviceId, string moduleId, bool forTwin)
    {
        if (FindDevice(deviceId) is null) throw DeviceNotFound(deviceId);
        return FindModule(deviceId, moduleId) ?? throw (forTwin ? ModuleTwinNotFound(deviceId, moduleId) : ModuleNotFound(deviceId, moduleId));
    }

    /// <summary>The device's own view of its twin (<c>{"desired":{…},"reported":{…}}</c>), or null when unknown.</summary>
    public JsonObject? GetDeviceTwinView(string deviceId, string? moduleId)
    {
        TwinSnapshot? snapshot = moduleId is null ? FindDevice(deviceId) : FindModule(deviceId, moduleId);
        return snapshot is null ? null : TwinOps.ToDeviceTwinJson(snapshot.Twin);
    }

    /// <summary>The modules of a device (committed views), or 404.</summary>
    public IReadOnlyList<TwinSnapshot> GetModules(string deviceId)
    {
        if (!_devices.TryGetValue(deviceId, out DeviceEntry? device) || device.Deleted) throw DeviceNotFound(deviceId);
        return device.Modules.Values.Where(m => !m.Deleted).OrderBy(m => m.ModuleId, StringComparer.Ordinal).Select(m => m.Current).ToList();
    }

    public RegistryCounts GetCounts()
    {
        long total = 0, enabled = 0, connected = 0, modules = 0;
        foreach (DeviceEntry entry in _devices.Values)
        {
            if (entry.Deleted) continue;
            TwinSnapshot s = entry.Current;
            total++;
            if (s.Identity.IsEnabled) enabled++;
            if (s.Connection.Connected) connected++;
            modules += entry.Modules.Count;
        }

        return new RegistryCounts(total, enabled, total - enabled, connected, modules);
    }

    /// <summary>Device ids in ordinal order (a snapshot; rebuilt lazily after creates and deletes).</summary>
    public string[] SortedDeviceIds()
    {
        string[]? ids = _sortedDeviceIds;
        if (ids is not null) return ids;
        ids = _devices.Keys.ToArray();
        Array.Sort(ids, StringComparer.Ordinal);
        _sortedDeviceIds = ids;
        return ids;
    }

    /// <summary>(deviceId, moduleId) keys in ordinal order.</summary>
    public (string DeviceId, string ModuleId)[] SortedModuleKeys()
    {
        var keys = _sortedModuleKeys;
        if (keys is not null) return keys;
        keys = _devices.Values.SelectMany(d => d.Modules.Keys.Select(m => (d.DeviceId, m))).ToArray();
        Array.Sort(keys, (a, b) =>
        {
            int c = string.CompareOrdinal(a.DeviceId, b.DeviceId);
            return c != 0 ? c : string.CompareOrdinal(a.Item2, b.Item2);
        });
        _sortedModuleKeys = keys;
        return keys;
    }

    // ------------------------------------------------------------------ identities

    /// <summary>PUT /devices/{id} without If-Match: create only (409 DeviceAlreadyExists).</summary>
    public async Task<TwinSnapshot> CreateDeviceAsync(string deviceId, IdentityRequest request)
    {
        IdentityRules.ValidateDeviceId(deviceId);
        await _structure.WaitAsync().ConfigureAwait(false);
        try
        {
            if (FindDevice(deviceId) is not null) throw DeviceAlreadyExists(deviceId);
            TwinSnapshot snapshot = NewSnapshot(deviceId, null, request, TwinOps.New(deviceId, null));
            await _store.CommitAsync(PutOperation(snapshot)).ConfigureAwait(false);
            CountRegistryWrites(1);
            _devices[deviceId] = new DeviceEntry(deviceId, snapshot);
            InvalidateIndexes();
            return snapshot;
        }
        finally
        {
            _structure.Release();
        }
    }

    /// <summary>PUT /devices/{id} with If-Match: full replace of the identity (404 if missing, 412 if stale).</summary>
    public async Task<TwinSnapshot> UpdateDeviceAsync(string deviceId, string ifMatch, IdentityRequest request)
    {
        if (!_devices.TryGetValue(deviceId, out DeviceEntry? entry)) throw DeviceNotFound(deviceId);
        await entry.Gate.WaitAsync().ConfigureAwait(false);
        TwinSnapshot snapshot;
        try
        {
            if (entry.Deleted) throw DeviceNotFound(deviceId);
            TwinSnapshot current = entry.Current;
            if (!ETags.Matches(ifMatch, current.Identity.ETag)) throw PreconditionFailed();
            snapshot = current.With(identity: ReplaceIdentity(current.Identity, request));
            await _store.CommitAsync(PutOperation(snapshot)).ConfigureAwait(false);
            CountRegistryWrites(1);
            entry.Current = snapshot;
        }
        finally
        {
            entry.Gate.Release();
        }

        IdentityChanged?.Invoke(this, new IdentityChangedEventArgs(deviceId, null, deleted: false));
        return snapshot;
    }

    /// <summary>DELETE /devices/{id}: If-Match required (412 "Etag missing"); deletes the twin and all modules.</summary>
    public async Task DeleteDeviceAsync(string deviceId, string? ifMatch)
    {
        if (string.IsNullOrWhiteSpace(ifMatch)) throw new IoTHubProtocolException(IoTHubErrorCode.PreconditionFailed, "Etag missing");
        await _structure.WaitAsync().ConfigureAwait(false);
        try
        {
            if (!_devices.TryGetValue(deviceId, out DeviceEntry? entry) || entry.Deleted) throw DeviceNotFound(deviceId);
            List<TwinEntry> locked = [entry, .. entry.Modules.Values];
            foreach (TwinEntry e in locked) await e.Gate.WaitAsync().ConfigureAwait(false);
            try
            {
                if (!ETags.Matches(ifMatch, entry.Current.Identity.ETag)) throw PreconditionFailed();
                await _store.CommitAsync(new StoreOperation.DeleteDevice(deviceId)).ConfigureAwait(false);
                CountRegistryWrites(1);
                foreach (TwinEntry e in locked) e.Deleted = true;
                _devices.TryRemove(deviceId, out _);
                InvalidateIndexes();
            }
            finally
            {
                foreach (TwinEntry e in locked) e.Gate.Release();
            }
        }
        finally
        {
            _structure.Release();
        }

        IdentityChanged?.Invoke(this, new IdentityChangedEventArgs(deviceId, null, deleted: true));
    }

    /// <summary>PUT /devices/{id}/modules/{mid} without If-Match: create only (409 ModuleAlreadyExistsOnDevice).</summary>
    public async Task<TwinSnapshot> CreateModuleAsync(string deviceId, string moduleId, IdentityRequest request)
    {
        IdentityRules.ValidateModuleId(moduleId, allowSystemModules: false);
        await _structure.WaitAsync().ConfigureAwait(false);
        try
        {
            if (!_devices.TryGetValue(deviceId, out DeviceEntry? device) || device.Deleted) throw DeviceNotFound(deviceId);
            if (device.Modules.TryGetValue(moduleId, out TwinEntry? existing) && !existing.Deleted) throw ModuleAlreadyExists(deviceId, moduleId);
            TwinSnapshot snapshot = NewSnapshot(deviceId, moduleId, request, TwinOps.New(deviceId, moduleId));
            await _store.CommitAsync(PutOperation(snapshot)).ConfigureAwait(false);
            CountRegistryWrites(1);
            device.Modules[moduleId] = new TwinEntry(deviceId, moduleId, snapshot);
            InvalidateIndexes();
            return snapshot;
        }
        finally
        {
            _structure.Release();
        }
    }

    /// <summary>PUT /devices/{id}/modules/{mid} with If-Match: replace the module identity.</summary>
    public async Task<TwinSnapshot> UpdateModuleAsync(string deviceId, string moduleId, string ifMatch, IdentityRequest request)
    {
        TwinEntry entry = ModuleEntry(deviceId, moduleId);
        await entry.Gate.WaitAsync().ConfigureAwait(false);
        TwinSnapshot snapshot;
        try
        {
            if (entry.Deleted) throw ModuleNotFound(deviceId, moduleId);
            TwinSnapshot current = entry.Current;
            if (!ETags.Matches(ifMatch, current.Identity.ETag)) throw PreconditionFailed();
            snapshot = current.With(identity: ReplaceIdentity(current.Identity, request));
            await _store.CommitAsync(PutOperation(snapshot)).ConfigureAwait(false);
            CountRegistryWrites(1);
            entry.Current = snapshot;
        }
        finally
        {
            entry.Gate.Release();
        }

        IdentityChanged?.Invoke(this, new IdentityChangedEventArgs(deviceId, moduleId, deleted: false));
        return snapshot;
    }

    /// <summary>DELETE /devices/{id}/modules/{mid}: If-Match required.</summary>
    public async Task DeleteModuleAsync(string deviceId, string moduleId, string? ifMatch)
    {
        if (string.IsNullOrWhiteSpace(ifMatch)) throw new IoTHubProtocolException(IoTHubErrorCode.PreconditionFailed, "Etag missing");
        await _structure.WaitAsync().ConfigureAwait(false);
        try
        {
            TwinEntry entry = ModuleEntry(deviceId, moduleId);
            await entry.Gate.WaitAsync().ConfigureAwait(false);
            try
            {
                if (entry.Deleted) throw ModuleNotFound(deviceId, moduleId);
                if (!ETags.Matches(ifMatch, entry.Current.Identity.ETag)) throw PreconditionFailed();
                await _store.CommitAsync(new StoreOperation.DeleteModule(deviceId, moduleId)).ConfigureAwait(false);
                CountRegistryWrites(1);
                entry.Deleted = true;
                if (_devices.TryGetValue(deviceId, out DeviceEntry? device)) device.Modules.TryRemove(moduleId, out _);
                InvalidateIndexes();
            }
            finally
            {
                entry.Gate.Release();
            }
        }
        finally
        {
            _structure.Release();
        }

        IdentityChanged?.Invoke(this, new IdentityChangedEventArgs(deviceId, moduleId, deleted: true));
    }

    // ------------------------------------------------------------------ twins

    /// <summary>
    /// Backend PATCH (merge) or PUT (replace) of tags and desired properties. If-Match optional (412 when stale).
    /// Raises <see cref="DesiredPropertiesChanged"/> after the commit when desired properties changed.
    /// </summary>
    public async Task<TwinSnapshot> UpdateTwinAsync(string deviceId, string? moduleId, string? ifMatch, JsonObject body, bool replace)
    {
        ArgumentNullException.ThrowIfNull(body);
        TwinEntry entry = moduleId is null ? DeviceEntryOrThrow(deviceId) : ModuleTwinEntry(deviceId, moduleId);
        TwinSnapshot snapshot;
        TwinChange change;
        await entry.Gate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (entry.Deleted) throw moduleId is null ? DeviceNotFound(deviceId) : ModuleTwinNotFound(deviceId, moduleId);
            TwinSnapshot current = entry.Current;
            if (!ETags.Matches(ifMatch, current.TwinETag)) throw PreconditionFailed();
            change = replace ? TwinOps.Replace(current.Twin, body) : TwinOps.Patch(current.Twin, body);
            snapshot = current.With(twin: change.State);
            await _store.CommitAsync(TwinOperation(snapshot)).ConfigureAwait(false);
            CountTwinWrite();
            entry.Current = snapshot;
        }
        finally
        {
            entry.Gate.Release();
        }

        if (change.DesiredNotification is not null)
            DesiredPropertiesChanged?.Invoke(this, new DesiredPropertiesChangedEventArgs(deviceId, moduleId, change.DesiredNotification, TwinOps.DesiredVersion(snapshot.Twin)));
        return snapshot;
    }

    /// <summary>
    /// A device's reported-properties patch (MQTT). Validates fully; on error throws (TwinValidationException /
    /// IoTHubProtocolException) and applies nothing. Returns the new reported <c>$version</c>.
    /// </summary>
    public async Task<long> PatchReportedAsync(string deviceId, string? moduleId, JsonObject patch)
    {
        ArgumentNullException.ThrowIfNull(patch);
        TwinEntry entry = moduleId is null ? DeviceEntryOrThrow(deviceId) : ModuleTwinEntry(deviceId, moduleId);
        await entry.Gate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (entry.Deleted) throw moduleId is null ? DeviceNotFound(deviceId) : ModuleTwinNotFound(deviceId, moduleId);
            TwinSnapshot current = entry.Current;
            TwinState next = TwinOps.PatchReported(current.Twin, patch);
            TwinSnapshot snapshot = current.With(twin: next);
            await _store.CommitAsync(TwinOperation(snapshot)).ConfigureAwait(false);
            CountReportedWrite();
            entry.Current = snapshot;
            return TwinOps.ReportedVersion(next);
        }
        finally
        {
            entry.Gate.Release();
        }
    }

    /// <summary>Marks a device or module connected or disconnected (runtime only, not persisted); also records activity.</summary>
    public async Task SetConnectionStateAsync(string deviceId, string? moduleId, bool connected)
    {
        TwinEntry? entry = TryEntry(deviceId, moduleId);
        if (entry is null) return;
        await entry.Gate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (entry.Deleted) return;
            string now = Now();
            TwinSnapshot current = entry.Current;
            entry.Current = current.With(connection: new ConnectionInfo(connected, now, now));
        }
        finally
        {
            entry.Gate.Release();
        }
    }

    /// <summary>Records device activity (<c>lastActivityTime</c>; runtime only).</summary>
    public async Task RecordActivityAsync(string deviceId, string? moduleId)
    {
        TwinEntry? entry = TryEntry(deviceId, moduleId);
        if (entry is null) return;
        await entry.Gate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (entry.Deleted) return;
            TwinSnapshot current = entry.Current;
            entry.Current = current.With(connection: current.Connection with { LastActivityTime = Now() });
        }
        finally
        {
            entry.Gate.Release();
        }
    }

    // ------------------------------------------------------------------ helpers

    internal static string Now() => TwinJson.FormatTimestamp(DateTimeOffset.UtcNow);

    private TwinEntry? TryEntry(string deviceId, string? moduleId)
    {
        if (!_devices.TryGetValue(deviceId, out DeviceEntry? device)) return null;
        if (moduleId is null) return device;
        return device.Modules.TryGetValue(moduleId, out TwinEntry? module) ? module : null;
    }

    private DeviceEntry DeviceEntryOrThrow(string deviceId) =>
        _devices.TryGetValue(deviceId, out DeviceEntry? entry) && !entry.Deleted ? entry : throw DeviceNotFound(deviceId);

    private TwinEntry ModuleEntry(string deviceId, string moduleId)
    {
        DeviceEntry device = DeviceEntryOrThrow(deviceId);
        return device.Modules.TryGetValue(moduleId, out TwinEntry? module) && !module.Deleted ? module : throw ModuleNotFound(deviceId, moduleId);
    }

    private TwinEntry ModuleTwinEntry(string deviceId, string moduleId)
    {
        DeviceEntry device = DeviceEntryOrThrow(deviceId);
        return device.Modules.TryGetValue(moduleId, out TwinEntry? module) && !module.Deleted ? module : throw ModuleTwinNotFound(deviceId, moduleId);
    }

    private void InvalidateIndexes()
    {
        _sortedDeviceIds = null;
        _sortedModuleKeys = null;
    }

    private long NextIdentityETag() => Interlocked.Increment(ref _identityETagCounter);

    private TwinSnapshot NewSnapshot(string deviceId, string? moduleId, IdentityRequest request, TwinState twin)
    {
        string now = Now();
        var identity = new Identity
        {
            DeviceId = deviceId,
            ModuleId = moduleId,
            ManagedBy = request.ManagedBy,
            GenerationId = NewGenerationId(),
            ETagCounter = NextIdentityETag(),
            Status = request.Status,
            StatusReason = request.StatusReason,
            StatusUpdatedTime = now,
            Authentication = request.Authentication,
            IotEdge = request.IotEdge,
            DeviceScope = request.IotEdge && request.DeviceScope is null
                ? string.Create(CultureInfo.InvariantCulture, $"ms-azure-iot-edge://{deviceId}-{DateTime.UtcNow.Ticks}")
                : request.DeviceScope,
            ParentScopes = request.ParentScopes,
        };
        return new TwinSnapshot(identity, twin, ConnectionInfo.Initial);
    }

    private Identity ReplaceIdentity(Identity current, IdentityRequest request)
    {
        bool statusChanged = !string.Equals(current.Status, request.Status, StringComparison.Ordinal);
        return current with
        {
            ETagCounter = NextIdentityETag(),
            Status = request.Status,
            StatusReason = request.StatusReason,
            StatusUpdatedTime = statusChanged ? Now() : current.StatusUpdatedTime,
            Authentication = request.Authentication,
            IotEdge = request.IotEdge,
            DeviceScope = request.DeviceScope ?? (request.IotEdge ? current.DeviceScope : null),
            ParentScopes = request.ParentScopes,
            ManagedBy = current.IsModule ? request.ManagedBy ?? current.ManagedBy : null,
        };
    }

    private static string NewGenerationId() =>
        (DateTime.UtcNow.Ticks / 10 % 10_000_000_000_000_000L).ToString(CultureInfo.InvariantCulture) + Random.Shared.Next(10, 99).ToString(CultureInfo.InvariantCulture);

    private static StoreOperation PutOperation(TwinSnapshot snapshot) => snapshot.Identity.ModuleId is null
        ? new StoreOperation.PutDevice(snapshot.Identity.DeviceId, snapshot.IdentityStorageJson, TwinOps.ToStorage(snapshot.Twin))
        : new StoreOperation.PutModule(snapshot.Identity.DeviceId, snapshot.Identity.ModuleId, snapshot.IdentityStorageJson, TwinOps.ToStorage(snapshot.Twin));

    private static StoreOperation TwinOperation(TwinSnapshot snapshot) => snapshot.Identity.ModuleId is null
        ? new StoreOperation.PutDeviceTwin(snapshot.Identity.DeviceId, TwinOps.ToStorage(snapshot.Twin))
        : new StoreOperation.PutModuleTwin(snapshot.Identity.DeviceId, snapshot.Identity.ModuleId, TwinOps.ToStorage(snapshot.Twin));

    internal static IoTHubProtocolException DeviceNotFound(string deviceId) =>
        new(IoTHubErrorCode.DeviceNotFound, $"Device {deviceId} not registered");

    internal static IoTHubProtocolException ModuleTwinNotFound(string deviceId, string moduleId) =>
        new(IoTHubErrorCode.DeviceNotFound, $"Module {moduleId} on device {deviceId} not registered");

    internal static IoTHubProtocolException ModuleNotFound(string deviceId, string moduleId) =>
        new(IoTHubErrorCode.ModuleNotFound, $"Module {moduleId} on device {deviceId} not registered");

    internal static IoTHubProtocolException DeviceAlreadyExists(string deviceId) =>
        new(IoTHubErrorCode.DeviceAlreadyExists, $"A device with ID '{deviceId}' is already registered.");

    internal static IoTHubProtocolException ModuleAlreadyExists(string deviceId, string moduleId) =>
        new(IoTHubErrorCode.ModuleAlreadyExistsOnDevice, $"Device {deviceId} already contains Module {moduleId}.");

    internal static IoTHubProtocolException PreconditionFailed() =>
        new(IoTHubErrorCode.PreconditionFailed, "PreconditionFailed, ETag may be invalid.");
}
