using System.Text.Json.Nodes;

namespace TwinPS.Client.Device;

/// <summary>
/// Desired-version tracking: keeps the desired properties and <c>$version</c> the device last saw, raises each
/// notification once and in version order, and turns what it missed (a gap in versions, or a reconnect) into one
/// synthetic patch computed from a fresh twin read. Thread-safe.
/// </summary>
internal sealed class DesiredPropertiesTracker(Action<DesiredPropertiesEventArgs> raise, Func<CancellationToken, Task> readTwin, CancellationToken lifetime)
{
    private readonly object _sync = new();
    private JsonObject? _desired;
    private long _desiredVersion = -1;
    private int _resyncRunning;
    private int _resyncAgain;

    /// <summary>The desired <c>$version</c> last seen (−1 before the first twin read).</summary>
    public long DesiredVersion
    {
        get
        {
            lock (_sync)
            {
                return _desiredVersion;
            }
        }
    }

    /// <summary>A desired-properties notification: its version from the topic (or else the body's <c>$version</c>) and body.</summary>
    public void OnNotification(long? topicVersion, byte[] payload)
    {
        if (JsonNode.Parse(payload) is not JsonObject body)
        {
            return;
        }

        var version = topicVersion ?? (body["$version"] is JsonValue v && v.TryGetValue<long>(out var fromBody) ? fromBody : (long?)null);
        if (version is null)
        {
            return;
        }

        var patch = DesiredPropertiesDiff.WithoutMetadata(body);
        lock (_sync)
        {
            if (_desiredVersion >= 0 && version <= _desiredVersion)
            {
                return; // Already part of the twin read after (re)connecting, or of an earlier notification.
            }

            if (_desiredVersion >= 0 && version > _desiredVersion + 1)
            {
                // A notification was missed (QoS 0, or while the connection was down): this one alone would leave the
                // missed change out. Read the twin instead and raise what changed since the last version raised, once.
                RequestResync();
                return;
            }

            if (_desired is not null)
            {
                DesiredPropertiesDiff.Apply(_desired, patch);
            }

            _desiredVersion = version.Value;

            // Raised under the lock, so the order of raised versions is the order of _desiredVersion.
            raise(new DesiredPropertiesEventArgs(patch, version.Value, isSynthetic: false, DateTimeOffset.UtcNow));
        }
    }

    /// <summary>
    /// Takes a twin read as the new baseline (unless a newer notification already arrived) and, with
    /// <paramref name="raiseSynthetic"/>, raises what changed since the last version seen as one synthetic patch.
    /// </summary>
    public void Reconcile(DeviceTwinProperties twin, bool raiseSynthetic)
    {
        JsonObject? synthetic = null;
        lock (_sync)
        {
            if (_desiredVersion > twin.DesiredVersion)
            {
                return; // A newer notification already arrived; this read is older.
            }

            if (raiseSynthetic && _desired is not null && twin.DesiredVersion != _desiredVersion)
            {
                synthetic = DesiredPropertiesDiff.Compute(_desired, twin.Desired);
            }

            _desired = (JsonObject)twin.Desired.DeepClone();
            _desiredVersion = twin.DesiredVersion;
            if (synthetic is { Count: > 0 })
            {
                raise(new DesiredPropertiesEventArgs(synthetic, twin.DesiredVersion, isSynthetic: true, DateTimeOffset.UtcNow));
            }
        }
    }

    /// <summary>Reads the twin (once at a time; again if asked meanwhile), which reconciles and raises the difference.</summary>
    private void RequestResync()
    {
        Interlocked.Exchange(ref _resyncAgain, 1);
        if (Interlocked.CompareExchange(ref _resyncRunning, 1, 0) != 0)
        {
            return;
        }

        _ = Task.Run(async () =>
        {
            try
            {
                while (Interlocked.Exchange(ref _resyncAgain, 0) == 1 && !lifetime.IsCancellationRequested)
                {
                    try
                    {
                        await readTwin(lifetime).ConfigureAwait(false);
                    }
                    catch (Exception ex) when (ex is IoTHubServiceException or OperationCanceledException or ObjectDisposedException)
                    {
                        // Not connected now: the reconnect reads the twin and raises the difference anyway.
                    }
                }
            }
            finally
            {
                Volatile.Write(ref _resyncRunning, 0);
                if (Volatile.Read(ref _resyncAgain) == 1 && !lifetime.IsCancellationRequested)
                {
                    RequestResync();
                }
            }
        });
    }
}
