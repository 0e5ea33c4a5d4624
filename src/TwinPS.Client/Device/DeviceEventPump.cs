using System.Threading.Channels;

namespace TwinPS.Client.Device;

/// <summary>
/// Delivers the device client's events to subscribers on one background thread, in the order they were posted, so a
/// slow or throwing subscriber never blocks the MQTT receive loop or the other subscribers.
/// </summary>
internal sealed class DeviceEventPump
{
    private readonly Channel<Action> _events = Channel.CreateUnbounded<Action>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _pump;

    public DeviceEventPump()
    {
        _pump = Task.Run(PumpAsync);
    }

    /// <summary>Queues <paramref name="raise"/>; ignored once the pump is completed.</summary>
    public void Post(Action raise) => _events.Writer.TryWrite(raise);

    /// <summary>Accepts nothing more and waits (at most <paramref name="wait"/>) for what is queued to be delivered.</summary>
    public async Task CompleteAsync(TimeSpan wait, CancellationToken cancellationToken)
    {
        _events.Writer.TryComplete();
        try
        {
            await _pump.WaitAsync(wait, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // A handler that never returns must not block closing.
        }
    }

    private async Task PumpAsync()
    {
        await foreach (var raise in _events.Reader.ReadAllAsync().ConfigureAwait(false))
        {
            try
            {
                raise();
            }
#pragma warning disable CA1031 // A subscriber's exception must not stop event delivery to the others.
            catch (Exception)
#pragma warning restore CA1031
            {
            }
        }
    }
}
