using System.Security.Cryptography.X509Certificates;
using Azure.Core;

namespace TwinPS.Client;

/// <summary>
/// Options for <see cref="IoTHubServiceClient"/>: retry (<see cref="ClientOptions.Retry"/>, defaults tuned for IoT Hub),
/// SAS token lifetime, and the one extra CA certificate this client trusts. Logging goes to Azure.Core's
/// <c>AzureEventSource</c>; the client always turns content logging off (bodies carry device keys), never logs the
/// <c>Authorization</c> header, and sends its own <c>User-Agent</c> (Azure.Core's telemetry header is disabled).
/// </summary>
public sealed class IoTHubServiceClientOptions : ClientOptions
{
    /// <summary>Default base delay before retrying a 500 or 504 answer (doubled per retry, jittered).</summary>
    public static readonly TimeSpan DefaultRetryDelay = TimeSpan.FromSeconds(1);

    /// <summary>Default cap of one back-off delay after a 500/504 or a lost answer.</summary>
    public static readonly TimeSpan DefaultMaxRetryDelay = TimeSpan.FromSeconds(10);

    /// <summary>Default base delay after a 429 or 503 ("The request has been throttled. Wait 10 seconds and try again.").</summary>
    public static readonly TimeSpan DefaultThrottleRetryDelay = TimeSpan.FromSeconds(10);

    /// <summary>Default cap of one back-off delay after a 429 or 503.</summary>
    public static readonly TimeSpan DefaultThrottleMaxRetryDelay = TimeSpan.FromSeconds(60);

    /// <summary>Default time budget of one request's retries.</summary>
    public static readonly TimeSpan DefaultRetryTimeout = TimeSpan.FromMinutes(5);

    /// <summary>Default base delay between retries after a network failure (no response): short, so a wrong host fails fast.</summary>
    public static readonly TimeSpan DefaultNetworkRetryDelay = TimeSpan.FromMilliseconds(250);

    /// <summary>Default number of retries after a 500/504 or a lost answer (429 and 503 are bounded by <see cref="RetryTimeout"/> only).</summary>
    public const int DefaultMaxRetries = 5;

    /// <summary>Default per-try network timeout; generous because IoT Hub queues (shapes) requests over its limits.</summary>
    public static readonly TimeSpan DefaultNetworkTimeout = TimeSpan.FromSeconds(100);

    /// <summary>Default lifetime of a SAS token signed from a connection string.</summary>
    public static readonly TimeSpan DefaultSasTokenTimeToLive = TimeSpan.FromHours(1);

    /// <summary>Creates options with IoT Hub defaults (429/503: 10 s jittered back-off; 500/504/lost answers: 1 s exponential,
    /// 5 retries; a 5-minute retry budget per request; 100 s per try; adaptive pacing on).</summary>
    public IoTHubServiceClientOptions()
    {
        Retry.Mode = RetryMode.Exponential;
        Retry.Delay = DefaultRetryDelay;
        Retry.MaxDelay = DefaultMaxRetryDelay;
        Retry.MaxRetries = DefaultMaxRetries;
        Retry.NetworkTimeout = DefaultNetworkTimeout;
        // Request/response bodies carry device keys: they are never logged (see IoTHubServiceClient).
        Diagnostics.IsLoggingContentEnabled = false;
    }

    /// <summary>
    /// Base delay (doubled per retry, with jitter, capped by <see cref="RetryOptions.MaxDelay"/>) after a network failure or
    /// timeout; <see cref="RetryOptions.Delay"/> is the base after a 429/500/503/504 response. Default 250 ms.
    /// </summary>
    public TimeSpan NetworkRetryDelay { get; set; } = DefaultNetworkRetryDelay;

    /// <summary>
    /// The time budget of one request's retries, counted from its first attempt: no retry starts after it (whatever the
    /// cause), and the last answer or failure is returned. <see cref="TimeSpan.Zero"/>: never retry. Default 5 minutes.
    /// </summary>
    public TimeSpan RetryTimeout { get; set; } = DefaultRetryTimeout;

    /// <summary>Base delay after a 429 or 503 without Retry-After (grows 1.5x per retry up to <see cref="ThrottleMaxRetryDelay"/>, ±20 % jitter). Default 10 s.</summary>
    public TimeSpan ThrottleRetryDelay { get; set; } = DefaultThrottleRetryDelay;

    /// <summary>Cap of one delay after a 429 or 503. Default 60 s.</summary>
    public TimeSpan ThrottleMaxRetryDelay { get; set; } = DefaultThrottleMaxRetryDelay;

    /// <summary>
    /// Whether the client learns each throttle class's rate from 429 answers and queueing latency and paces requests just
    /// under it (default true). Shared by everything that uses this client.
    /// </summary>
    public bool AdaptiveRate { get; set; } = true;

    /// <summary>Lifetime of each SAS token (default 1 hour). Tokens are cached and renewed before they expire.</summary>
    public TimeSpan SasTokenTimeToLive { get; set; } = DefaultSasTokenTimeToLive;

    /// <summary>
    /// How long before expiry a cached SAS token is renewed. Null (default): 5 minutes, or a fifth of
    /// <see cref="SasTokenTimeToLive"/> when that is shorter than 25 minutes.
    /// </summary>
    public TimeSpan? SasTokenRenewalMargin { get; set; }

    /// <summary>One extra CA certificate trusted for this client only (e.g. the emulator's CA), besides the system store.</summary>
    public X509Certificate2? TrustedCACertificate { get; set; }

    /// <summary>Path of a PEM (or DER) file holding the one extra CA certificate; used when <see cref="TrustedCACertificate"/> is null.</summary>
    public string? TrustedCACertificatePath { get; set; }

    /// <summary>Maximum pooled connections per server (default 64).</summary>
    public int MaxConnectionsPerServer { get; set; } = 64;
}
