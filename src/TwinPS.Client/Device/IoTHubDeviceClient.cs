using System.Buffers;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using MQTTnet;
using TwinPS.Protocol;

namespace TwinPS.Client.Device;

/// <summary>
/// An IoT Hub device (or module) over MQTT 3.1.1/TLS: reads its twin, patches reported properties and receives
/// desired-property patches. Reconnects by itself with exponential back-off after a drop (re-subscribing and re-reading
/// the twin; what changed meanwhile is raised as a synthetic patch) and renews SAS tokens by reconnecting before they
/// expire. Requests in flight when the connection drops fail at once with <see cref="IoTHubServiceException"/>
/// (<c>ConnectionError</c>). Thread-safe.
/// <para>
/// The parts, one job each: <see cref="DeviceConnection"/> (connection supervision), <see cref="DeviceTwinRequests"/>
/// (twin requests and their <c>$rid</c> correlation), <see cref="DesiredPropertiesTracker"/> (desired-version
/// tracking) and <see cref="DeviceEventPump"/> (event delivery). This class routes incoming messages to them.
/// </para>
/// </summary>
public sealed class IoTHubDeviceClient : IAsyncDisposable, IDisposable
{
    private static readonly TimeSpan CloseWait = TimeSpan.FromSeconds(5);

    private readonly DeviceEndpoint _endpoint;
    private readonly DeviceEventPump _events = new();
    private readonly DeviceConnection _connection;
    private readonly DeviceTwinRequests _requests;
    private readonly DesiredPropertiesTracker _desired;

    private IoTHubDeviceClient(DeviceEndpoint endpoint, IoTHubDeviceClientOptions options)
    {
        _endpoint = endpoint;
        _connection = new DeviceConnection(
            endpoint,
            options,
            OnMessageAsync,
            ct => _requests!.GetTwinAsync(ct),
            (twin, synthetic) => _desired!.Reconcile(twin, synthetic),
            error => _requests!.FailAll(error),
            (wait, ct) => _requests!.WhenIdleAsync(wait, ct),
            args => _events.Post(() => ConnectionStatusChanged?.Invoke(this, args)));
        _requests = new DeviceTwinRequests(endpoint, options, _connection);
        _desired = new DesiredPropertiesTracker(
            args => _events.Post(() => DesiredPropertiesReceived?.Invoke(this, args)),
            GetTwinAsync,
            _connection.Lifetime);
    }

    /// <summary>Raised (on a background thread, in arrival order) for every desired-properties patch, including synthetic ones.</summary>
    public event EventHandler<DesiredPropertiesEventArgs>? DesiredPropertiesReceived;

    /// <summary>
    /// Raised (on a background thread, in arrival order) for every direct-method call. The client subscribes to methods
    /// when it connects, so the hub forwards calls from then on; answer with <see cref="SendMethodResponseAsync"/>.
    /// </summary>
    public event EventHandler<DirectMethodCallEventArgs>? MethodCalled;

    /// <summary>Raised (on a background thread) whenever <see cref="Status"/> changes.</summary>
    public event EventHandler<DeviceConnectionStatusEventArgs>? ConnectionStatusChanged;

    /// <summary>The device id.</summary>
    public string DeviceId => _endpoint.DeviceId;

    /// <summary>The module id, or null for a device identity.</summary>
    public string? ModuleId => _endpoint.ModuleId;

    /// <summary>The hub host name (as in the connection string).</summary>
    public string HostName => _endpoint.HostName;

    /// <summary>The MQTT endpoint dialled, <c>host:port</c>.</summary>
    public string Endpoint => _endpoint.Describe();

    /// <summary><c>SharedAccessKey</c>, <c>SharedAccessSignature</c> or <c>X509</c>.</summary>
    public string AuthenticationType => _endpoint.Certificate is not null ? "X509"
        : _endpoint.ConnectionString?.SharedAccessKey is not null ? "SharedAccessKey" : "SharedAccessSignature";

    /// <summary>The connection status.</summary>
    public DeviceConnectionStatus Status => _connection.Status;

    /// <summary>The desired <c>$version</c> the client last saw (−1 before the first twin read).</summary>
    public long DesiredVersion => _desired.DesiredVersion;

    /// <summary>Twin requests the hub answered 429 that were retried so far.</summary>
    public long ThrottledRequests => _requests.ThrottledRequests;

    /// <summary>Creates a client from a device or module connection string (SAS key, SAS token, or <c>x509=true</c> with <paramref name="certificate"/>).</summary>
    public static IoTHubDeviceClient Create(string connectionString, IoTHubDeviceClientOptions? options = null, X509Certificate2? certificate = null)
    {
        ArgumentNullException.ThrowIfNull(connectionString);
        return Create(IoTHubConnectionString.Parse(connectionString), options, certificate);
    }

    /// <summary>Creates a client from a parsed device or module connection string.</summary>
    public static IoTHubDeviceClient Create(IoTHubConnectionString connectionString, IoTHubDeviceClientOptions? options = null, X509Certificate2? certificate = null)
    {
        ArgumentNullException.ThrowIfNull(connectionString);
        options ??= new IoTHubDeviceClientOptions();
        options.Validate();
        return new IoTHubDeviceClient(DeviceEndpoint.FromConnectionString(connectionString, certificate, options), options);
    }

    /// <summary>Creates a client that authenticates with an X.509 client certificate (with its private key).</summary>
    public static IoTHubDeviceClient CreateWithCertificate(string hostName, string deviceId, string? moduleId, X509Certificate2 certificate, IoTHubDeviceClientOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        options ??= new IoTHubDeviceClientOptions();
        options.Validate();
        return new IoTHubDeviceClient(DeviceEndpoint.FromCertificate(hostName, deviceId, moduleId, certificate, options), options);
    }

    /// <summary>
    /// Connects, subscribes to twin responses and desired-property patches, and reads the twin once. Throws
    /// <see cref="IoTHubServiceException"/>: status 401 when the hub refuses the credentials (CONNACK 5), ConnectionError
    /// when it cannot be reached, Timeout after <see cref="IoTHubDeviceClientOptions.ConnectTimeout"/>.
    /// </summary>
    public Task OpenAsync(CancellationToken cancellationToken = default)
    {
        ThrowIfClosed();
        return _connection.OpenAsync(cancellationToken);
    }

    /// <summary>Reads the twin as the device sees it (desired and reported with their versions; no tags).</summary>
    public async Task<DeviceTwinProperties> GetTwinAsync(CancellationToken cancellationToken = default)
    {
        ThrowIfClosed();
        var twin = await _requests.GetTwinAsync(cancellationToken).ConfigureAwait(false);
        _desired.Reconcile(twin, raiseSynthetic: true);
        return twin;
    }

    /// <summary>
    /// Patches reported properties (JSON merge patch: members add or replace, nested objects merge, <c>null</c> removes) and
    /// returns the new reported <c>$version</c>. The patch is validated first (keys, depth, sizes, integers), so an invalid
    /// patch throws <see cref="TwinValidationException"/> naming the key and nothing is sent.
    /// </summary>
    public Task<long> UpdateReportedAsync(JsonObject patch, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(patch);
        ThrowIfClosed();
        TwinValidator.ValidatePatch(patch, TwinSectionKind.Reported, TwinWriteMode.Patch);
        return _requests.UpdateReportedAsync(patch, cancellationToken);
    }

    /// <summary>
    /// Answers a direct-method call: publishes <paramref name="payload"/> (JSON; null sends <c>null</c>) with
    /// <paramref name="status"/> to <c>$iothub/methods/res/{status}/?$rid={requestId}</c>. An answer after the caller's
    /// response timeout is ignored by the hub. Throws <see cref="IoTHubServiceException"/> when not connected,
    /// <see cref="IoTHubProtocolException"/> (<c>MessageTooLarge</c>) for a payload over 128 KB (nothing is sent).
    /// </summary>
    public async Task SendMethodResponseAsync(string requestId, int status, JsonNode? payload, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(requestId);
        ThrowIfClosed();
        if (status < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(status), status, "The method status must be zero or positive (e.g. 200).");
        }

        var body = Encoding.UTF8.GetBytes(payload is null ? "null" : payload.ToJsonString());
        if (body.Length > DirectMethodRequest.MaxPayloadBytes)
        {
            throw new IoTHubProtocolException(IoTHubErrorCode.MessageTooLarge, $"The method response payload is {body.Length} bytes of JSON; IoT Hub carries at most {DirectMethodRequest.MaxPayloadBytes} bytes (128 KB).");
        }

        const string operation = "direct-method response";
        var client = await _connection.CurrentClientAsync(operation, cancellationToken).ConfigureAwait(false);
        await _connection.PublishAsync(client, operation, DirectMethodTopics.Response(status, requestId), body, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Disconnects (MQTT DISCONNECT), fails anything pending and stops reconnecting. Safe to call more than once.</summary>
    public async Task CloseAsync(CancellationToken cancellationToken = default)
    {
        if (_connection.IsClosed)
        {
            return;
        }

        await _connection.CloseAsync(cancellationToken).ConfigureAwait(false);
        await _events.CompleteAsync(CloseWait, cancellationToken).ConfigureAwait(false);
        await _connection.WhenStoppedAsync(CloseWait).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await CloseAsync().ConfigureAwait(false);
        _connection.Dispose();
    }

    /// <inheritdoc />
    public void Dispose()
    {
        Task.Run(() => CloseAsync(), CancellationToken.None).Wait(TimeSpan.FromSeconds(10));
        _connection.Dispose();
    }

    private Task OnMessageAsync(MqttApplicationMessageReceivedEventArgs e)
    {
        try
        {
            var topic = e.ApplicationMessage.Topic ?? string.Empty;
            var payload = e.ApplicationMessage.Payload.ToArray();
            if (DeviceTwinTopics.TryParseResponse(topic, out var status, out var rid, out var version))
            {
                if (rid is not null)
                {
                    _requests.TryComplete(rid, status, version, payload);
                }
            }
            else if (DeviceTwinTopics.TryParseDesired(topic, out var desiredVersion))
            {
                _desired.OnNotification(desiredVersion, payload);
            }
            else if (DirectMethodTopics.TryParseRequest(topic, out var methodName, out var requestId))
            {
                OnMethodCall(methodName, requestId, payload);
            }
        }
        catch (Exception ex) when (ex is JsonException or FormatException or InvalidOperationException or ArgumentException)
        {
            // A malformed message from the hub is dropped; it must not break the receive loop.
        }

        return Task.CompletedTask;
    }

    private void OnMethodCall(string methodName, string requestId, byte[] payload)
    {
        JsonNode? body = null;
        var isJson = true;
        if (payload.Length > 0)
        {
            try
            {
                body = JsonNode.Parse(payload);
            }
            catch (JsonException)
            {
                isJson = false;
                body = JsonValue.Create(Encoding.UTF8.GetString(payload));
            }
        }

        var args = new DirectMethodCallEventArgs(requestId, methodName, body, isJson, DateTimeOffset.UtcNow);
        _events.Post(() => MethodCalled?.Invoke(this, args));
    }

    private void ThrowIfClosed() => ObjectDisposedException.ThrowIf(_connection.IsClosed, this);
}
