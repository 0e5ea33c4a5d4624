using Azure;
using Azure.Core;

namespace TwinPS.Client.Http;

/// <summary>
/// Exponential back-off with jitter (Azure.Core applies ±20 % jitter, the max delay and any Retry-After): the long base
/// delay after a throttling or server-error response (IoT Hub says "wait 10 seconds" and sends no Retry-After), a short
/// one after a network failure (no response), so an unreachable host fails in seconds rather than minutes.
/// </summary>
internal sealed class IoTHubDelayStrategy : DelayStrategy
{
    private readonly TimeSpan _responseDelay;
    private readonly TimeSpan _networkDelay;

    public IoTHubDelayStrategy(TimeSpan responseDelay, TimeSpan networkDelay, TimeSpan maxDelay)
        : base(maxDelay, jitterFactor: 0.2)
    {
        _responseDelay = responseDelay;
        _networkDelay = networkDelay;
    }

    protected override TimeSpan GetNextDelayCore(Response? response, int retryNumber)
    {
        var baseDelay = response is null ? _networkDelay : _responseDelay;
        var factor = Math.Pow(2, Math.Clamp(retryNumber - 1, 0, 30));
        return TimeSpan.FromMilliseconds(Math.Min(baseDelay.TotalMilliseconds * factor, TimeSpan.FromDays(1).TotalMilliseconds));
    }
}
