using System.Diagnostics;
using System.Globalization;
using Azure.Core;
using Azure.Core.Pipeline;
using TwinPS.Client.Resilience;
using TwinPS.Protocol;

namespace TwinPS.Client.Http;

/// <summary>
/// IoT Hub's retry rules on Azure.Core's retry loop (which it derives from):
/// <list type="bullet">
/// <item>429 (every ThrottlingException/ThrottleBacklogLimitExceeded/ThrottlingBacklogTimeout) and 503 back off the way
/// the hub asks, about 10 s (jittered, growing to a cap), or what a <c>Retry-After</c> header says if the hub sends one.
/// A 429 on a request class the connection already paces (the hub answered it successfully in the last seconds) only
/// waits briefly and then queues for its turn at the learned, just lowered, pace (see <see cref="AdaptiveRate"/>).</item>
/// <item>500, 504 and failures without an answer (connection reset, per-try timeout) are retried briefly (a short
/// exponential back-off) and at most <see cref="RetryOptions.MaxRetries"/> times.</item>
/// <item>Every retry must start within the request's time budget (<see cref="IoTHubServiceClientOptions.RetryTimeout"/>,
/// counted from the first attempt): past it the last answer is the result.</item>
/// <item>Every attempt's outcome is reported to <see cref="LostAnswer"/>, which remembers on the message whether an
/// attempt may have been applied without the client knowing, so a write whose retry is refused (412/409/404) can be
/// judged by reading back (see <see cref="IoTHubServiceClient"/>).</item>
/// </list>
/// The classifier of a message decides what may be retried at all (per request: direct methods only on 429).
/// </summary>
internal sealed class IoTHubRetryPolicy : RetryPolicy
{
    private readonly HubResilience _resilience;
    private readonly TimeSpan _retryTimeout;
    private readonly TimeSpan _throttleDelay;
    private readonly TimeSpan _throttleMaxDelay;
    private readonly TimeSpan _transientDelay;
    private readonly TimeSpan _networkDelay;
    private readonly TimeSpan _transientMaxDelay;
    private readonly int _maxTransientRetries;

    public IoTHubRetryPolicy(IoTHubServiceClientOptions options, HubResilience resilience)
        : base(int.MaxValue, new RetryAfterOnlyDelay())
    {
        _resilience = resilience;
        _retryTimeout = options.RetryTimeout;
        _throttleDelay = options.ThrottleRetryDelay;
        _throttleMaxDelay = options.ThrottleMaxRetryDelay < options.ThrottleRetryDelay ? options.ThrottleRetryDelay : options.ThrottleMaxRetryDelay;
        _transientDelay = options.Retry.Delay;
        _networkDelay = options.NetworkRetryDelay;
        _transientMaxDelay = options.Retry.MaxDelay;
        _maxTransientRetries = options.Retry.MaxRetries;
    }

    protected override async ValueTask<bool> ShouldRetryAsync(HttpMessage message, Exception? exception)
    {
        if (!Decide(message, exception, out var plan))
        {
            return false;
        }

        // Wait here, not in the base loop, so the wait is cancellable and counted as "waiting on the hub's throttle".
        // (A Retry-After the hub sent is waited for by the base loop: the plan's own delay is zero then.)
        var rate = _resilience.For(plan.Class);
        if (plan.Throttled)
        {
            rate.EnterBackoff();
        }

        try
        {
            await Task.Delay(plan.Delay, message.CancellationToken).ConfigureAwait(false);
        }
        finally
        {
            if (plan.Throttled)
            {
                rate.LeaveBackoff();
            }
        }

        return true;
    }

    protected override bool ShouldRetry(HttpMessage message, Exception? exception)
    {
        if (!Decide(message, exception, out var plan))
        {
            return false;
        }

        Thread.Sleep(plan.Delay);
        return true;
    }

    private bool Decide(HttpMessage message, Exception? exception, out Plan plan)
    {
        plan = new Plan(ThrottleClass.Other, TimeSpan.Zero, false);
        var hasAnswer = exception is null && message.HasResponse;
        var status = hasAnswer ? message.Response.Status : 0;
        LostAnswer.Observe(message, exception);

        var retriable = exception is not null
            ? message.ResponseClassifier.IsRetriable(message, exception)
            : message.HasResponse && message.ResponseClassifier.IsRetriableResponse(message);
        if (!retriable)
        {
            return false;
        }

        var throttleClass = ThrottleClassifier.Classify(message);
        var rate = _resilience.For(throttleClass);
        var throttled = status is 429 or 503;
        var counts = Counts(message);
        TimeSpan delay;
        TimeSpan? budgetDelay = null;
        var paced = false;
        if (throttled)
        {
            counts.Throttled++;
            var retryAfter = RetryAfter(message);
            if (retryAfter is TimeSpan asked)
            {
                // The base loop waits for the hub's Retry-After; the budget check below counts it.
                delay = TimeSpan.Zero;
                budgetDelay = asked;
            }
            else if (status == 429 && _resilience.IsAdaptive && rate.IsPacing)
            {
                // The hub serves this class at a rate we now pace to: take a short breath, then queue for a turn.
                paced = true;
                var slot = rate.Rate is double r and > 0 ? TimeSpan.FromSeconds(2 / r) : TimeSpan.Zero;
                var floor = TimeSpan.FromMilliseconds(200);
                delay = Jitter(slot > floor ? (slot < TimeSpan.FromSeconds(2) ? slot : TimeSpan.FromSeconds(2)) : floor, 0.5);
            }
            else
            {
                var grown = _throttleDelay.TotalMilliseconds * Math.Pow(1.5, Math.Min(counts.Throttled - 1, 20));
                delay = Jitter(TimeSpan.FromMilliseconds(Math.Min(grown, _throttleMaxDelay.TotalMilliseconds)), 0.2);
            }
        }
        else
        {
            counts.Transient++;
            if (counts.Transient > _maxTransientRetries)
            {
                return false;
            }

            var baseDelay = hasAnswer ? _transientDelay : _networkDelay;
            var grown = baseDelay.TotalMilliseconds * Math.Pow(2, Math.Min(counts.Transient - 1, 20));
            delay = Jitter(TimeSpan.FromMilliseconds(Math.Min(grown, _transientMaxDelay.TotalMilliseconds)), 0.2);
        }

        var elapsed = DateTimeOffset.UtcNow - message.ProcessingContext.StartTime;
        if (elapsed + (budgetDelay ?? delay) > _retryTimeout)
        {
            return false;
        }

        plan = new Plan(throttleClass, delay, throttled);
        var code = hasAnswer ? ErrorCodeOf(message.Response) : (IsTimeout(exception) ? IoTHubServiceException.TimeoutErrorCode : IoTHubServiceException.ConnectionErrorCode);
        _resilience.OnRetryScheduled(new RetryScheduledEventArgs(
            throttleClass, message.Request.Method.Method, message.Request.Uri.Path, status, code, budgetDelay ?? delay, counts.Throttled + counts.Transient, paced));
        return true;
    }

    private static Counts Counts(HttpMessage message)
    {
        if (message.TryGetProperty(typeof(Counts), out var value) && value is Counts counts)
        {
            return counts;
        }

        counts = new Counts();
        message.SetProperty(typeof(Counts), counts);
        return counts;
    }

    private static bool IsTimeout(Exception? exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is TimeoutException or TaskCanceledException or OperationCanceledException)
            {
                return true;
            }
        }

        return false;
    }

    private static string ErrorCodeOf(Azure.Response response)
    {
        if (response.Headers.TryGetValue(IoTHubErrorEnvelope.ErrorCodeHeader, out var code) && !string.IsNullOrEmpty(code))
        {
            return code;
        }

        return response.Status switch
        {
            429 => "GenericTooManyRequests",
            500 => "ServerError",
            503 => "ServiceUnavailable",
            504 => "GatewayTimeout",
            _ => response.Status.ToString(CultureInfo.InvariantCulture),
        };
    }

    /// <summary>Retry-After (seconds or an HTTP date) or retry-after-ms / x-ms-retry-after-ms, if the hub sent one.</summary>
    internal static TimeSpan? RetryAfter(HttpMessage message)
    {
        if (!message.HasResponse)
        {
            return null;
        }

        var headers = message.Response.Headers;
        foreach (var name in new[] { "retry-after-ms", "x-ms-retry-after-ms" })
        {
            if (headers.TryGetValue(name, out var ms) && double.TryParse(ms, NumberStyles.Float, CultureInfo.InvariantCulture, out var millis) && millis >= 0)
            {
                return TimeSpan.FromMilliseconds(Math.Min(millis, TimeSpan.FromHours(1).TotalMilliseconds));
            }
        }

        if (headers.TryGetValue("Retry-After", out var text) && !string.IsNullOrWhiteSpace(text))
        {
            if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) && seconds >= 0)
            {
                return TimeSpan.FromSeconds(Math.Min(seconds, 3600));
            }

            if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var when))
            {
                var wait = when - DateTimeOffset.UtcNow;
                return wait < TimeSpan.Zero ? TimeSpan.Zero : (wait > TimeSpan.FromHours(1) ? TimeSpan.FromHours(1) : wait);
            }
        }

        return null;
    }

    private static TimeSpan Jitter(TimeSpan delay, double spread) =>
        TimeSpan.FromMilliseconds(delay.TotalMilliseconds * (1 - spread + (Random.Shared.NextDouble() * 2 * spread)));

    /// <summary>The base loop's own delay: nothing, except a Retry-After the hub sent (which Azure.Core applies).</summary>
    private sealed class RetryAfterOnlyDelay : DelayStrategy
    {
        protected override TimeSpan GetNextDelayCore(Azure.Response? response, int retryNumber) => TimeSpan.Zero;
    }

    private sealed record Plan(ThrottleClass Class, TimeSpan Delay, bool Throttled);
}

/// <summary>Retries counted per message.</summary>
internal sealed class Counts
{
    public int Throttled { get; set; }

    public int Transient { get; set; }
}

/// <summary>
/// Paces every attempt of a request by the learned rate of its throttle class and feeds the class what the hub answered
/// (a 429, or how long a served request took) so it can learn.
/// </summary>
internal sealed class AdaptiveRatePolicy : HttpPipelinePolicy
{
    private readonly HubResilience _resilience;

    public AdaptiveRatePolicy(HubResilience resilience) => _resilience = resilience;

    public override async ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        var rate = _resilience.For(ThrottleClassifier.Classify(message));
        await rate.AcquireAsync(message.CancellationToken).ConfigureAwait(false);
        var started = Stopwatch.GetTimestamp();
        await ProcessNextAsync(message, pipeline).ConfigureAwait(false);
        Observe(rate, message, started);
    }

    public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        var rate = _resilience.For(ThrottleClassifier.Classify(message));
        rate.AcquireAsync(message.CancellationToken).AsTask().GetAwaiter().GetResult();
        var started = Stopwatch.GetTimestamp();
        ProcessNext(message, pipeline);
        Observe(rate, message, started);
    }

    private static void Observe(AdaptiveRate rate, HttpMessage message, long started)
    {
        if (!message.HasResponse)
        {
            return;
        }

        var status = message.Response.Status;
        if (status == 429)
        {
            message.Response.Headers.TryGetValue(IoTHubErrorEnvelope.ErrorCodeHeader, out var code);
            rate.OnThrottled(string.IsNullOrEmpty(code) ? "GenericTooManyRequests" : code);
        }
        else if (status < 500)
        {
            rate.OnAnswered(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
    }
}
