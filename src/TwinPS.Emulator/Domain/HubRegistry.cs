using System.Globalization;
using TwinPS.Emulator.Storage;
using TwinPS.Protocol;
using static TwinPS.Emulator.Domain.HubErrors;

namespace TwinPS.Emulator.Domain;

/// <summary>
/// The identity registry: creates, replaces and deletes devices and modules (one by one, or in bulk), each committed
/// to the store before it becomes visible in the <see cref="DeviceTable"/> or is acknowledged. Every failure is an
/// <see cref="IoTHubProtocolException"/> with the hub's code; a failed operation changes nothing.
/// </summary>
internal sealed partial class HubRegistry(DeviceTable table, HubStore store, HubEvents events, WriteCounts counts) : IDisposable
{
    private readonly SemaphoreSlim _structure = new(1, 1);
    private long _identityETagCounter = table.LoadedIdentityETagCounter;

    public void Dispose() => _structure.Dispose();

    /// <summary>PUT /devices/{id} without If-Match: create only (409 DeviceAlreadyExists).</summary>
    public async Task<TwinSnapshot> CreateDeviceAsync(string deviceId, IdentityRequest request)
    {
        IdentityRules.ValidateDeviceId(deviceId);
        await _structure.WaitAsync().ConfigureAwait(false);
        try
        {
            if (table.FindDevice(deviceId) is not null) throw DeviceAlreadyExists(deviceId);
            TwinSnapshot snapshot = NewSnapshot(deviceId, null, request, TwinOps.New(deviceId, null));
            await store.CommitAsync(PutOperation(snapshot)).ConfigureAwait(false);
            counts.Count(WriteKind.Registry, 1);
            table.SetDevice(deviceId, new DeviceEntry(deviceId, snapshot));
            return snapshot;
        }
        finally
        {
            _structure.Release();
        }
    }

    /// <summary>PUT /devices/{id} with If-Match: full replace of the identity (404 if missing, 412 if stale).</summary>
    public Task<TwinSnapshot> UpdateDeviceAsync(string deviceId, string ifMatch, IdentityRequest request)
    {
        if (!table.TryGetDevice(deviceId, out DeviceEntry? entry)) throw DeviceNotFound(deviceId);
        return ReplaceIdentityAsync(entry, ifMatch, request, () => DeviceNotFound(deviceId));
    }

    /// <summary>DELETE /devices/{id}: If-Match required (412 "Etag missing"); deletes the twin and all modules.</summary>
    public async Task DeleteDeviceAsync(string deviceId, string? ifMatch)
    {
        if (string.IsNullOrWhiteSpace(ifMatch)) throw ETagMissing();
        await _structure.WaitAsync().ConfigureAwait(false);
        try
        {
            if (!table.TryGetDevice(deviceId, out DeviceEntry? entry) || entry.Deleted) throw DeviceNotFound(deviceId);
            List<TwinEntry> locked = [entry, .. entry.Modules.Values];
            foreach (TwinEntry e in locked) await e.Gate.WaitAsync().ConfigureAwait(false);
            try
            {
                if (!ETags.Matches(ifMatch, entry.Current.Identity.ETag)) throw PreconditionFailed();
                await store.CommitAsync(new StoreOperation.DeleteDevice(deviceId)).ConfigureAwait(false);
                counts.Count(WriteKind.Registry, 1);
                foreach (TwinEntry e in locked) e.Deleted = true;
                table.RemoveDevice(deviceId, out _);
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

        events.RaiseIdentityChanged(new IdentityChangedEventArgs(deviceId, null, deleted: true));
    }

    /// <summary>PUT /devices/{id}/modules/{mid} without If-Match: create only (409 ModuleAlreadyExistsOnDevice).</summary>
    public async Task<TwinSnapshot> CreateModuleAsync(string deviceId, string moduleId, IdentityRequest request)
    {
        IdentityRules.ValidateModuleId(moduleId, allowSystemModules: false);
        await _structure.WaitAsync().ConfigureAwait(false);
        try
        {
            if (!table.TryGetDevice(deviceId, out DeviceEntry? device) || device.Deleted) throw DeviceNotFound(deviceId);
            if (device.Modules.TryGetValue(moduleId, out TwinEntry? existing) && !existing.Deleted) throw ModuleAlreadyExists(deviceId, moduleId);
            TwinSnapshot snapshot = NewSnapshot(deviceId, moduleId, request, TwinOps.New(deviceId, moduleId));
            await store.CommitAsync(PutOperation(snapshot)).ConfigureAwait(false);
            counts.Count(WriteKind.Registry, 1);
            device.Modules[moduleId] = new TwinEntry(deviceId, moduleId, snapshot);
            table.InvalidateIndexes();
            return snapshot;
        }
        finally
        {
            _structure.Release();
        }
    }

    /// <summary>PUT /devices/{id}/modules/{mid} with If-Match: replace the module identity.</summary>
    public Task<TwinSnapshot> UpdateModuleAsync(string deviceId, string moduleId, string ifMatch, IdentityRequest request) =>
        ReplaceIdentityAsync(table.ModuleEntry(deviceId, moduleId, forTwin: false), ifMatch, request, () => ModuleNotFound(deviceId, moduleId));

    /// <summary>DELETE /devices/{id}/modules/{mid}: If-Match required.</summary>
    public async Task DeleteModuleAsync(string deviceId, string moduleId, string? ifMatch)
    {
        if (string.IsNullOrWhiteSpace(ifMatch)) throw ETagMissing();
        await _structure.WaitAsync().ConfigureAwait(false);
        try
        {
            TwinEntry entry = table.ModuleEntry(deviceId, moduleId, forTwin: false);
            await entry.Gate.WaitAsync().ConfigureAwait(false);
            try
            {
                if (entry.Deleted) throw ModuleNotFound(deviceId, moduleId);
                if (!ETags.Matches(ifMatch, entry.Current.Identity.ETag)) throw PreconditionFailed();
                await store.CommitAsync(new StoreOperation.DeleteModule(deviceId, moduleId)).ConfigureAwait(false);
                counts.Count(WriteKind.Registry, 1);
                entry.Deleted = true;
                if (table.TryGetDevice(deviceId, out DeviceEntry? device)) device.Modules.TryRemove(moduleId, out _);
                table.InvalidateIndexes();
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

        events.RaiseIdentityChanged(new IdentityChangedEventArgs(deviceId, moduleId, deleted: true));
    }

    /// <summary>The UTC time as the hub writes it in identities and twins.</summary>
    internal static string Now() => TwinJson.FormatTimestamp(DateTimeOffset.UtcNow);

    /// <summary>Replaces the identity of a device or module entry under its gate (If-Match against the identity etag).</summary>
    private async Task<TwinSnapshot> ReplaceIdentityAsync(TwinEntry entry, string ifMatch, IdentityRequest request, Func<IoTHubProtocolException> notFound)
    {
        await entry.Gate.WaitAsync().ConfigureAwait(false);
        TwinSnapshot snapshot;
        try
        {
            if (entry.Deleted) throw notFound();
            TwinSnapshot current = entry.Current;
            if (!ETags.Matches(ifMatch, current.Identity.ETag)) throw PreconditionFailed();
            snapshot = current.With(identity: ReplaceIdentity(current.Identity, request));
            await store.CommitAsync(PutOperation(snapshot)).ConfigureAwait(false);
            counts.Count(WriteKind.Registry, 1);
            entry.Current = snapshot;
        }
        finally
        {
            entry.Gate.Release();
        }

        events.RaiseIdentityChanged(new IdentityChangedEventArgs(entry.DeviceId, entry.ModuleId, deleted: false));
        return snapshot;
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
}
