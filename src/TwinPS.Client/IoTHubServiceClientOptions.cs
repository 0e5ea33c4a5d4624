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
    /// <summary>Default base delay between retries (IoT Hub sends no Retry-After on 429 and says "wait 10 seconds").</summary>
    public static readonly TimeSpan DefaultRetryDelay = TimeSpan.FromSeconds(4);

    /// <summary>Default cap of one back-off delay.</summary>
    public static readonly TimeSpan DefaultMaxRetryDelay = TimeSpan.FromSeconds(60);

    /// <summary>Default base delay between retries after a network failure (no response): short, so a wrong host fails fast.</summary>
    public static readonly TimeSpan DefaultNetworkRetryDelay = TimeSpan.FromMilliseconds(250);

    /// <summary>Default number of retries after the first attempt.</summary>
    public const int DefaultMaxRetries = 5;

    /// <summary>Default per-try network timeout; generous because IoT Hub queues (shapes) requests over its limits.</summary>
    public static readonly TimeSpan DefaultNetworkTimeout = TimeSpan.FromSeconds(100);

    /// <summary>Default lifetime of a SAS token signed from a connection string.</summary>
    public static readonly TimeSpan DefaultSasTokenTimeToLive = TimeSpan.FromHours(1);

    /// <summary>Creates options with IoT Hub defaults (exponential back-off with jitter, 5 retries, 100 s per try).</summary>
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
