using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using TwinPS.Client.Http;
using TwinPS.Client.Resilience;
using TwinPS.Client.Tests.Infrastructure;
using TwinPS.Protocol;
using TwinPS.Testing;

namespace TwinPS.Client.Tests;

/// <summary>
/// The client's retry rules and budgets, its adaptive pacing, and its judgement of writes whose first answer was lost,
/// over real sockets against a scripted HTTPS server.
/// </summary>
public sealed class ResilienceTests(Xunit.Abstractions.ITestOutputHelper output) : IAsyncLifetime
{
    private TestHttpsServer _server = null!;

    public async Task InitializeAsync() => _server = await TestHttpsServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Theory]
    [InlineData(429, "ThrottlingException")]
    [InlineData(429, "ThrottleBacklogLimitExceeded")]
    [InlineData(429, "ThrottlingBacklogTimeout")]
    [InlineData(503, "ServiceUnavailable")]
    public async Task Throttling_and_503_wait_the_throttle_delay_not_the_short_one(int status, string code)
    {
        var times = new ConcurrentQueue<long>();
        var attempts = 0;
        _server.Handler = (_, ctx) =>
        {
            times.Enqueue(Stopwatch.GetTimestamp());
            return Interlocked.Increment(ref attempts) == 1
                ? TestHttpsServer.ReplyError(ctx, status, code, "The request has been throttled. Wait 10 seconds and try again.")
                : TestHttpsServer.Reply(ctx, 200, TestClients.TwinJson("d1"));
        };
        var options = TestClients.FastOptions();
        options.ThrottleRetryDelay = TimeBounds.ThrottleDelay;
        options.ThrottleMaxRetryDelay = TimeBounds.Eventually;
        options.Retry.Delay = TimeSpan.FromMilliseconds(1);
        using var client = TestClients.For(_server, options);

        await client.GetTwinAsync("d1");

        var t = times.ToArray();
        Assert.Equal(2, t.Length);
        var gap = Stopwatch.GetElapsedTime(t[0], t[1]);
        Assert.True(gap >= TimeBounds.ThrottleDelayLowerBound, $"retried after only {gap}");
        Assert.Equal(1, client.Resilience.GetState(ThrottleClass.TwinRead).Retries);
    }

    [Fact]
    public async Task A_Retry_After_header_is_honoured()
    {
        var times = new ConcurrentQueue<long>();
        var attempts = 0;
        _server.Handler = (_, ctx) =>
        {
            times.Enqueue(Stopwatch.GetTimestamp());
            return Interlocked.Increment(ref attempts) == 1
                ? TestHttpsServer.Reply(ctx, 429, """{"Message":"ErrorCode:ThrottlingException;throttled"}""", ("iothub-errorcode", "ThrottlingException"), ("Retry-After", "1"))
                : TestHttpsServer.Reply(ctx, 200, TestClients.TwinJson("d1"));
        };
        using var client = TestClients.For(_server); // throttle delay 5 ms: only the header can make it wait a second

        await client.GetTwinAsync("d1");

        var t = times.ToArray();
        Assert.Equal(2, t.Length);
        // The header asked for 1 s; without it the retry would come after 5 ms.
        Assert.True(Stopwatch.GetElapsedTime(t[0], t[1]) >= TimeBounds.ThrottleDelayLowerBound, $"retried after {Stopwatch.GetElapsedTime(t[0], t[1])}");
    }

    [Fact]
    public async Task Throttling_retries_are_bounded_by_the_time_budget_not_by_the_retry_count()
    {
        var times = new ConcurrentQueue<long>();
        _server.Handler = (_, ctx) =>
        {
            times.Enqueue(Stopwatch.GetTimestamp());
            return TestHttpsServer.ReplyError(ctx, 429, "ThrottlingException");
        };
        var options = TestClients.FastOptions(maxRetries: 1); // the count applies to 500/504/lost answers only
        options.ThrottleRetryDelay = TimeSpan.FromMilliseconds(100);
        options.ThrottleMaxRetryDelay = TimeSpan.FromMilliseconds(150);
        var budget = TimeSpan.FromSeconds(3);
        options.RetryTimeout = budget;
        options.AdaptiveRate = false;
        using var client = TestClients.For(_server, options);
        var started = Stopwatch.GetTimestamp();

        var ex = await Assert.ThrowsAsync<IoTHubServiceException>(() => client.GetTwinAsync("d1"));

        Assert.Equal(429, ex.Status);
        Assert.Equal("ThrottlingException", ex.ErrorCode);
        var t = times.ToArray();
        Assert.True(t.Length > 2, $"only {t.Length} attempts: a retry count, not the time budget, stopped it");
        // The client decides before the budget ends; the request then reaches the server a moment later,
        // which on a loaded shared machine can be hundreds of milliseconds. Without a time budget the
        // 429 retries would never stop, so "the last attempt arrived within a second of the budget" still
        // proves the budget is what ended them.
        var arrivalSlack = TimeSpan.FromSeconds(1);
        Assert.All(t, ts => Assert.True(Stopwatch.GetElapsedTime(started, ts) <= budget + arrivalSlack,
            $"an attempt arrived {Stopwatch.GetElapsedTime(started, ts).TotalSeconds:F2} s after the call began, past the {budget.TotalSeconds} s budget"));
    }

    [Fact]
    public async Task A_zero_time_budget_means_no_retry()
    {
        _server.Handler = (_, ctx) => TestHttpsServer.ReplyError(ctx, 503, "ServiceUnavailable");
        var options = TestClients.FastOptions();
        options.RetryTimeout = TimeSpan.Zero;
        using var client = TestClients.For(_server, options);

        var ex = await Assert.ThrowsAsync<IoTHubServiceException>(() => client.GetTwinAsync("d1"));

        Assert.Equal(503, ex.Status);
        Assert.Single(_server.Requests);
    }

    [Fact]
    public async Task A_connection_reset_is_retried()
    {
        var attempts = 0;
        _server.Handler = (_, ctx) =>
        {
            if (Interlocked.Increment(ref attempts) == 1)
            {
                ctx.Abort();
                return Task.CompletedTask;
            }

            return TestHttpsServer.Reply(ctx, 200, TestClients.TwinJson("d1"));
        };
        using var client = TestClients.For(_server);

        var twin = await client.GetTwinAsync("d1");

        Assert.Equal("d1", twin.DeviceId);
        Assert.Equal(2, attempts);
    }

    [Fact]
    public async Task Retries_are_reported_to_observers_of_the_connection()
    {
        var attempts = 0;
        _server.Handler = (_, ctx) => Interlocked.Increment(ref attempts) == 1
            ? TestHttpsServer.ReplyError(ctx, 429, "ThrottlingBacklogTimeout")
            : TestHttpsServer.Reply(ctx, 200, TestClients.TwinJson("d1"));
        using var client = TestClients.For(_server);
        var seen = new ConcurrentQueue<RetryScheduledEventArgs>();
        client.Resilience.RetryScheduled += (_, e) => seen.Enqueue(e);

        await client.GetTwinAsync("d1");

        var e = Assert.Single(seen);
        Assert.Equal(429, e.Status);
        Assert.Equal("ThrottlingBacklogTimeout", e.ErrorCode);
        Assert.Equal(ThrottleClass.TwinRead, e.Class);
        Assert.Equal("/twins/d1", e.Path);
        Assert.DoesNotContain("sig=", e.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(429, "ThrottlingException", 2)]
    [InlineData(503, "ServiceUnavailable", 1)]
    [InlineData(500, "ServerError", 1)]
    [InlineData(504, "GatewayTimeout", 1)]
    public async Task A_throttling_only_request_is_retried_on_429_and_on_nothing_else(int status, string code, int expectedRequests)
    {
        var attempts = 0;
        _server.Handler = (_, ctx) => Interlocked.Increment(ref attempts) == 1
            ? TestHttpsServer.ReplyError(ctx, status, code)
            : TestHttpsServer.Reply(ctx, 200, """{"status":200,"payload":{}}""");
        using var client = TestClients.For(_server);

        try
        {
            using var message = await client.SendAsync(Azure.Core.RequestMethod.Post, "/twins/d1/methods", new JsonObject { ["methodName"] = "reboot" }, null, null, CancellationToken.None, ThrottlingOnlyResponseClassifier.Apply);
            Assert.Equal(200, message.Response.Status);
        }
        catch (IoTHubServiceException ex)
        {
            Assert.Equal(status, ex.Status);
        }

        Assert.Equal(expectedRequests, _server.Requests.Count);
    }

    [Fact]
    public async Task A_throttling_only_request_is_not_retried_after_a_lost_answer()
    {
        _server.Handler = (_, ctx) =>
        {
            ctx.Abort();
            return Task.CompletedTask;
        };
        using var client = TestClients.For(_server);

        await Assert.ThrowsAsync<IoTHubServiceException>(() => client.SendAsync(
            Azure.Core.RequestMethod.Post, "/twins/d1/methods", new JsonObject { ["methodName"] = "reboot" }, null, null, CancellationToken.None, ThrottlingOnlyResponseClassifier.Apply));

        Assert.Single(_server.Requests);
    }

    [Fact]
    public void Requests_are_classified_by_throttle()
    {
        Assert.Equal(ThrottleClass.TwinRead, ThrottleClassifier.Classify("GET", "/twins/d1"));
        Assert.Equal(ThrottleClass.TwinRead, ThrottleClassifier.Classify("GET", "/twins/d1/modules/m1"));
        Assert.Equal(ThrottleClass.TwinUpdate, ThrottleClassifier.Classify("PATCH", "/twins/d1"));
        Assert.Equal(ThrottleClass.TwinUpdate, ThrottleClassifier.Classify("PUT", "/twins/d1/modules/m1"));
        Assert.Equal(ThrottleClass.Query, ThrottleClassifier.Classify("POST", "/devices/query"));
        Assert.Equal(ThrottleClass.Registry, ThrottleClassifier.Classify("PUT", "/devices/d1"));
        Assert.Equal(ThrottleClass.Registry, ThrottleClassifier.Classify("POST", "/devices"));
        Assert.Equal(ThrottleClass.Registry, ThrottleClassifier.Classify("DELETE", "/devices/d1/modules/m1"));
        Assert.Equal(ThrottleClass.Method, ThrottleClassifier.Classify("POST", "/twins/d1/methods"));
        Assert.Equal(ThrottleClass.Method, ThrottleClassifier.Classify("POST", "/twins/d1/modules/m1/methods"));
        Assert.Equal(ThrottleClass.JobOperation, ThrottleClassifier.Classify("PUT", "/jobs/v2/j1"));
        Assert.Equal(ThrottleClass.Other, ThrottleClassifier.Classify("GET", "/statistics/devices"));
    }

    // ---- adaptive pacing ----

    /// <summary>A strict hub: a token bucket of <paramref name="rate"/>/s holding one second; over it, 429 at once.</summary>
    private static Func<RecordedRequest, HttpContext, Task> StrictHub(double rate, ConcurrentBag<string> served, Counter throttled)
    {
        var gate = new object();
        var tokens = rate;
        var last = Stopwatch.GetTimestamp();
        return (req, ctx) =>
        {
            bool ok;
            lock (gate)
            {
                var now = Stopwatch.GetTimestamp();
                tokens = Math.Min(rate, tokens + (rate * Stopwatch.GetElapsedTime(last, now).TotalSeconds));
                last = now;
                ok = tokens >= 1;
                if (ok)
                {
                    tokens -= 1;
                }
            }

            if (!ok)
            {
                throttled.Increment();
                return TestHttpsServer.ReplyError(ctx, 429, "ThrottlingException", "The request has been throttled. Wait 10 seconds and try again.");
            }

            var id = req.Path["/twins/".Length..];
            served.Add(id);
            return TestHttpsServer.Reply(ctx, 200, TestClients.TwinJson(id));
        };
    }

    [Fact]
    public async Task A_bulk_run_learns_the_hubs_rate_and_finishes_without_errors_and_with_few_throttled_requests()
    {
        const double HubRate = 100;
        var served = new ConcurrentBag<string>();
        var throttled = new Counter();
        _server.Handler = StrictHub(HubRate, served, throttled);
        var options = TestClients.FastOptions();
        options.ThrottleRetryDelay = TimeSpan.FromSeconds(10); // an unpaced 429 would cost 10 s
        options.RetryTimeout = TimeSpan.FromMinutes(2);
        using var client = TestClients.For(_server, options);
        var ids = Enumerable.Range(0, 400).Select(i => "d" + i).ToList();
        var rates = new ConcurrentQueue<RateChangedEventArgs>();
        client.Resilience.RateChanged += (_, e) => rates.Enqueue(e);
        var watch = Stopwatch.StartNew();

        // Two callers at once on one connection (like two cmdlets), 16 in flight between them.
        await Task.WhenAll(
            Parallel.ForEachAsync(ids.Take(200), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (id, ct) => await client.GetTwinAsync(id, null, ct)),
            Parallel.ForEachAsync(ids.Skip(200), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (id, ct) => await client.GetTwinAsync(id, null, ct)));

        Assert.Equal(ids.Count, served.Distinct().Count());
        var state = client.Resilience.GetState(ThrottleClass.TwinRead);
        output.WriteLine($"{ids.Count} reads in {watch.Elapsed.TotalSeconds:0.00} s ({ids.Count / watch.Elapsed.TotalSeconds:0.0}/s, hub {HubRate}/s + 1 s burst); {throttled.Value} throttled; learned {state.LearnedRate:0.0}/s");
        foreach (var r in rates)
        {
            output.WriteLine(r.ToString());
        }

        Assert.NotNull(state.LearnedRate);
        Assert.NotEmpty(rates);
        Assert.All(rates, r => Assert.Equal(ThrottleClass.TwinRead, r.Class));
        // Every pace learned from the hub's answers (each cut: a rate change event) is the hub's rate.
        Assert.All(rates, r => Assert.InRange(r.NewRate, HubRate * 0.5, HubRate * 1.1));
        // Between cuts the pace probes upward, once a second by ProbeGainPerSecond x the streak (2 %, 4 %, 6 %, ...), until
        // the hub's bucket runs dry and a 429 cuts it again: by the end of a run of a few seconds the pace may stand up to
        // three or four probes above the last cut (about 12-20 %), never further.
        Assert.InRange(state.LearnedRate!.Value, rates.Min(r => r.NewRate), HubRate * 1.1 * 1.2);
        // A client without pacing would meet a 429 for nearly every request over the rate; the learned pace keeps
        // them to the learning phase and the occasional probe.
        Assert.True(throttled.Value < ids.Count / 2, $"{throttled.Value} throttled answers for {ids.Count} requests");
        Assert.Null(client.Resilience.GetState(ThrottleClass.TwinUpdate).LearnedRate); // classes learn separately
    }

    [Fact]
    public async Task Without_throttling_nothing_is_paced()
    {
        _server.Handler = (req, ctx) => TestHttpsServer.Reply(ctx, 200, TestClients.TwinJson(req.Path["/twins/".Length..]));
        using var client = TestClients.For(_server);

        await Parallel.ForEachAsync(Enumerable.Range(0, 50), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, ct) => await client.GetTwinAsync("d" + i, null, ct));

        Assert.Null(client.Resilience.GetState(ThrottleClass.TwinRead).LearnedRate);
        Assert.Empty(client.Resilience.GetStates());
    }

    [Fact]
    public async Task A_shaping_hub_that_queues_at_its_rate_is_not_slowed_down_further()
    {
        // Traffic shaping: every request is served, one every 1/HubRate s, in arrival order; 32 in flight wait in the
        // hub's queue, so answers are slow (~32/HubRate s = 320 ms) but steady. The hub is at its limit: pacing below it would only
        // lose throughput.
        const double HubRate = 100;
        var gate = new object();
        var next = Stopwatch.GetTimestamp();
        var served = new ConcurrentBag<string>();
        _server.Handler = async (req, ctx) =>
        {
            long slot;
            lock (gate)
            {
                next = Math.Max(next, Stopwatch.GetTimestamp()) + (long)(Stopwatch.Frequency / HubRate);
                slot = next;
            }

            var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), slot);
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait);
            }

            served.Add(req.Path["/twins/".Length..]);
            await TestHttpsServer.Reply(ctx, 200, TestClients.TwinJson(req.Path["/twins/".Length..]));
        };
        using var client = TestClients.For(_server, TestClients.FastOptions());
        var rates = new ConcurrentQueue<RateChangedEventArgs>();
        client.Resilience.RateChanged += (_, e) => rates.Enqueue(e);

        await Parallel.ForEachAsync(Enumerable.Range(0, 400), new ParallelOptions { MaxDegreeOfParallelism = 32 }, async (i, ct) => await client.GetTwinAsync("d" + i, null, ct));

        Assert.Equal(400, served.Distinct().Count());
        Assert.Empty(rates.Select(r => r.ToString()));
        Assert.Null(client.Resilience.GetState(ThrottleClass.TwinRead).LearnedRate);
    }

    [Fact]
    public void Steady_queueing_latency_sets_no_pace()
    {
        var clock = new ManualClock();
        var changes = new List<string>();
        var rate = new AdaptiveRate(ThrottleClass.TwinUpdate, (c, o, n, why) => changes.Add(why), clock);

        // 50 answers/s for 20 s: fast while the hub's burst lasts, then all ~320 ms (16 queued at 50/s), and a few slow outliers.
        for (var i = 0; i < 1000; i++)
        {
            clock.Advance(TimeSpan.FromMilliseconds(20));
            rate.OnAnswered(i < 50 ? 3 : (i % 97 == 0 ? 1300 : 320 + (i % 7)));
        }

        Assert.Empty(changes);
        Assert.Null(rate.Rate);
    }

    [Fact]
    public void Queueing_latency_that_keeps_growing_paces_at_the_rate_the_hub_serves()
    {
        var clock = new ManualClock();
        var changes = new List<RateChangedEventArgs>();
        var rate = new AdaptiveRate(ThrottleClass.TwinUpdate, (c, o, n, why) => changes.Add(new RateChangedEventArgs(c, o, n, why)), clock);

        // The hub serves 50/s while its queue of our requests grows: each answer waits 4 ms longer than the one before.
        for (var i = 0; i < 300 && rate.Rate is null; i++)
        {
            clock.Advance(TimeSpan.FromMilliseconds(20));
            rate.OnAnswered(5 + (4 * i));
        }

        var change = Assert.Single(changes);
        Assert.Contains("slowing down", change.Reason, StringComparison.Ordinal);
        Assert.InRange(rate.Rate!.Value, 50 * 0.95, 50);
    }

    [Fact]
    public void Under_a_strict_hub_the_pace_settles_at_the_hubs_rate_and_stray_429s_do_not_lower_it()
    {
        // A strict hub of 50/s with a 1 s bucket, simulated in 10 ms steps for 60 s; the client offers as much as its pace
        // allows (unpaced: 16 in flight at 5 ms = 3,200/s) and always has more waiting (demand for the probe).
        const double HubRate = 50;
        var clock = new ManualClock();
        var cuts = new List<double>();
        var rate = new AdaptiveRate(ThrottleClass.TwinUpdate, (c, o, n, why) => cuts.Add(n), clock);
        rate.EnterBackoff(); // requests waiting: the pace is probed upward
        double tokens = HubRate, credit = 0;
        long servedLate = 0;
        var step = TimeSpan.FromMilliseconds(10);
        for (var t = 0; t < 6000; t++)
        {
            clock.Advance(step);
            tokens = Math.Min(HubRate, tokens + (HubRate * step.TotalSeconds));
            credit += (rate.Rate ?? 3200) * step.TotalSeconds;
            for (; credit >= 1; credit--)
            {
                if (tokens >= 1)
                {
                    tokens--;
                    rate.OnAnswered(5);
                    servedLate += t >= 1000 ? 1 : 0;
                }
                else
                {
                    rate.OnThrottled("ThrottlingException");
                }
            }

            if (t % 300 == 150 && rate.Rate < HubRate)
            {
                rate.OnThrottled("ThrottlingException"); // a stray 429 now and then while paced under the hub's rate
            }
        }

        var servedPerSecond = servedLate / 50.0;
        output.WriteLine($"served {servedPerSecond:0.0}/s over the last 50 s; {cuts.Count} cuts: {string.Join(", ", cuts.Select(c => c.ToString("0.0", System.Globalization.CultureInfo.InvariantCulture)))}");
        Assert.True(servedPerSecond >= 0.95 * HubRate, $"served {servedPerSecond:0.0}/s");
        Assert.All(cuts, c => Assert.InRange(c, 0.95 * HubRate, 1.1 * HubRate));
    }

    // ---- lost answers ----

    private static string TwinWith(string id, string etag, string desiredJson) =>
        "{\"deviceId\":\"" + id + "\",\"etag\":\"" + etag + "\",\"version\":3,\"tags\":{},\"properties\":{\"desired\":" + desiredJson + ",\"reported\":{\"$version\":1}}}";

    /// <summary>
    /// A hub that applies the first <paramref name="method"/> request but loses its answer (the connection is aborted),
    /// refuses every later one with <paramref name="status"/> <paramref name="code"/> (as it would once the first was
    /// applied), and answers any other request (the read-back) 200 with <paramref name="readBack"/>.
    /// </summary>
    private static Func<RecordedRequest, HttpContext, Task> LoseFirstThen(string method, int status, string code, string readBack)
    {
        var attempts = 0;
        return (req, ctx) =>
        {
            if (req.Method != method)
            {
                return TestHttpsServer.Reply(ctx, 200, readBack);
            }

            if (Interlocked.Increment(ref attempts) == 1)
            {
                ctx.Abort(); // applied, answer lost
                return Task.CompletedTask;
            }

            return TestHttpsServer.ReplyError(ctx, status, code);
        };
    }

    [Fact]
    public async Task A_conditional_update_whose_answer_was_lost_and_whose_retry_gets_412_is_a_success_when_the_twin_holds_it()
    {
        _server.Handler = LoseFirstThen("PATCH", 412, "PreconditionFailed", TwinWith("d1", "AAAAAAAAAAM=", """{"mode":"eco","level":2.0,"$version":5,"$metadata":{}}"""));
        using var client = TestClients.For(_server);

        var twin = await client.UpdateTwinAsync("d1", null, new TwinPatch { Desired = new JsonObject { ["mode"] = "eco", ["level"] = 2, ["gone"] = null } }, "AAAAAAAAAAE=");

        Assert.Equal("AAAAAAAAAAM=", twin.ETag);
        Assert.Equal("PATCH,PATCH,GET", string.Join(",", _server.Requests.Select(r => r.Method)));
    }

    [Fact]
    public async Task A_lost_answer_then_412_is_still_a_conflict_when_the_twin_holds_something_else()
    {
        _server.Handler = LoseFirstThen("PATCH", 412, "PreconditionFailed", TwinWith("d1", "AAAAAAAAAAM=", """{"mode":"turbo","$version":5}"""));
        using var client = TestClients.For(_server);

        var ex = await Assert.ThrowsAsync<IoTHubServiceException>(() =>
            client.UpdateTwinAsync("d1", null, new TwinPatch { Desired = new JsonObject { ["mode"] = "eco" } }, "AAAAAAAAAAE="));

        Assert.Equal(412, ex.Status);
        Assert.Equal("PreconditionFailed", ex.ErrorCode);
        Assert.Equal("d1", ex.DeviceId);
    }

    [Fact]
    public async Task A_412_on_the_first_attempt_is_a_real_conflict_and_is_not_read_back()
    {
        _server.Handler = (req, ctx) => req.Method == "PATCH"
            ? TestHttpsServer.ReplyError(ctx, 412, "PreconditionFailed")
            : TestHttpsServer.Reply(ctx, 200, TwinWith("d1", "AAAAAAAAAAM=", """{"mode":"eco","$version":5}"""));
        using var client = TestClients.For(_server);

        var ex = await Assert.ThrowsAsync<IoTHubServiceException>(() =>
            client.UpdateTwinAsync("d1", null, new TwinPatch { Desired = new JsonObject { ["mode"] = "eco" } }, "AAAAAAAAAAE="));

        Assert.Equal(412, ex.Status);
        Assert.Equal("PATCH", string.Join(",", _server.Requests.Select(r => r.Method)));
    }

    [Fact]
    public async Task A_replace_whose_answer_was_lost_is_judged_by_the_whole_sections()
    {
        var puts = 0;
        var holdsExtra = false;
        _server.Handler = (req, ctx) =>
        {
            if (req.Method == "PUT")
            {
                if (Interlocked.Increment(ref puts) % 2 == 1)
                {
                    ctx.Abort();
                    return Task.CompletedTask;
                }

                return TestHttpsServer.ReplyError(ctx, 412, "PreconditionFailed");
            }

            var desired = holdsExtra ? """{"a":1,"b":2,"$version":4}""" : """{"a":1,"$version":4}""";
            return TestHttpsServer.Reply(ctx, 200, TwinWith("d1", "AAAAAAAAAAM=", desired));
        };
        using var client = TestClients.For(_server);

        var twin = await client.ReplaceTwinAsync("d1", null, new JsonObject(), new JsonObject { ["a"] = 1 }, "AAAAAAAAAAE=");
        Assert.Equal("AAAAAAAAAAM=", twin.ETag);

        holdsExtra = true; // the twin holds more than was sent: not ours
        var ex = await Assert.ThrowsAsync<IoTHubServiceException>(() => client.ReplaceTwinAsync("d1", null, new JsonObject(), new JsonObject { ["a"] = 1 }, "AAAAAAAAAAE="));
        Assert.Equal(412, ex.Status);
    }

    [Fact]
    public async Task A_delete_whose_answer_was_lost_and_whose_retry_gets_404_is_a_success()
    {
        _server.Handler = LoseFirstThen("DELETE", 404, "DeviceNotFound", "{}");
        using var client = TestClients.For(_server);

        await client.DeleteDeviceAsync("d1", "*");

        Assert.Equal(2, _server.Requests.Count);
    }

    [Fact]
    public async Task A_delete_answered_404_at_once_is_reported()
    {
        _server.Handler = (_, ctx) => TestHttpsServer.ReplyError(ctx, 404, "DeviceNotFound");
        using var client = TestClients.For(_server);

        var ex = await Assert.ThrowsAsync<IoTHubServiceException>(() => client.DeleteDeviceAsync("d1", "*"));

        Assert.Equal("DeviceNotFound", ex.ErrorCode);
    }

    private const string DeviceJson = """{"deviceId":"d1","generationId":"638000000000000001","etag":"MQ==","status":"enabled","connectionState":"Disconnected","authentication":{"type":"sas","symmetricKey":{"primaryKey":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=","secondaryKey":"AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}},"capabilities":{"iotEdge":false}}""";

    [Fact]
    public async Task A_create_whose_answer_was_lost_and_whose_retry_gets_409_is_a_success_when_the_device_is_what_was_sent()
    {
        _server.Handler = LoseFirstThen("PUT", 409, "DeviceAlreadyExists", DeviceJson);
        using var client = TestClients.For(_server);

        var created = await client.CreateDeviceAsync(new DeviceIdentity("d1"));

        Assert.Equal("d1", created.DeviceId);
        Assert.Equal("PUT,PUT,GET", string.Join(",", _server.Requests.Select(r => r.Method)));
    }

    [Fact]
    public async Task A_create_after_a_lost_answer_still_reports_409_when_the_existing_device_differs()
    {
        _server.Handler = LoseFirstThen("PUT", 409, "DeviceAlreadyExists", DeviceJson.Replace("\"enabled\"", "\"disabled\"", StringComparison.Ordinal));
        using var client = TestClients.For(_server);

        var ex = await Assert.ThrowsAsync<IoTHubServiceException>(() => client.CreateDeviceAsync(new DeviceIdentity("d1")));

        Assert.Equal(409, ex.Status);
        Assert.Equal("DeviceAlreadyExists", ex.ErrorCode);
    }

    [Fact]
    public async Task A_create_answered_409_at_once_is_reported()
    {
        _server.Handler = (_, ctx) => TestHttpsServer.ReplyError(ctx, 409, "DeviceAlreadyExists");
        using var client = TestClients.For(_server);

        var ex = await Assert.ThrowsAsync<IoTHubServiceException>(() => client.CreateDeviceAsync(new DeviceIdentity("d1")));

        Assert.Equal(409, ex.Status);
        Assert.Single(_server.Requests);
    }

    [Fact]
    public void Values_are_compared_as_json()
    {
        Assert.True(LostAnswerJudge.Same(JsonNode.Parse("1.0"), JsonValue.Create(1)));
        Assert.False(LostAnswerJudge.Same(JsonNode.Parse("\"1\""), JsonValue.Create(1)));
        Assert.True(LostAnswerJudge.HoldsMergePatch(
            (JsonObject)JsonNode.Parse("""{"a":{"b":1,"c":2},"d":true}""")!,
            (JsonObject)JsonNode.Parse("""{"a":{"b":1},"e":null}""")!));
        Assert.False(LostAnswerJudge.HoldsMergePatch(
            (JsonObject)JsonNode.Parse("""{"a":{"b":1},"e":3}""")!,
            (JsonObject)JsonNode.Parse("""{"a":{"b":1},"e":null}""")!));
    }
}

/// <summary>A counter shared with a handler.</summary>
public sealed class Counter
{
    private int _value;

    public int Value => Volatile.Read(ref _value);

    public void Increment() => Interlocked.Increment(ref _value);
}

/// <summary>A clock the test moves by hand (for the measurements of <see cref="AdaptiveRate"/>).</summary>
internal sealed class ManualClock : TimeProvider
{
    private long _ticks = 1_000_000;

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public override long GetTimestamp() => Interlocked.Read(ref _ticks);

    public void Advance(TimeSpan by) => Interlocked.Add(ref _ticks, by.Ticks);
}
