using System.Collections.Concurrent;
using TwinPS.Models;

namespace TwinPS.Internal;

/// <summary>The device sessions open in this process, so that removing the module closes them.</summary>
internal static class DeviceSessions
{
    private static readonly ConcurrentDictionary<DeviceSession, byte> Open = new();

    public static void Add(DeviceSession session) => Open.TryAdd(session, 0);

    public static void Remove(DeviceSession session) => Open.TryRemove(session, out _);

    /// <summary>The open sessions, oldest first.</summary>
    public static IReadOnlyList<DeviceSession> All => Open.Keys.OrderBy(s => s.ConnectedAt).ToList();

    /// <summary>Closes every open session (best effort, bounded in time).</summary>
    public static void CloseAll()
    {
        var closing = Open.Keys.Select(s => Task.Run(() => s.CloseAsync(CancellationToken.None))).ToArray();
        try
        {
            Task.WaitAll(closing, TimeSpan.FromSeconds(10));
        }
        catch (AggregateException)
        {
            // A session that fails to say goodbye is gone anyway.
        }
    }
}
