namespace TwinPS.Emulator.Domain;

/// <summary>
/// The runtime connection state of devices and modules (<c>connectionState</c>, <c>connectionStateUpdatedTime</c>,
/// <c>lastActivityTime</c>): kept in the <see cref="DeviceTable"/> only, never persisted (a restarted hub starts with
/// every device disconnected).
/// </summary>
internal sealed class DeviceConnections(DeviceTable table)
{
    /// <summary>Marks a device or module connected or disconnected; also records activity.</summary>
    public Task SetConnectionStateAsync(string deviceId, string? moduleId, bool connected) =>
        UpdateAsync(deviceId, moduleId, current =>
        {
            string now = HubRegistry.Now();
            return new ConnectionInfo(connected, now, now);
        });

    /// <summary>Records device activity (<c>lastActivityTime</c>).</summary>
    public Task RecordActivityAsync(string deviceId, string? moduleId) =>
        UpdateAsync(deviceId, moduleId, current => current with { LastActivityTime = HubRegistry.Now() });

    private async Task UpdateAsync(string deviceId, string? moduleId, Func<ConnectionInfo, ConnectionInfo> change)
    {
        TwinEntry? entry = table.TryEntry(deviceId, moduleId);
        if (entry is null) return;
        await entry.Gate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (entry.Deleted) return;
            TwinSnapshot current = entry.Current;
            entry.Current = current.With(connection: change(current.Connection));
        }
        finally
        {
            entry.Gate.Release();
        }
    }
}
