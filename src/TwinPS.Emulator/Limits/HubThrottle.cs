using System.Diagnostics;
using System.Text.Json;
using TwinPS.Protocol;

namespace TwinPS.Emulator.Limits;

/// <summary>How requests over a class's rate are treated.</summary>
internal enum ThrottleMode
{
    /// <summary>Traffic shaping: wait in a bounded backlog and be served at the rate; 429002 when the backlog is full, 429003 after waiting too long.</summary>
    Shape,

    /// <summary>429001 <c>ThrottlingException</c> at once.</summary>
    Strict,
}

/// <summary>The answer of <see cref="HubThrottle.AcquireAsync"/>: admitted (no error), or the 429 to send.</summary>
internal readonly record struct ThrottleOutcome(IoTHubProtocolException? Error)
{
    public static ThrottleOutcome Admit => default;

    public bool Admitted => Error is null;
}

/// <summary>
/// The emulator's tier throttling, shared by the REST endpoint, the MQTT endpoint and the job runner. When no tier and
/// no <c>--rate</c> is given every call is admitted at once (an ideal hub).
/// <para>
/// Use: <c>ThrottleOutcome o = await throttle.AcquireAsync(ThrottleClass.JobDevice, 1, ct);</c> then either proceed
/// (<c>o.Admitted</c>) or answer <c>o.Error</c> (an <see cref="IoTHubProtocolException"/> carrying 429001, 429002 or
/// 429003 and the hub's message). <see cref="EnsureAsync"/> throws that error instead. <see cref="MaxActiveJobs"/> is the
/// tier's concurrent job slots (null without a tier).
/// </para>
/// <para>
/// Not built on <c>System.Threading.RateLimiting.TokenBucketRateLimiter</c>, for three reasons found in its source
/// (dotnet/runtime): with manual replenishment its clock does not advance while the bucket is full, so the first
/// replenish after an idle spell credits the whole spell and the bucket refills at once after the first burst (up to
/// twice the burst); with automatic replenishment it adds a fixed amount per timer tick, so a late timer on a busy
/// machine lowers the rate below the published one; and a request may not cost more than the bucket holds, while a bulk
/// registry request of 100 entries must be admitted (and charged) against a bucket of 2 under <c>--throttle strict</c>.
/// The bucket here refills from a monotonic clock at every look, may go into debt for one large request, and counts
/// the backlog in requests.
/// </para>
/// </summary>
internal sealed class HubThrottle : IDisposable
{
    /// <summary>The 429 text of the classic envelope (after <c>ErrorCode:Name;</c>).</summary>
    public const string ThrottledMessagePrefix = "The request has been throttled. Wait 10 seconds and try again. Operation type: ";

    private static readonly TimeSpan TickInterval = TimeSpan.FromMilliseconds(10);

    private readonly Bucket?[] _buckets;
    private readonly Timer? _timer;
    private readonly long[] _admitted = new long[ThrottleClasses.SlotCount];
    private readonly long[] _queued = new long[ThrottleClasses.SlotCount];
    private readonly long[,] _throttled = new long[ThrottleClasses.SlotCount, 3];

    public HubThrottle(ThrottleSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        Settings = settings;
        _buckets = new Bucket?[ThrottleClasses.SlotCount];
        foreach ((ThrottleClass c, double rate) in settings.Rates)
            _buckets[(int)c] = new Bucket(rate, settings.BurstSeconds);
        if (settings.IsEnabled)
            _timer = new Timer(_ => ServeQueues(), null, TickInterval, TickInterval);
    }

    public ThrottleSettings Settings { get; }

    /// <summary>Whether any class is throttled.</summary>
    public bool IsEnabled => Settings.IsEnabled;

    /// <summary>Concurrent v2 jobs the configured tier allows (1/1/5/10 for F1/S1/S2/S3); null when no tier is set (no limit).</summary>
    public int? MaxActiveJobs => Settings.Tier?.MaxActiveJobs;

    /// <summary>Whether <paramref name="throttleClass"/> has a budget (otherwise it is always admitted).</summary>
    public bool IsLimited(ThrottleClass throttleClass) => _buckets[(int)throttleClass] is not null;

    /// <summary>
    /// Charges <paramref name="cost"/> units of <paramref name="throttleClass"/>. Under <c>strict</c> the answer is
    /// immediate; under <c>shape</c> the call may wait in the class's backlog until the budget allows it (bounded by
    /// <c>--backlog-timeout</c>). Cancelling <paramref name="cancellationToken"/> (the client went away) throws
    /// <see cref="OperationCanceledException"/> and charges nothing.
    /// </summary>
    public async ValueTask<ThrottleOutcome> AcquireAsync(ThrottleClass throttleClass, int cost, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(cost);
        int index = (int)throttleClass;
        Bucket? bucket = _buckets[index];
        if (bucket is null)
        {
            Interlocked.Increment(ref _admitted[index]);
            return ThrottleOutcome.Admit;
        }

        IoTHubErrorCode? refusal;
        if (Settings.Mode == ThrottleMode.Strict)
        {
            refusal = bucket.TryTake(cost) ? null : IoTHubErrorCode.ThrottlingException;
        }
        else
        {
            Bucket.Waiter? waiter = bucket.TakeOrQueue(cost, Settings.Backlog);
            if (waiter is null)
            {
                refusal = null;
            }
            else if (waiter == Bucket.Waiter.BacklogFull)
            {
                refusal = IoTHubErrorCode.ThrottleBacklogLimitExceeded;
            }
            else
            {
                Interlocked.Increment(ref _queued[index]);
                refusal = await waiter.WaitAsync(bucket, Settings.BacklogTimeout, cancellationToken).ConfigureAwait(false)
                    ? null
                    : IoTHubErrorCode.ThrottlingBacklogTimeout;
            }
        }

        if (refusal is not IoTHubErrorCode code)
        {
            Interlocked.Increment(ref _admitted[index]);
            return ThrottleOutcome.Admit;
        }

        Interlocked.Increment(ref _throttled[index, (int)code - (int)IoTHubErrorCode.ThrottlingException]);
        return new ThrottleOutcome(Throttled(code, throttleClass));
    }

    /// <summary>
    /// For the hub's own workers (the job runner): waits, in either mode and with no backlog limit or timeout, until
    /// <paramref name="cost"/> units of <paramref name="throttleClass"/> are available, then takes them. A real hub's job
    /// engine paces itself at the jobs device-operation rate; it is never answered 429.
    /// </summary>
    public async ValueTask WaitAsync(ThrottleClass throttleClass, int cost, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(cost);
        int index = (int)throttleClass;
        Bucket? bucket = _buckets[index];
        if (bucket is not null && bucket.TakeOrQueue(cost, int.MaxValue) is Bucket.Waiter waiter)
        {
            Interlocked.Increment(ref _queued[index]);
            await waiter.WaitAsync(bucket, Timeout.InfiniteTimeSpan, cancellationToken).ConfigureAwait(false);
        }

        Interlocked.Increment(ref _admitted[index]);
    }

    /// <summary>As <see cref="AcquireAsync"/>, but throws the 429 (an <see cref="IoTHubProtocolException"/>) when refused.</summary>
    public async ValueTask EnsureAsync(ThrottleClass throttleClass, int cost, CancellationToken cancellationToken)
    {
        ThrottleOutcome outcome = await AcquireAsync(throttleClass, cost, cancellationToken).ConfigureAwait(false);
        if (outcome.Error is not null) throw outcome.Error;
    }

    /// <summary>The hub's 429 for a class: classic envelope text "… Wait 10 seconds and try again. Operation type: X".</summary>
    public static IoTHubProtocolException Throttled(IoTHubErrorCode code, ThrottleClass throttleClass) =>
        new(code, ThrottledMessagePrefix + ThrottleClasses.OperationType(throttleClass));

    /// <summary>Requests admitted for a class (throttled or not).</summary>
    public long AdmittedCount(ThrottleClass throttleClass) => Interlocked.Read(ref _admitted[(int)throttleClass]);

    /// <summary>Requests refused with <paramref name="code"/> (429001, 429002 or 429003) for a class.</summary>
    public long ThrottledCount(ThrottleClass throttleClass, IoTHubErrorCode code) =>
        Interlocked.Read(ref _throttled[(int)throttleClass, (int)code - (int)IoTHubErrorCode.ThrottlingException]);

    /// <summary>Writes <c>{"total":n,"byClass":{"twinRead":{"admitted":…,"queued":…,"ThrottlingException":…,…},…}}</c>.</summary>
    public void WriteStatistics(Utf8JsonWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        IoTHubErrorCode[] codes = [IoTHubErrorCode.ThrottlingException, IoTHubErrorCode.ThrottleBacklogLimitExceeded, IoTHubErrorCode.ThrottlingBacklogTimeout];
        long total = 0;
        foreach (ThrottleClass c in ThrottleClasses.Metered)
        {
            foreach (IoTHubErrorCode code in codes) total += ThrottledCount(c, code);
        }

        writer.WriteStartObject();
        writer.WriteNumber("total", total);
        writer.WriteStartObject("byCode");
        foreach (IoTHubErrorCode code in codes)
            writer.WriteNumber(IoTHubErrors.NameOf(code), ThrottleClasses.Metered.Sum(c => ThrottledCount(c, code)));
        writer.WriteEndObject();
        writer.WriteStartObject("byClass");
        foreach (ThrottleClass c in ThrottleClasses.Metered)
        {
            writer.WriteStartObject(ThrottleClasses.NameOf(c));
            writer.WriteNumber("admitted", AdmittedCount(c));
            writer.WriteNumber("queued", Interlocked.Read(ref _queued[(int)c]));
            foreach (IoTHubErrorCode code in codes) writer.WriteNumber(IoTHubErrors.NameOf(code), ThrottledCount(c, code));
            writer.WriteEndObject();
        }

        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    public void Dispose() => _timer?.Dispose();

    private void ServeQueues()
    {
        foreach (Bucket? bucket in _buckets) bucket?.Serve();
    }

    /// <summary>
    /// One class's token bucket: holds at most <c>rate × burst</c> tokens (at least one), refilled continuously from a
    /// monotonic clock. A request is admitted when the backlog is empty and the bucket holds its cost, or (for a request
    /// costing more than the whole bucket) when the bucket is full; the balance may then go negative, and later requests
    /// wait until the debt is repaid. Waiters are served first-come first-served.
    /// </summary>
    private sealed class Bucket
    {
        private readonly object _gate = new();
        private readonly double _tokensPerTick;
        private readonly double _capacity;
        private readonly LinkedList<Waiter> _backlog = new();
        private double _tokens;
        private long _stamp;

        public Bucket(double ratePerSecond, double burstSeconds)
        {
            _tokensPerTick = ratePerSecond / Stopwatch.Frequency;
            _capacity = Math.Max(1.0, Math.Floor((ratePerSecond * burstSeconds) + 1e-9));
            _tokens = _capacity;
            _stamp = Stopwatch.GetTimestamp();
        }

        /// <summary>Strict: take now or refuse.</summary>
        public bool TryTake(int cost)
        {
            lock (_gate)
            {
                Refill();
                return _backlog.Count == 0 && TryTakeLocked(cost);
            }
        }

        /// <summary>Shape: null when taken at once, <see cref="Waiter.BacklogFull"/> when the backlog is full, else the queued waiter.</summary>
        public Waiter? TakeOrQueue(int cost, int backlogLimit)
        {
            lock (_gate)
            {
                Refill();
                if (_backlog.Count == 0 && TryTakeLocked(cost)) return null;
                if (_backlog.Count >= backlogLimit) return Waiter.BacklogFull;
                var waiter = new Waiter(cost);
                waiter.Node = _backlog.AddLast(waiter);
                return waiter;
            }
        }

        /// <summary>Admits waiters, oldest first, while the budget allows.</summary>
        public void Serve()
        {
            List<Waiter>? admitted = null;
            lock (_gate)
            {
                if (_backlog.Count == 0) return;
                Refill();
                while (_backlog.First is { } first && TryTakeLocked(first.Value.Cost))
                {
                    _backlog.RemoveFirst();
                    first.Value.Node = null;
                    (admitted ??= []).Add(first.Value);
                }
            }

            if (admitted is null) return;
            foreach (Waiter w in admitted) w.Complete(true);
        }

        /// <summary>Removes a waiter that gave up; false when it was admitted meanwhile.</summary>
        public bool Withdraw(Waiter waiter)
        {
            lock (_gate)
            {
                if (waiter.Node is null) return false;
                _backlog.Remove(waiter.Node);
                waiter.Node = null;
                return true;
            }
        }

        private bool TryTakeLocked(int cost)
        {
            if (_tokens >= Math.Min(cost, _capacity))
            {
                _tokens -= cost;
                return true;
            }

            return false;
        }

        private void Refill()
        {
            long now = Stopwatch.GetTimestamp();
            _tokens = Math.Min(_capacity, _tokens + ((now - _stamp) * _tokensPerTick));
            _stamp = now;
        }

        /// <summary>A request waiting in the backlog.</summary>
        public sealed class Waiter(int cost)
        {
            /// <summary>Marker: the backlog was full.</summary>
            public static readonly Waiter BacklogFull = new(0);

            private readonly TaskCompletionSource<bool> _done = new(TaskCreationOptions.RunContinuationsAsynchronously);

            public int Cost { get; } = cost;

            /// <summary>Its place in the backlog (null once admitted or withdrawn); guarded by the bucket's lock.</summary>
            public LinkedListNode<Waiter>? Node { get; set; }

            public void Complete(bool admitted) => _done.TrySetResult(admitted);

            /// <summary>True when admitted; false after <paramref name="timeout"/> in the backlog; throws when cancelled.</summary>
            public async Task<bool> WaitAsync(Bucket bucket, TimeSpan timeout, CancellationToken cancellationToken)
            {
                using var timer = new CancellationTokenSource(timeout);
                using var linked = CancellationTokenSource.CreateLinkedTokenSource(timer.Token, cancellationToken);
                try
                {
                    return await _done.Task.WaitAsync(linked.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    // Admitted in the same instant: keep the admission (its tokens are spent).
                    if (!bucket.Withdraw(this)) return true;
                    cancellationToken.ThrowIfCancellationRequested();
                    return false;
                }
            }
        }
    }
}
