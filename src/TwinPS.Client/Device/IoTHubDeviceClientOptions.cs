using System.Security.Cryptography.X509Certificates;

namespace TwinPS.Client.Device;

/// <summary>Options for <see cref="IoTHubDeviceClient"/>.</summary>
public sealed class IoTHubDeviceClientOptions
{
    /// <summary>The MQTT/TLS port IoT Hub listens on.</summary>
    public const int DefaultMqttPort = 8883;

    /// <summary>
    /// One extra CA certificate to trust for this client's TLS connection only (e.g. a local emulator's CA). Validation
    /// is never switched off: the server certificate must chain to this CA (or to a system root) and match the host name.
    /// </summary>
    public X509Certificate2? TrustedCACertificate { get; set; }

    /// <summary>
    /// The MQTT port to dial. When null: the port of <c>GatewayHostName</c> or <c>HostName</c> if it carries one, else 8883.
    /// </summary>
    public int? MqttPort { get; set; }

    /// <summary>How long a twin GET or reported PATCH waits for the hub's answer (default 30 s).</summary>
    public TimeSpan OperationTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long one connection attempt (TCP + TLS + CONNECT/CONNACK + subscriptions) may take (default 15 s).</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>MQTT keep-alive (default 60 s; IoT Hub allows up to 1177 s).</summary>
    public TimeSpan KeepAlive { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Lifetime of each SAS token signed from the device key (default 1 hour); the client reconnects with a fresh token at 75 % of it.</summary>
    public TimeSpan SasTokenTimeToLive { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Reconnect by itself after the connection drops (default true).</summary>
    public bool AutoReconnect { get; set; } = true;

    /// <summary>First delay before a reconnect attempt (default 1 s); doubled after each failure.</summary>
    public TimeSpan ReconnectInitialDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Longest delay between reconnect attempts (default 30 s).</summary>
    public TimeSpan ReconnectMaxDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>First delay before retrying a twin request the hub throttled (<c>res/429</c>); doubled per retry, jittered (default 1 s).</summary>
    public TimeSpan ThrottleRetryDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Longest delay between retries of a throttled twin request (default 10 s).</summary>
    public TimeSpan ThrottleMaxRetryDelay { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long a throttled twin request keeps being retried, from its first attempt (default 2 minutes; zero: never).</summary>
    public TimeSpan ThrottleRetryTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>Product info appended to the <c>DeviceClientType</c> user-agent in the MQTT user name.</summary>
    public string? ProductInfo { get; set; }

    internal void Validate()
    {
        if (MqttPort is < 1 or > 65535)
        {
            throw new ArgumentOutOfRangeException(nameof(MqttPort), MqttPort, "The MQTT port must be from 1 to 65535.");
        }

        static void Positive(TimeSpan value, string name)
        {
            if (value <= TimeSpan.Zero)
            {
                throw new ArgumentOutOfRangeException(name, value, $"{name} must be positive.");
            }
        }

        Positive(OperationTimeout, nameof(OperationTimeout));
        Positive(ConnectTimeout, nameof(ConnectTimeout));
        Positive(KeepAlive, nameof(KeepAlive));
        Positive(ReconnectInitialDelay, nameof(ReconnectInitialDelay));
        Positive(ReconnectMaxDelay, nameof(ReconnectMaxDelay));
        Positive(ThrottleRetryDelay, nameof(ThrottleRetryDelay));
        Positive(ThrottleMaxRetryDelay, nameof(ThrottleMaxRetryDelay));
        if (ThrottleRetryTimeout < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(ThrottleRetryTimeout), ThrottleRetryTimeout, "ThrottleRetryTimeout must not be negative.");
        }
        if (SasTokenTimeToLive < TimeSpan.FromSeconds(10))
        {
            throw new ArgumentOutOfRangeException(nameof(SasTokenTimeToLive), SasTokenTimeToLive, "SasTokenTimeToLive must be at least 10 seconds.");
        }
    }
}
