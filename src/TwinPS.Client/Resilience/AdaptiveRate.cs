using System.Diagnostics;
using System.Threading.RateLimiting;

namespace TwinPS.Client.Resilience;

/// <summary>
/// The learned rate of one throttle class on one hub connection. Unlimited until the hub shows its limit: a 429, or
/// queueing (traffic shaping makes answers slow before it rejects). Then requests are paced (a token bucket from
/// System.Threading.RateLimiting) just under the rate at which the hub was answering successfully in the last seconds,
/// and the pace is raised slowly again while there is demand for more (additive increase), so a bulk run settles at the
/// hub's limit instead of piling up retries. Thread-safe; shared by every request of the connection.
/// </summary>
internal sealed class AdaptiveRate : IDisposable
{
    /// <summary>Pace at this fraction of the measured hub rate after a throttling signal.</summary>
    internal const double PaceFactor = 0.97;

    /// <summary>While requests wait on the pacer, raise the pace by this fraction per second.</summary>
    internal const double ProbeGainPerSecond = 0.01;

    /// <summary>The slowest pace ever set (one request every 20 s).</summary>
    internal const double MinimumRate = 0.05;

    private const int SuccessRing = 8192;
    private const int LatencyRing = 8;
    private const int SlowNeeded = 6;
    private static readonly long CutSpacing = Stopwatch.Frequency;          // 1 s between two cuts
    private static readonly long MeasureWindow = 2 * Stopwatch.Frequency;   // rate measured over the last 2 s
    private static readonly long ProbeSpacing = 2 * Stopwatch.Frequency;    // re-pace at most every 2 s
    private static readonly long PacingMemory = 5 * Stopwatch.Frequency;    // "the hub served us lately"

    private readonly object _gate = new();
    private readonly long[] _successes = new long[SuccessRing];
    private readonly double[] _latencies = new double[LatencyRing];
    private readonly Action<ThrottleClass, double?, double, string> _onRateChanged;
    private long _successCount;
    private int _latencyIndex;
    private int _latencyCount;
    private double _baselineMs = double.PositiveInfinity;
    private double? _rate;
    private TokenBucketRateLimiter? _limiter;
    private Timer? _replenisher;
    private long _firstRequest;
    private long _lastCut;
    private long _lastProbe;
    private long _lastSuccess;
    private int _waiting;
    private int _backingOff;
    private long _throttled;
    private long _retries;
    private bool _disposed;

    public AdaptiveRate(ThrottleClass throttleClass, Action<ThrottleClass, double?, double, string> onRateChanged)
    {
        Class = throttleClass;
        _onRateChanged = onRateChanged;
    }

    public ThrottleClass Class { get; }

    /// <summary>The pace in requests per second; null while the hub has shown no limit.</summary>
    public double? Rate
    {
        get
        {
            lock (_gate)
            {
                return _rate;
            }
        }
    }

    /// <summary>Requests waiting for the pacer or in a back-off after a throttling answer.</summary>
    public int Waiting => Volatile.Read(ref _waiting) + Volatile.Read(ref _backingOff);

    public long Throttled => Interlocked.Read(ref _throttled);

    public long Retries => Interlocked.Read(ref _retries);

    /// <summary>
    /// True when the class is paced and the hub answered successfully in the last seconds: a throttled request then only
    /// needs to wait for its turn at the (just lowered) pace, not the hub's blanket "wait 10 seconds".
    /// </summary>
    public bool IsPacing
    {
        get
        {
            lock (_gate)
            {
                return _rate is not null && _lastSuccess != 0 && Stopwatch.GetTimestamp() - _lastSuccess < PacingMemory;
            }
        }
    }

    /// <summary>Waits for this request's turn (returns at once while no limit has been learned).</summary>
    public async ValueTask AcquireAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            TokenBucketRateLimiter? limiter;
            lock (_gate)
            {
                if (_firstRequest == 0)
                {
                    _firstRequest = Stopwatch.GetTimestamp();
                    _lastCut = _firstRequest;
                }

                limiter = _limiter;
            }

            if (limiter is null)
            {
                return;
            }

            using (var immediate = TryAttempt(limiter))
            {
                if (immediate?.IsAcquired == true)
                {
                    return;
                }
            }

            Interlocked.Increment(ref _waiting);
            try
            {
                using var lease = await limiter.AcquireAsync(1, cancellationToken).ConfigureAwait(false);
                if (lease.IsAcquired)
                {
                    return;
                }
            }
            catch (ObjectDisposedException)
            {
                // The pace changed while we waited: queue again at the new pace.
            }
            finally
            {
                Interlocked.Decrement(ref _waiting);
            }
        }
    }

    private static RateLimitLease? TryAttempt(TokenBucketRateLimiter limiter)
    {
        try
        {
            return limiter.AttemptAcquire(1);
        }
        catch (ObjectDisposedException)
        {
            return null;
        }
    }

    /// <summary>An answer that consumed hub budget (anything but 429 and 5xx), with the time the hub took.</summary>
    public void OnAnswered(double latencyMs)
    {
        (double? Old, double New, string Reason)? change = null;
        TokenBucketRateLimiter? retired = null;
        lock (_gate)
        {
            var now = Stopwatch.GetTimestamp();
            _successes[_successCount % SuccessRing] = now;
            _successCount++;
            _lastSuccess = now;
            _baselineMs = Math.Min(_baselineMs, latencyMs);
            _latencies[_latencyIndex] = latencyMs;
            _latencyIndex = (_latencyIndex + 1) % LatencyRing;
            _latencyCount = Math.Min(LatencyRing, _latencyCount + 1);

            if (IsQueueing() && now - _lastCut >= CutSpacing)
            {
                change = Cut(now, "answers slowed down (the hub is queueing requests)", out retired);
            }
            else if (_rate is double rate && Volatile.Read(ref _waiting) > 0 && now - _lastCut >= CutSpacing && now - _lastProbe >= ProbeSpacing)
            {
                var seconds = (double)(now - _lastProbe) / Stopwatch.Frequency;
                var raised = rate * (1 + (ProbeGainPerSecond * Math.Min(seconds, 2)));
                _lastProbe = now;
                retired = SetRate(raised);
                change = (rate, raised, "probing upward");
            }
        }

        retired?.Dispose();
        if (change is { } c && c.Reason != "probing upward")
        {
            _onRateChanged(Class, c.Old, c.New, c.Reason);
        }
    }

    /// <summary>A 429 answer: the hub's limit is below the current pace (or there was no pace yet).</summary>
    public void OnThrottled(string errorCode)
    {
        Interlocked.Increment(ref _throttled);
        (double? Old, double New, string Reason)? change = null;
        TokenBucketRateLimiter? retired = null;
        lock (_gate)
        {
            var now = Stopwatch.GetTimestamp();
            if (_rate is null || now - _lastCut >= CutSpacing)
            {
                change = Cut(now, "429 " + errorCode, out retired);
            }
        }

        retired?.Dispose();
        if (change is { } c)
        {
            _onRateChanged(Class, c.Old, c.New, c.Reason);
        }
    }

    public void OnRetryScheduled() => Interlocked.Increment(ref _retries);

    public void EnterBackoff() => Interlocked.Increment(ref _backingOff);

    public void LeaveBackoff() => Interlocked.Decrement(ref _backingOff);

    public void Dispose()
    {
        TokenBucketRateLimiter? limiter;
        Timer? timer;
        lock (_gate)
        {
            _disposed = true;
            limiter = _limiter;
            _limiter = null;
            timer = _replenisher;
            _replenisher = null;
        }

        timer?.Dispose();
        limiter?.Dispose();
    }

    private static readonly TimeSpan ReplenishEvery = TimeSpan.FromMilliseconds(10);

    private void Replenish()
    {
        TokenBucketRateLimiter? limiter;
        lock (_gate)
        {
            limiter = _limiter;
        }

        try
        {
            limiter?.TryReplenish();
        }
        catch (ObjectDisposedException)
        {
            // Replaced meanwhile.
        }
    }

    private bool IsQueueing()
    {
        if (_latencyCount < LatencyRing || double.IsInfinity(_baselineMs))
        {
            return false;
        }

        var threshold = (2 * _baselineMs) + 150;
        var slow = 0;
        foreach (var latency in _latencies)
        {
            if (latency > threshold)
            {
                slow++;
            }
        }

        return slow >= SlowNeeded;
    }

    // Under the lock: the new pace is just under what the hub served in the measurement window, and always lower than
    // the current pace (multiplicative decrease).
    private (double? Old, double New, string Reason) Cut(long now, string reason, out TokenBucketRateLimiter? retired)
    {
        var windowStart = Math.Max(now - MeasureWindow, _rate is null ? _firstRequest : _lastCut);
        if (windowStart <= 0 || windowStart >= now)
        {
            windowStart = now - (Stopwatch.Frequency / 10);
        }

        var count = 0L;
        var oldest = now;
        for (var i = _successCount - 1; i >= 0 && i >= _successCount - SuccessRing; i--)
        {
            var t = _successes[i % SuccessRing];
            if (t <= windowStart)
            {
                break;
            }

            count++;
            oldest = t;
        }

        var span = count == SuccessRing ? now - oldest : now - windowStart;
        // The first cut often comes within milliseconds, after a burst the hub allowed (its bucket): counting that
        // burst as if it took at least a second estimates the rate from the bucket size instead of from nothing.
        var seconds = Math.Max((double)span / Stopwatch.Frequency, _rate is null ? 1.0 : 0.001);
        var measured = count / seconds;
        var old = _rate;
        var next = count == 0 ? (old ?? 2.0) / 2 : measured * PaceFactor;
        if (old is double current)
        {
            next = Math.Min(next, current * PaceFactor);
        }

        next = Math.Max(next, MinimumRate);
        _lastCut = now;
        _lastProbe = now;
        _latencyCount = 0;
        retired = SetRate(next);
        return (old, next, reason);
    }

    private TokenBucketRateLimiter? SetRate(double rate)
    {
        var old = _limiter;
        _rate = rate;
        if (_disposed)
        {
            return null;
        }

        // Whole tokens worth ~50 ms; refilled by elapsed time (not per timer tick), so timer jitter costs nothing.
        var tokens = Math.Max(1, (int)Math.Round(rate / 20));
        var limiter = new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions
        {
            TokenLimit = tokens,
            TokensPerPeriod = tokens,
            ReplenishmentPeriod = TimeSpan.FromSeconds(tokens / rate),
            QueueLimit = int.MaxValue,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
            AutoReplenishment = false,
        });

        // A new bucket starts full: empty it, so changing the pace never adds a burst.
        limiter.AttemptAcquire(tokens).Dispose();
        _limiter = limiter;
        _replenisher ??= new Timer(static state => ((AdaptiveRate)state!).Replenish(), this, ReplenishEvery, ReplenishEvery);
        return old;
    }
}
