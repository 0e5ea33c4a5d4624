using System.Threading.RateLimiting;
using TwinPS.Protocol;

namespace TwinPS.Client.Resilience;

/// <summary>
/// The learned rate of one throttle class on one hub connection. Unlimited until the hub shows its limit: a 429, or
/// queueing latency that keeps growing (traffic shaping serves requests late before it rejects them). Then requests are
/// paced (a token bucket from System.Threading.RateLimiting) at the rate the hub was actually serving (completions per
/// second, measured), and the pace is raised again while requests wait for it (a probe upward), so a bulk run settles at
/// the hub's limit instead of piling up retries. What is NOT a reason to slow down: answers that are slow but no slower
/// than a moment ago (the hub is merely queueing our requests and serving them at its rate), and a stray 429 while the
/// class is paced at what the hub serves (a burst met a bucket that was just emptied). Thread-safe; shared by every
/// request of the connection.
/// </summary>
internal sealed class AdaptiveRate : IDisposable
{
    /// <summary>After a throttling signal, pace at this fraction of the rate the hub served.</summary>
    internal const double PaceFactor = 0.98;

    /// <summary>While requests wait on the pacer, raise the pace by this fraction per second, times the number of probes
    /// since the last cut (up to <see cref="ProbeStreakCap"/>): small steps near a limit just met, quick recovery from a
    /// low estimate.</summary>
    internal const double ProbeGainPerSecond = 0.02;

    /// <summary>The probe gain grows up to this many times <see cref="ProbeGainPerSecond"/>.</summary>
    internal const int ProbeStreakCap = 5;

    /// <summary>The slowest pace ever set (one request every 20 s).</summary>
    internal const double MinimumRate = 0.05;

    /// <summary>A paced class is cut only when more than this share of the window's answers were 429s.</summary>
    internal const double ThrottledShare = 0.02;

    /// <summary>... and at least this many of them (a single late burst is not a limit).</summary>
    internal const int ThrottledNeeded = 2;

    /// <summary>A latency epoch lasts at least a second and holds at least this many answers.</summary>
    internal const int EpochAnswers = 8;

    private const int Ring = 8192;
    private const int EpochSamples = 512;

    private readonly object _gate = new();
    private readonly TimeProvider _time;
    private readonly long _second;
    private readonly long[] _successes = new long[Ring];
    private readonly long[] _throttles = new long[Ring];
    private readonly double[] _epoch = new double[EpochSamples];
    private readonly double[] _medians = new double[3];
    private readonly Action<ThrottleClass, double?, double, string> _onRateChanged;
    private long _successCount;
    private long _throttleCount;
    private int _epochCount;
    private long _epochStart;
    private int _medianCount;
    private double _baselineMs = double.PositiveInfinity;
    private double? _rate;
    private TokenBucketRateLimiter? _limiter;
    private Timer? _replenisher;
    private long _firstRequest;
    private long _lastCut;
    private long _lastProbe;
    private long _lastSuccess;
    private int _probeStreak;
    private int _waiting;
    private int _backingOff;
    private long _throttled;
    private long _retries;
    private bool _disposed;

    public AdaptiveRate(ThrottleClass throttleClass, Action<ThrottleClass, double?, double, string> onRateChanged)
        : this(throttleClass, onRateChanged, TimeProvider.System)
    {
    }

    /// <summary>For tests: the clock the rate is measured with (the pacer itself runs on real time).</summary>
    internal AdaptiveRate(ThrottleClass throttleClass, Action<ThrottleClass, double?, double, string> onRateChanged, TimeProvider time)
    {
        Class = throttleClass;
        _onRateChanged = onRateChanged;
        _time = time;
        _second = time.TimestampFrequency;
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
    /// needs to wait for its turn at the learned pace, not the hub's blanket "wait 10 seconds".
    /// </summary>
    public bool IsPacing
    {
        get
        {
            lock (_gate)
            {
                return _rate is not null && _lastSuccess != 0 && _time.GetTimestamp() - _lastSuccess < 5 * _second;
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
                    _firstRequest = _time.GetTimestamp();
                    _lastCut = _firstRequest;
                    _epochStart = _firstRequest;
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

    /// <summary>The clock now; when no AcquireAsync came first (an answer is the first thing seen), the request started before now. Call under the gate.</summary>
    private long NowAfterFirstRequest()
    {
        var now = _time.GetTimestamp();
        if (_firstRequest == 0)
        {
            _firstRequest = now - 1;
            _lastCut = _firstRequest;
            _epochStart = _firstRequest;
        }

        return now;
    }

    /// <summary>An answer that consumed hub budget (anything but 429 and 5xx), with the time the hub took.</summary>
    public void OnAnswered(double latencyMs)
    {
        (double? Old, double New, string Reason)? change = null;
        TokenBucketRateLimiter? retired = null;
        lock (_gate)
        {
            var now = NowAfterFirstRequest();

            _successes[_successCount % Ring] = now;
            _successCount++;
            _lastSuccess = now;
            _baselineMs = Math.Min(_baselineMs, latencyMs);
            if (_epochCount < EpochSamples)
            {
                _epoch[_epochCount] = latencyMs;
            }
            else
            {
                _epoch[(int)(_successCount % EpochSamples)] = latencyMs; // keep a spread sample of a long epoch
            }

            _epochCount++;
            if (EndEpoch(now) && LatencyGrows() && now - _lastCut >= _second)
            {
                change = Cut(now, "answers kept slowing down (the hub's queue of our requests is growing)", out retired);
            }
            else if (_rate is double rate && Waiting > 0 && now - _lastProbe >= _second)
            {
                // Demand for more than the pace: probe upward (the hub says so with a 429 or a growing queue if it is too much).
                var seconds = Math.Min((double)(now - _lastProbe) / _second, 2);
                _probeStreak = Math.Min(_probeStreak + 1, ProbeStreakCap);
                var raised = rate * (1 + (ProbeGainPerSecond * _probeStreak * seconds));
                _lastProbe = now;
                retired = SetRate(raised);
            }
        }

        retired?.Dispose();
        if (change is { } c)
        {
            _onRateChanged(Class, c.Old, c.New, c.Reason);
        }
    }

    /// <summary>A 429 answer: the hub's limit may be below the current pace (or there was no pace yet).</summary>
    public void OnThrottled(string errorCode)
    {
        Interlocked.Increment(ref _throttled);
        (double? Old, double New, string Reason)? change = null;
        TokenBucketRateLimiter? retired = null;
        lock (_gate)
        {
            var now = NowAfterFirstRequest();

            _throttles[_throttleCount % Ring] = now;
            _throttleCount++;
            if (_rate is null)
            {
                change = Cut(now, "429 " + errorCode, out retired);
            }
            else if (now - _lastCut >= _second)
            {
                // Paced: cut only when a real share of what we sent since the last cut was refused. A stray 429 (a burst
                // of the pacer meeting a hub bucket that a cut just emptied) is retried at the pace and changes nothing.
                var since = Math.Max(now - (2 * _second), _lastCut);
                var refused = CountSince(_throttles, _throttleCount, since);
                var served = CountSince(_successes, _successCount, since);
                if (refused >= ThrottledNeeded && refused > ThrottledShare * (refused + served))
                {
                    change = Cut(now, "429 " + errorCode, out retired);
                }
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

    private static long CountSince(long[] ring, long count, long since)
    {
        var n = 0L;
        for (var i = count - 1; i >= 0 && i >= count - Ring; i--)
        {
            if (ring[i % Ring] <= since)
            {
                break;
            }

            n++;
        }

        return n;
    }

    // Under the lock: closes the latency epoch (at least a second and EpochAnswers answers) and records its median.
    private bool EndEpoch(long now)
    {
        if (now - _epochStart < _second || _epochCount < EpochAnswers)
        {
            return false;
        }

        var samples = _epoch.AsSpan(0, Math.Min(_epochCount, EpochSamples));
        samples.Sort();
        var median = samples[samples.Length / 2];
        _medians[0] = _medians[1];
        _medians[1] = _medians[2];
        _medians[2] = median;
        _medianCount = Math.Min(_medianCount + 1, _medians.Length);
        _epochCount = 0;
        _epochStart = now;
        return true;
    }

    // Under the lock: the hub is queueing (answers well over the fastest seen) and the queue grew over two epochs in a
    // row. Answers that are slow but steady (a fixed number of requests waiting at a hub serving at its rate) are not a
    // reason to slow down: the hub is busy at its limit, which is where a bulk run should be.
    private bool LatencyGrows()
    {
        if (_medianCount < _medians.Length || double.IsInfinity(_baselineMs))
        {
            return false;
        }

        var (m0, m1, m2) = (_medians[0], _medians[1], _medians[2]);
        return m2 > (2 * _baselineMs) + 100
            && m1 > m0 + Math.Max(20, 0.1 * m0)
            && m2 > m1 + Math.Max(20, 0.1 * m1);
    }

    // Under the lock: the new pace is what the hub served lately (completions per second), a little under it, and never
    // above the current pace.
    private (double? Old, double New, string Reason) Cut(long now, string reason, out TokenBucketRateLimiter? retired)
    {
        var windowStart = Math.Max(now - (2 * _second), _rate is null ? _firstRequest : _lastCut);
        if (windowStart >= now)
        {
            windowStart = now - (_second / 10);
        }

        var count = CountSince(_successes, _successCount, windowStart);
        // The first cut often comes within milliseconds, after a burst the hub allowed (its bucket): counting that burst
        // as if it took at least a second estimates the rate from the bucket size instead of from nothing.
        var seconds = Math.Max((double)(now - windowStart) / _second, _rate is null ? 1.0 : 0.5);
        var measured = count / seconds;
        var old = _rate;
        var next = count == 0 ? (old ?? 2.0) / 2 : Math.Min(measured, old ?? double.MaxValue) * PaceFactor;
        next = Math.Max(next, MinimumRate);
        _lastCut = now;
        _lastProbe = now;
        _probeStreak = 0;
        _medianCount = 0;
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

        // Whole tokens worth ~100 ms, refilled by elapsed time (not per timer tick), so a late timer on a busy machine
        // costs nothing up to that.
        var tokens = Math.Max(1, (int)Math.Round(rate / 10));
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
