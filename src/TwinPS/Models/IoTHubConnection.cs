using System.Globalization;
using Azure.Core;
using TwinPS.Client;
using TwinPS.Client.Resilience;
using TwinPS.Protocol;

namespace TwinPS.Models;

/// <summary>How a connection authenticates to the hub's service API.</summary>
public enum IoTHubAuthenticationType
{
    /// <summary>A shared access policy key from a service connection string (SAS tokens signed locally).</summary>
    SharedAccessKey,

    /// <summary>Microsoft Entra ID bearer tokens (role-based access).</summary>
    EntraId,
}

/// <summary>
/// A connection to one IoT Hub's service API, as returned by <c>Connect-IoTHub</c> and taken by every data cmdlet's
/// <c>-Connection</c>. It holds no secret in any public member: the service client it wraps (and through it the key
/// or credential) is internal, so it never appears in formatted output, <c>ConvertTo-Json</c> or <see cref="ToString"/>.
/// </summary>
public sealed class IoTHubConnection
{
    private IoTHubConnection(
        string hostName,
        IoTHubAuthenticationType authenticationType,
        string? policyName,
        string? caCertificatePath,
        int? mqttPort,
        IoTHubServiceClient serviceClient,
        string? hubName)
    {
        HubName = string.IsNullOrEmpty(hubName) ? hostName.Split('.', ':')[0] : hubName;
        HostName = hostName;
        AuthenticationType = authenticationType;
        PolicyName = policyName;
        CACertificatePath = caCertificatePath;
        MqttPort = mqttPort;
        ServiceClient = serviceClient;
        ConnectedOn = DateTimeOffset.Now;
    }

    /// <summary>The hub's host name as used in requests, with a port when it is not 443 (e.g. <c>localhost:8443</c> for the emulator).</summary>
    public string HostName { get; }

    /// <summary>
    /// The hub name: the first label of the host name (<c>myhub</c> for <c>myhub.azure-devices.net</c>), or the name
    /// given to Connect-IoTHub (an emulator's, from its ready line, when Start-IoTHubEmulator is piped to it).
    /// </summary>
    public string HubName { get; }

    /// <summary><c>SharedAccessKey</c> or <c>EntraId</c>.</summary>
    public IoTHubAuthenticationType AuthenticationType { get; }

    /// <summary>The shared access policy name (e.g. <c>iothubowner</c>, <c>service</c>); null with Entra ID.</summary>
    public string? PolicyName { get; }

    /// <summary>The extra CA certificate (PEM) trusted for this connection only, e.g. the emulator's CA; null for a public hub.</summary>
    public string? CACertificatePath { get; }

    /// <summary>
    /// The MQTT/TLS port devices use when it is not the standard 8883 (known when the connection came from
    /// <c>Start-IoTHubEmulator</c> or <c>Connect-IoTHub -MqttPort</c>); used by <c>Get-IoTDeviceConnectionString</c>.
    /// </summary>
    public int? MqttPort { get; }

    /// <summary>
    /// The time budget of one request's retries (Connect-IoTHub <c>-RetryTimeoutSec</c>; default 5 minutes): throttled
    /// (429/503) requests are retried with the hub's back-off, other transient failures briefly, and no retry starts
    /// after this time.
    /// </summary>
    public TimeSpan RetryTimeout => ServiceClient.RetryTimeout;

    /// <summary>
    /// What this connection learned about the hub's throttles: per throttle class, the rate requests are paced to, how
    /// many wait on it now, and how many were throttled or retried. Empty while the hub has throttled nothing.
    /// </summary>
    public IReadOnlyList<ThrottleState> Throttling => ServiceClient.Resilience.GetStates();

    /// <summary>When this connection was created (local time).</summary>
    public DateTimeOffset ConnectedOn { get; }

    /// <summary>The REST client this connection wraps (internal: it carries the key or credential).</summary>
    internal IoTHubServiceClient ServiceClient { get; }

    /// <summary>Creates a connection from a parsed service connection string (no network call).</summary>
    /// <exception cref="ArgumentException">The string is a device or module connection string.</exception>
    internal static IoTHubConnection FromConnectionString(
        IoTHubConnectionString connectionString, string? caCertificatePath, int? mqttPort, string? hubName = null, TimeSpan? retryTimeout = null)
    {
        ArgumentNullException.ThrowIfNull(connectionString);
        if (connectionString.Kind != IoTHubConnectionKind.Service)
        {
            throw new ArgumentException(DeviceConnectionStringRefused, nameof(connectionString));
        }

        var client = new IoTHubServiceClient(connectionString, CreateOptions(caCertificatePath, retryTimeout));
        return new IoTHubConnection(
            connectionString.HostName, IoTHubAuthenticationType.SharedAccessKey, connectionString.SharedAccessKeyName, caCertificatePath, mqttPort, client,
            hubName);
    }

    /// <summary>Creates a connection that authenticates with Microsoft Entra ID bearer tokens (no network call).</summary>
    internal static IoTHubConnection FromTokenCredential(
        string hostName, TokenCredential credential, string? caCertificatePath, int? mqttPort, string? hubName = null, TimeSpan? retryTimeout = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(hostName);
        ArgumentNullException.ThrowIfNull(credential);
        var client = new IoTHubServiceClient(hostName, credential, CreateOptions(caCertificatePath, retryTimeout));
        return new IoTHubConnection(hostName, IoTHubAuthenticationType.EntraId, policyName: null, caCertificatePath, mqttPort, client, hubName);
    }

    /// <summary>The message used wherever a device or module connection string is offered as a service connection.</summary>
    internal const string DeviceConnectionStringRefused =
        "This is a device (or module) connection string: it has a 'DeviceId' part. Connect-IoTHub needs a service " +
        "connection string of a shared access policy (HostName=…;SharedAccessKeyName=…;SharedAccessKey=…), e.g. of the " +
        "'iothubowner' or 'service' policy. To act as a device, use Connect-IoTDevice.";

    /// <inheritdoc />
    public override string ToString() => AuthenticationType == IoTHubAuthenticationType.SharedAccessKey
        ? string.Create(CultureInfo.InvariantCulture, $"{HostName} (policy {PolicyName})")
        : string.Create(CultureInfo.InvariantCulture, $"{HostName} (Entra ID)");

    private static IoTHubServiceClientOptions CreateOptions(string? caCertificatePath, TimeSpan? retryTimeout) => new()
    {
        TrustedCACertificatePath = caCertificatePath,
        RetryTimeout = retryTimeout ?? IoTHubServiceClientOptions.DefaultRetryTimeout,
    };
}
