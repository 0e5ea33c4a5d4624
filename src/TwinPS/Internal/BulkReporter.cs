using System.Diagnostics;
using System.Globalization;
using System.Management.Automation;
using TwinPS.Client;
using TwinPS.Client.Resilience;
using TwinPS.Protocol;

namespace TwinPS.Internal;

/// <summary>
/// What a long-running cmdlet shows while it works on one hub connection: a progress record about twice a second once
/// the work has run for half a second (done / total when known, the rate, items waiting on the hub's throttle and the
/// learned pace), and a verbose line for every back-off and every change of the learned rate on the connection.
/// All writes go through the cmdlet's pipeline-thread queue.
/// </summary>
internal sealed class BulkReporter : IDisposable
{
    private static readonly TimeSpan FirstAfter = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan Every = TimeSpan.FromMilliseconds(500);

    private readonly AsyncCmdlet _cmdlet;
    private readonly HubResilience _resilience;
    private readonly ThrottleClass _class;
    private readonly string _activity;
    private readonly int _activityId;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly Timer _timer;
    private long _total = -1;
    private long _done;
    private long _failed;
    private int _wrote;
    private int _closed;

    public BulkReporter(AsyncCmdlet cmdlet, IoTHubServiceClient client, string activity, ThrottleClass throttleClass, int activityId)
    {
        _cmdlet = cmdlet;
        _resilience = client.Resilience;
        _class = throttleClass;
        _activity = activity;
        _activityId = activityId;
        _resilience.RetryScheduled += OnRetry;
        _resilience.RateChanged += OnRateChanged;
        _timer = new Timer(_ => Tick(), null, FirstAfter, Every);
    }

    /// <summary>What the items are called in the status line ("twins", "devices", "results").</summary>
    public string Noun { get; set; } = "items";

    /// <summary>Extra text for the status line (e.g. pages fetched).</summary>
    public Func<string?>? Detail { get; set; }

    /// <summary>Adds to the number of items expected (call only when the whole input is known, e.g. -DeviceId arrays).</summary>
    public void AddExpected(long count)
    {
        if (Interlocked.CompareExchange(ref _total, count, -1) != -1)
        {
            Interlocked.Add(ref _total, count);
        }
    }

    /// <summary>One item ended (as output or as an error).</summary>
    public void ItemDone(bool failed = false)
    {
        Interlocked.Increment(ref _done);
        if (failed)
        {
            Interlocked.Increment(ref _failed);
        }
    }

    /// <summary>Writes the final (completed) progress record if any was shown, and stops reporting.</summary>
    public void Complete()
    {
        if (Interlocked.Exchange(ref _closed, 1) != 0)
        {
            return;
        }

        _timer.Dispose();
        _resilience.RetryScheduled -= OnRetry;
        _resilience.RateChanged -= OnRateChanged;
        if (Volatile.Read(ref _wrote) != 0)
        {
            _cmdlet.WriteProgressSafe(new ProgressRecord(_activityId, _activity, Status()) { RecordType = ProgressRecordType.Completed });
        }
    }

    public void Dispose()
    {
        Interlocked.Exchange(ref _closed, 1);
        _timer.Dispose();
        _resilience.RetryScheduled -= OnRetry;
        _resilience.RateChanged -= OnRateChanged;
    }

    /// <summary>Writes a progress record now (e.g. after each page of a query).</summary>
    public void Report() => Tick();

    private void Tick()
    {
        if (Volatile.Read(ref _closed) != 0)
        {
            return;
        }

        var total = Interlocked.Read(ref _total);
        var done = Interlocked.Read(ref _done);
        if (total is 0 or 1)
        {
            return; // one item: its own output (or a confirmation prompt) says enough
        }

        var record = new ProgressRecord(_activityId, _activity, Status())
        {
            PercentComplete = total > 0 ? (int)Math.Min(100, done * 100 / total) : -1,
        };
        var perSecond = done / Math.Max(_clock.Elapsed.TotalSeconds, 0.001);
        if (total > 0 && perSecond > 0)
        {
            record.SecondsRemaining = (int)Math.Ceiling(Math.Max(0, total - done) / perSecond);
        }

        Volatile.Write(ref _wrote, 1);
        _cmdlet.WriteProgressSafe(record);
    }

    private string Status()
    {
        var total = Interlocked.Read(ref _total);
        var done = Interlocked.Read(ref _done);
        var failed = Interlocked.Read(ref _failed);
        var seconds = Math.Max(_clock.Elapsed.TotalSeconds, 0.001);
        var state = _resilience.GetState(_class);
        var text = total > 0
            ? string.Create(CultureInfo.InvariantCulture, $"{done} of {total} {Noun} done")
            : string.Create(CultureInfo.InvariantCulture, $"{done} {Noun} so far");
        if (failed > 0)
        {
            text += string.Create(CultureInfo.InvariantCulture, $" ({failed} failed)");
        }

        text += string.Create(CultureInfo.InvariantCulture, $", {done / seconds:0.#}/s, {state.Waiting} waiting on the hub's throttle");
        if (state.LearnedRate is double rate)
        {
            text += string.Create(CultureInfo.InvariantCulture, $" (paced at {rate:0.#}/s)");
        }

        if (Detail?.Invoke() is { Length: > 0 } detail)
        {
            text += ", " + detail;
        }

        return text;
    }

    private void OnRetry(object? sender, RetryScheduledEventArgs e)
    {
        if (Volatile.Read(ref _closed) == 0)
        {
            _cmdlet.WriteVerboseSafe("Back-off: " + e);
        }
    }

    private void OnRateChanged(object? sender, RateChangedEventArgs e)
    {
        if (Volatile.Read(ref _closed) == 0)
        {
            _cmdlet.WriteVerboseSafe("Learned rate: " + e);
        }
    }
}
