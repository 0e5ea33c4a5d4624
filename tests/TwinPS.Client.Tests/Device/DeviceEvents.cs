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

    /// <summary>The next desired patch, or fails after <see cref="TimeBounds.Eventually"/>.</summary>
    public DesiredPropertiesEventArgs NextDesired()
    {
        Assert.True(_desired.TryTake(out var e, TimeBounds.Eventually), $"no desired-properties patch arrived within {TimeBounds.Eventually.TotalSeconds} s");
        return e!;
    }

    /// <summary>True when no desired patch arrives during <see cref="TimeBounds.Quiet"/>.</summary>
    public bool NoDesiredArrives() => !_desired.TryTake(out _, TimeBounds.Quiet);

    /// <summary>Waits for a status change to <paramref name="status"/> (earlier changes are skipped), at most <see cref="TimeBounds.Eventually"/>.</summary>
    public DeviceConnectionStatusEventArgs WaitFor(DeviceConnectionStatus status)
    {
        var seconds = TimeBounds.Eventually.TotalSeconds;
        var until = DateTime.UtcNow + TimeBounds.Eventually;
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
