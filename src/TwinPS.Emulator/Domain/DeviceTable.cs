using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using TwinPS.Emulator.Storage;
using static TwinPS.Emulator.Domain.HubErrors;

namespace TwinPS.Emulator.Domain;

/// <summary>Device counts for the statistics endpoints.</summary>
internal readonly record struct RegistryCounts(long Total, long Enabled, long Disabled, long Connected, long Modules);

/// <summary>
/// The hub's devices and modules in memory (identity, twin and connection of each, as committed) and the reads over
/// them. Writers (<see cref="HubRegistry"/>, <see cref="HubTwins"/>, <see cref="DeviceConnections"/>) change an entry
/// only under its gate, after the store has committed.
/// </summary>
internal sealed class DeviceTable
{
    private readonly ConcurrentDictionary<string, DeviceEntry> _devices = new(StringComparer.Ordinal);
    private volatile string[]? _sortedDeviceIds;
    private volatile (string DeviceId, string ModuleId)[]? _sortedModuleKeys;

    /// <summary>The highest identity etag counter loaded from the store (identity etags continue from there).</summary>
    public long LoadedIdentityETagCounter { get; private set; }

    public int DeviceCount => _devices.Count;

    /// <summary>Loads every stored device, module and twin into memory.</summary>
    public static DeviceTable Load(HubStore store)
    {
        ArgumentNullException.ThrowIfNull(store);
        var table = new DeviceTable();
        long maxCounter = 0;
        foreach (StoredDevice row in store.LoadDevices())
        {
            Identity identity = IdentityJson.FromStorageJson(row.Identity);
            var entry = new DeviceEntry(row.DeviceId, new TwinSnapshot(identity, TwinOps.FromStorage(row.Twin), ConnectionInfo.Initial));
            table._devices[row.DeviceId] = entry;
            maxCounter = Math.Max(maxCounter, identity.ETagCounter);
        }

        foreach (StoredModule row in store.LoadModules())
        {
            if (!table._devices.TryGetValue(row.DeviceId, out DeviceEntry? device)) continue;
            Identity identity = IdentityJson.FromStorageJson(row.Identity);
            device.Modules[row.ModuleId] = new TwinEntry(row.DeviceId, row.ModuleId, new TwinSnapshot(identity, TwinOps.FromStorage(row.Twin), ConnectionInfo.Initial));
            maxCounter = Math.Max(maxCounter, identity.ETagCounter);
        }

        table.LoadedIdentityETagCounter = maxCounter;
        return table;
    }

    /// <summary>The committed view of a device, or null.</summary>
    public TwinSnapshot? FindDevice(string deviceId) =>
        _devices.TryGetValue(deviceId, out DeviceEntry? entry) && !entry.Deleted ? entry.Current : null;

    /// <summary>The committed view of a module, or null.</summary>
    public TwinSnapshot? FindModule(string deviceId, string moduleId) =>
        _devices.TryGetValue(deviceId, out DeviceEntry? device) && !device.Deleted
        && device.Modules.TryGetValue(moduleId, out TwinEntry? module) && !module.Deleted ? module.Current : null;

    /// <summary>The committed view of a device (no module id) or module, or null.</summary>
    public TwinSnapshot? Find(string deviceId, string? moduleId) =>
        moduleId is null ? FindDevice(deviceId) : FindModule(deviceId, moduleId);

    /// <summary>The identity (keys, thumbprints, status) of a device or module, or null (for device authentication).</summary>
    public Identity? FindIdentity(string deviceId, string? moduleId) => Find(deviceId, moduleId)?.Identity;

    /// <summary>A device's committed view or 404 DeviceNotFound.</summary>
    public TwinSnapshot GetDevice(string deviceId) => FindDevice(deviceId) ?? throw DeviceNotFound(deviceId);

    /// <summary>A module's committed view or 404 (DeviceNotFound for twins, ModuleNotFound for identities).</summary>
    public TwinSnapshot GetModule(string deviceId, string moduleId, bool forTwin)
    {
        if (FindDevice(deviceId) is null) throw DeviceNotFound(deviceId);
        return FindModule(deviceId, moduleId) ?? throw (forTwin ? ModuleTwinNotFound(deviceId, moduleId) : ModuleNotFound(deviceId, moduleId));
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

    // ------------------------------------------------------------------ for the writers

    /// <summary>The entry of a device or module (possibly marked deleted), or null.</summary>
    internal TwinEntry? TryEntry(string deviceId, string? moduleId)
    {
        if (!_devices.TryGetValue(deviceId, out DeviceEntry? device)) return null;
        if (moduleId is null) return device;
        return device.Modules.TryGetValue(moduleId, out TwinEntry? module) ? module : null;
    }

    /// <summary>The device's entry (possibly marked deleted), or false.</summary>
    internal bool TryGetDevice(string deviceId, [NotNullWhen(true)] out DeviceEntry? entry) => _devices.TryGetValue(deviceId, out entry);

    /// <summary>A live device's entry, or 404 DeviceNotFound.</summary>
    internal DeviceEntry DeviceEntry(string deviceId) =>
        _devices.TryGetValue(deviceId, out DeviceEntry? entry) && !entry.Deleted ? entry : throw DeviceNotFound(deviceId);

    /// <summary>A live module's entry, or 404 (ModuleNotFound for identities, DeviceNotFound for twins).</summary>
    internal TwinEntry ModuleEntry(string deviceId, string moduleId, bool forTwin)
    {
        DeviceEntry device = DeviceEntry(deviceId);
        return device.Modules.TryGetValue(moduleId, out TwinEntry? module) && !module.Deleted
            ? module
            : throw (forTwin ? ModuleTwinNotFound(deviceId, moduleId) : ModuleNotFound(deviceId, moduleId));
    }

    /// <summary>A live twin's entry (device or module), or 404 DeviceNotFound.</summary>
    internal TwinEntry TwinEntry(string deviceId, string? moduleId) =>
        moduleId is null ? DeviceEntry(deviceId) : ModuleEntry(deviceId, moduleId, forTwin: true);

    internal void SetDevice(string deviceId, DeviceEntry entry)
    {
        _devices[deviceId] = entry;
        InvalidateIndexes();
    }

    internal bool RemoveDevice(string deviceId, [NotNullWhen(true)] out DeviceEntry? removed)
    {
        bool found = _devices.TryRemove(deviceId, out removed);
        InvalidateIndexes();
        return found;
    }

    internal void InvalidateIndexes()
    {
        _sortedDeviceIds = null;
        _sortedModuleKeys = null;
    }
}
