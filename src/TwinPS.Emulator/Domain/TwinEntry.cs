using System.Buffers;
using System.Text.Json;
using TwinPS.Protocol;

namespace TwinPS.Emulator.Domain;

/// <summary>
/// An immutable, committed view of one device or module: identity, twin state and connection facts, with the
/// serialised forms cached (readers never serialise twice). Replaced as a whole after every committed change.
/// </summary>
internal sealed class TwinSnapshot(Identity identity, TwinState twin, ConnectionInfo connection)
{
    private byte[]? _twinJson;
    private byte[]? _identityJson;

    public Identity Identity { get; } = identity;

    public TwinState Twin { get; } = twin;

    public ConnectionInfo Connection { get; } = connection;

    /// <summary>The twin's etag (base64 of its 64-bit counter).</summary>
    public string TwinETag => TwinOps.ETag(Twin);

    /// <summary>The full service-side twin document (UTF-8 JSON).</summary>
    public byte[] TwinJson => _twinJson ??= TwinOps.ToTwinJsonBytes(Twin, Identity, Connection);

    /// <summary>The Device/Module registry document (UTF-8 JSON).</summary>
    public byte[] IdentityJson
    {
        get
        {
            if (_identityJson is not null) return _identityJson;
            var buffer = new ArrayBufferWriter<byte>(512);
            using (var writer = new Utf8JsonWriter(buffer))
            {
                Domain.IdentityJson.Write(writer, Identity, Connection);
            }

            return _identityJson = buffer.WrittenSpan.ToArray();
        }
    }

    /// <summary>The identity as stored in SQLite (computed on demand: only identity writes need it).</summary>
    public string IdentityStorageJson => Domain.IdentityJson.ToStorageJson(Identity);

    public TwinSnapshot With(Identity? identity = null, TwinState? twin = null, ConnectionInfo? connection = null)
    {
        return new TwinSnapshot(identity ?? Identity, twin ?? Twin, connection ?? Connection);
    }
}

/// <summary>
/// One device or module in the serving cache. <see cref="Gate"/> serialises writers of this twin/identity so that
/// If-Match checks are race-free; readers just take <see cref="Current"/>.
/// </summary>
internal class TwinEntry(string deviceId, string? moduleId, TwinSnapshot snapshot)
{
    private volatile TwinSnapshot _current = snapshot;
    private volatile bool _deleted;

    public string DeviceId { get; } = deviceId;

    public string? ModuleId { get; } = moduleId;

    public SemaphoreSlim Gate { get; } = new(1, 1);

    public TwinSnapshot Current
    {
        get => _current;
        set => _current = value;
    }

    /// <summary>Set (under the gate) once the entry's deletion is committed; writers that waited must answer 404.</summary>
    public bool Deleted
    {
        get => _deleted;
        set => _deleted = value;
    }
}

/// <summary>A device entry, with its modules.</summary>
internal sealed class DeviceEntry(string deviceId, TwinSnapshot snapshot) : TwinEntry(deviceId, null, snapshot)
{
    public System.Collections.Concurrent.ConcurrentDictionary<string, TwinEntry> Modules { get; } = new(StringComparer.Ordinal);
}
