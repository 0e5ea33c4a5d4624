using System.Security.Cryptography;
using TwinPS.Protocol;

namespace TwinPS.Client.Tests.Infrastructure;

/// <summary>Clients configured for the local test server: fast retries, the test CA trusted.</summary>
public static class TestClients
{
    /// <summary>A random policy key for this test run.</summary>
    public static readonly string Key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    /// <summary>The service connection string for a server.</summary>
    public static IoTHubConnectionString ConnectionString(TestHttpsServer server, string policy = "iothubowner") =>
        IoTHubConnectionString.Parse($"HostName={server.HostName};SharedAccessKeyName={policy};SharedAccessKey={Key}");

    /// <summary>Options with millisecond back-off and the test CA trusted.</summary>
    public static IoTHubServiceClientOptions FastOptions(int maxRetries = 3)
    {
        var options = new IoTHubServiceClientOptions { TrustedCACertificate = TestCertificates.PublicOnly(TestCertificates.Ca) };
        options.Retry.Delay = TimeSpan.FromMilliseconds(5);
        options.Retry.MaxDelay = TimeSpan.FromMilliseconds(20);
        options.Retry.MaxRetries = maxRetries;
        options.NetworkRetryDelay = TimeSpan.FromMilliseconds(5);
        options.ThrottleRetryDelay = TimeSpan.FromMilliseconds(5);
        options.ThrottleMaxRetryDelay = TimeSpan.FromMilliseconds(20);
        return options;
    }

    /// <summary>A SAS client for the server.</summary>
    public static IoTHubServiceClient For(TestHttpsServer server, IoTHubServiceClientOptions? options = null) =>
        new(ConnectionString(server), options ?? FastOptions());

    /// <summary>A minimal twin document.</summary>
    public static string TwinJson(string deviceId, string etag = "AAAAAAAAAAE=") =>
        $$$"""{"deviceId":"{{{deviceId}}}","etag":"{{{etag}}}","deviceEtag":"MQ==","status":"enabled","connectionState":"Disconnected","lastActivityTime":"0001-01-01T00:00:00Z","version":2,"tags":{},"properties":{"desired":{"$metadata":{"$lastUpdated":"2026-11-27T06:46:02.1234567Z"},"$version":1},"reported":{"$metadata":{"$lastUpdated":"2026-11-27T06:46:02.1234567Z"},"$version":1}},"capabilities":{"iotEdge":false}}""";
}
