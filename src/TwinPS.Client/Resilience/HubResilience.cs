using System.Globalization;
using TwinPS.Protocol;

namespace TwinPS.Client.Resilience;

/// <summary>What one throttle class of a connection has learned, and what is waiting on it right now.</summary>
/// <param name="Class">The throttle class.</param>
/// <param name="LearnedRate">Requests per second the connection paces itself to; null while the hub has shown no limit.</param>
/// <param name="Waiting">Requests waiting for their turn at that pace or in a back-off after a throttling answer.</param>
/// <param name="Throttled">429 answers received so far.</param>
/// <param name="Retries">Retries scheduled so far (any cause).</param>
public sealed record ThrottleState(ThrottleClass Class, double? LearnedRate, int Waiting, long Throttled, long Retries);

/// <summary>A retry the client scheduled: what failed, and how long it waits.</summary>
public sealed class RetryScheduledEventArgs : EventArgs
{
    internal RetryScheduledEventArgs(ThrottleClass throttleClass, string method, string path, int status, string errorCode, TimeSpan delay, int retryNumber, bool paced)
    {
        Class = throttleClass;
        Method = method;
        Path = path;
        Status = status;
        ErrorCode = errorCode;
        Delay = delay;
        RetryNumber = retryNumber;
        Paced = paced;
    }

    /// <summary>The throttle class of the request.</summary>
    public ThrottleClass Class { get; }

    /// <summary>HTTP method.</summary>
    public string Method { get; }

    /// <summary>Request path (no query string, no secrets).</summary>
    public string Path { get; }

    /// <summary>HTTP status of the failed attempt; 0 when no answer came (connection reset, timeout).</summary>
    public int Status { get; }

    /// <summary>The hub's error code, or <c>ConnectionError</c>/<c>Timeout</c>.</summary>
    public string ErrorCode { get; }

    /// <summary>How long the request waits before the retry (for a paced request: before it queues for its turn again).</summary>
    public TimeSpan Delay { get; }

    /// <summary>1 for the first retry.</summary>
    public int RetryNumber { get; }

    /// <summary>True when the retry waits for its turn at the learned pace instead of the hub's blanket back-off.</summary>
    public bool Paced { get; }

    /// <inheritdoc/>
    public override string ToString() => string.Create(
        CultureInfo.InvariantCulture,
        $"{(Status == 0 ? ErrorCode : Status.ToString(CultureInfo.InvariantCulture) + " " + ErrorCode)} on {Method} {Path}: retry {RetryNumber} in {Delay.TotalSeconds:0.0} s{(Paced ? " (then at the learned pace)" : string.Empty)}");
}

/// <summary>The learned rate of a throttle class changed.</summary>
public sealed class RateChangedEventArgs : EventArgs
{
    internal RateChangedEventArgs(ThrottleClass throttleClass, double? oldRate, double newRate, string reason)
    {
        Class = throttleClass;
        OldRate = oldRate;
        NewRate = newRate;
        Reason = reason;
    }

    /// <summary>The throttle class.</summary>
    public ThrottleClass Class { get; }

    /// <summary>The previous pace (requests/s); null when the class was not paced.</summary>
    public double? OldRate { get; }

    /// <summary>The new pace (requests/s).</summary>
    public double NewRate { get; }

    /// <summary>Why: e.g. <c>429 ThrottlingException</c>, or answers slowing down.</summary>
    public string Reason { get; }

    /// <inheritdoc/>
    public override string ToString() => string.Create(
        CultureInfo.InvariantCulture,
        $"{Class}: pacing at {NewRate:0.##}/s{(OldRate is double old ? string.Create(CultureInfo.InvariantCulture, $" (was {old:0.##}/s)") : string.Empty)} after {Reason}");
}

/// <summary>
/// The resilience state of one hub connection (one <see cref="IoTHubServiceClient"/>): a learned rate per throttle
/// class, shared by every request and every caller of the client, and events for retries and rate changes.
/// </summary>
public sealed class HubResilience : IDisposable
{
    private readonly AdaptiveRate[] _rates;

    internal HubResilience(bool adaptive)
    {
        IsAdaptive = adaptive;
        _rates = Enum.GetValues<ThrottleClass>().Select(c => new AdaptiveRate(c, OnRateChanged)).ToArray();
    }

    /// <summary>Raised (on the thread of the request) for every retry the client schedules.</summary>
    public event EventHandler<RetryScheduledEventArgs>? RetryScheduled;

    /// <summary>Raised when a throttle class's learned rate is set or lowered (not for each small upward probe).</summary>
    public event EventHandler<RateChangedEventArgs>? RateChanged;

    /// <summary>Whether requests are paced by learned rates (<see cref="IoTHubServiceClientOptions.AdaptiveRate"/>).</summary>
    public bool IsAdaptive { get; }

    /// <summary>The state of one throttle class.</summary>
    public ThrottleState GetState(ThrottleClass throttleClass)
    {
        var rate = For(throttleClass);
        return new ThrottleState(throttleClass, rate.Rate, rate.Waiting, rate.Throttled, rate.Retries);
    }

    /// <summary>The states of the classes the hub has throttled or that were retried.</summary>
    public IReadOnlyList<ThrottleState> GetStates() =>
        _rates.Select(r => GetState(r.Class)).Where(s => s.LearnedRate is not null || s.Throttled > 0 || s.Retries > 0).ToList();

    /// <summary>Releases the pacers' timers.</summary>
    public void Dispose()
    {
        foreach (var rate in _rates)
        {
            rate.Dispose();
        }
    }

    internal AdaptiveRate For(ThrottleClass throttleClass) => _rates[(int)throttleClass];

    internal void OnRetryScheduled(RetryScheduledEventArgs args)
    {
        For(args.Class).OnRetryScheduled();
        RetryScheduled?.Invoke(this, args);
    }

    private void OnRateChanged(ThrottleClass throttleClass, double? oldRate, double newRate, string reason) =>
        RateChanged?.Invoke(this, new RateChangedEventArgs(throttleClass, oldRate, newRate, reason));
}
