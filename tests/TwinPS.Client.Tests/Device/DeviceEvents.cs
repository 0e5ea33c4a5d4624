using System.Collections.Concurrent;
using TwinPS.Client.Device;

namespace TwinPS.Client.Tests.Device;

/// <summary>Collects a device client's events so tests can wait for them (bounded waits only).</summary>
public sealed class DeviceEvents
{
    private readonly BlockingCollection<DesiredPropertiesEventArgs> _desired = [];
    private readonly BlockingCollection<DeviceConnectionStatusEventArgs> _status = [];

    public DeviceEvents(IoTHubDeviceClient client)
    {
        ArgumentNullException.ThrowIfNull(client);
        client.DesiredPropertiesReceived += (_, e) => _desired.Add(e);
        client.ConnectionStatusChanged += (_, e) => _status.Add(e);
    }

    /// <summary>The next desired patch, or fails after <paramref name="seconds"/>.</summary>
    public DesiredPropertiesEventArgs NextDesired(double seconds = 10)
    {
        Assert.True(_desired.TryTake(out var e, TimeSpan.FromSeconds(seconds)), $"no desired-properties patch arrived within {seconds} s");
        return e!;
    }

    /// <summary>True when no desired patch arrives within <paramref name="seconds"/>.</summary>
    public bool NoDesiredWithin(double seconds) => !_desired.TryTake(out _, TimeSpan.FromSeconds(seconds));

    /// <summary>Waits for a status change to <paramref name="status"/> (earlier changes are skipped).</summary>
    public DeviceConnectionStatusEventArgs WaitFor(DeviceConnectionStatus status, double seconds = 15)
    {
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(seconds);
        while (DateTime.UtcNow < until)
        {
            if (_status.TryTake(out var e, until - DateTime.UtcNow) && e.Status == status)
            {
                return e;
            }
        }

        Assert.Fail($"the client did not reach status {status} within {seconds} s");
        return null!;
    }
}
