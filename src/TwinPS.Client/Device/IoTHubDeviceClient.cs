using System.Buffers;
using System.Collections.Concurrent;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;
using TwinPS.Protocol;

namespace TwinPS.Client.Device;

/// <summary>
/// An IoT Hub device (or module) over MQTT 3.1.1/TLS: reads its twin, patches reported properties and receives
/// desired-property patches. Reconnects by itself with exponential back-off after a drop (re-subscribing and re-reading
/// the twin; what changed meanwhile is raised as a synthetic patch) and renews SAS tokens by reconnecting before they
/// expire. Requests in flight when the connection drops fail at once with <see cref="IoTHubServiceException"/>
/// (<c>ConnectionError</c>). Thread-safe.
/// </summary>
public sealed class IoTHubDeviceClient : IAsyncDisposable, IDisposable
{
    private static readonly MqttClientFactory Factory = new();

    private readonly DeviceEndpoint _endpoint;
    private readonly IoTHubDeviceClientOptions _options;
    private readonly ConcurrentDictionary<string, TaskCompletionSource<TwinResponse>> _pending = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _connectGate = new(1, 1);
    private readonly SemaphoreSlim _wake = new(0);
    private readonly object _sync = new();
    private readonly object _desiredSync = new();
    private readonly Channel<Action> _events = Channel.CreateUnbounded<Action>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CancellationTokenSource _lifetime = new();
    private readonly Task _eventPump;

    private IMqttClient? _mqtt;
    private DeviceConnectionStatus _status = DeviceConnectionStatus.Disconnected;
    private JsonObject? _desired;
    private long _desiredVersion = -1;
    private Task? _supervisor;
    private Timer? _renewTimer;
    private int _renewRequested;
    private volatile bool _renewing;
    private int _closed;
    private long _throttledRequests;
    private int _resyncRunning;
    private int _resyncAgain;

    private IoTHubDeviceClient(DeviceEndpoint endpoint, IoTHubDeviceClientOptions options)
    {
        _endpoint = endpoint;
        _options = options;
        _eventPump = Task.Run(PumpEventsAsync);
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
    public DeviceConnectionStatus Status
    {
        get
        {
            lock (_sync)
            {
                return _status;
            }
        }
    }

    /// <summary>The desired <c>$version</c> the client last saw (−1 before the first twin read).</summary>
    public long DesiredVersion
    {
        get
        {
            lock (_desiredSync)
            {
                return _desiredVersion;
            }
        }
    }

    /// <summary>Twin requests the hub answered 429 that were retried so far.</summary>
    public long ThrottledRequests => Interlocked.Read(ref _throttledRequests);

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
    public async Task OpenAsync(CancellationToken cancellationToken = default)
    {
        ThrowIfClosed();
        lock (_sync)
        {
            if (_status is DeviceConnectionStatus.Connected or DeviceConnectionStatus.Connecting or DeviceConnectionStatus.Reconnecting)
            {
                throw new InvalidOperationException($"The device client of '{_endpoint.ClientId}' is already open (status {_status}).");
            }
        }

        SetStatus(DeviceConnectionStatus.Connecting, "opening", null);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _lifetime.Token);
        try
        {
            await ConnectAndSyncAsync(synthetic: false, linked.Token).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            SetStatus(DeviceConnectionStatus.Disconnected, "open failed", ex);
            throw;
        }

        lock (_sync)
        {
            _supervisor ??= Task.Run(() => SuperviseAsync(_lifetime.Token), CancellationToken.None);
        }
    }

    /// <summary>Reads the twin as the device sees it (desired and reported with their versions; no tags).</summary>
    public async Task<DeviceTwinProperties> GetTwinAsync(CancellationToken cancellationToken = default)
    {
        ThrowIfClosed();
        var twin = await RequestTwinAsync(cancellationToken).ConfigureAwait(false);
        ReconcileDesired(twin, raiseSynthetic: true);
        return twin;
    }

    /// <summary>
    /// Patches reported properties (JSON merge patch: members add or replace, nested objects merge, <c>null</c> removes) and
    /// returns the new reported <c>$version</c>. The patch is validated first (keys, depth, sizes, integers), so an invalid
    /// patch throws <see cref="TwinValidationException"/> naming the key and nothing is sent.
    /// </summary>
    public async Task<long> UpdateReportedAsync(JsonObject patch, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(patch);
        ThrowIfClosed();
        TwinValidator.ValidatePatch(patch, TwinSectionKind.Reported, TwinWriteMode.Patch);
        var payload = Encoding.UTF8.GetBytes(patch.ToJsonString());
        var response = await RequestAsync("reported-properties patch", DeviceTwinTopics.PatchReported, payload, cancellationToken).ConfigureAwait(false);
        if (response.Status != 204 && response.Status != 200)
        {
            throw DeviceErrors.FromResponse(_endpoint.ClientId, "reported-properties patch", response.Status, response.Payload);
        }

        if (HasErrorCode(response.Payload))
        {
            throw DeviceErrors.FromResponse(_endpoint.ClientId, "reported-properties patch", 400, response.Payload);
        }

        return response.Version ?? throw new IoTHubServiceException($"IoT Hub acknowledged the reported-properties patch of '{_endpoint.ClientId}' without a $version.");
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
        var client = await CurrentClientAsync(operation, cancellationToken).ConfigureAwait(false);
        var message = new MqttApplicationMessageBuilder()
            .WithTopic(DirectMethodTopics.Response(status, requestId))
            .WithPayload(body)
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtMostOnce)
            .Build();
        try
        {
            await client.PublishAsync(message, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            throw DeviceErrors.ConnectionLost(_endpoint.ClientId, operation, ex);
        }
    }

    /// <summary>Disconnects (MQTT DISCONNECT), fails anything pending and stops reconnecting. Safe to call more than once.</summary>
    public async Task CloseAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref _closed, 1) == 1)
        {
            return;
        }

        await _lifetime.CancelAsync().ConfigureAwait(false);
        _renewTimer?.Dispose();
        IMqttClient? client;
        lock (_sync)
        {
            client = _mqtt;
            _mqtt = null;
        }

        FailPending(op => DeviceErrors.NotConnected(_endpoint.ClientId, DeviceConnectionStatus.Closed, op));
        if (client is not null)
        {
            await DisconnectQuietlyAsync(client, cancellationToken).ConfigureAwait(false);
        }

        SetStatus(DeviceConnectionStatus.Closed, "closed", null);
        _events.Writer.TryComplete();
        try
        {
            await _eventPump.WaitAsync(TimeSpan.FromSeconds(5), cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // A handler that never returns must not block closing.
        }

        if (_supervisor is not null)
        {
            await Task.WhenAny(_supervisor, Task.Delay(TimeSpan.FromSeconds(5), CancellationToken.None)).ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await CloseAsync().ConfigureAwait(false);
        _lifetime.Dispose();
    }

    /// <inheritdoc />
    public void Dispose()
    {
        Task.Run(() => CloseAsync(), CancellationToken.None).Wait(TimeSpan.FromSeconds(10));
    }

    // ------------------------------------------------------------------ connection

    private async Task ConnectAndSyncAsync(bool synthetic, CancellationToken cancellationToken)
    {
        await _connectGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        IMqttClient? client = null;
        try
        {
            client = await ConnectTransportAsync(cancellationToken).ConfigureAwait(false);
            var twin = await RequestTwinAsync(cancellationToken).ConfigureAwait(false);
            lock (_sync)
            {
                if (!ReferenceEquals(_mqtt, client))
                {
                    throw DeviceErrors.ConnectionLost(_endpoint.ClientId, "twin read after connecting");
                }
            }

            ReconcileDesired(twin, synthetic);
            ScheduleRenewal();
            SetStatus(DeviceConnectionStatus.Connected, synthetic ? "reconnected" : "connected", null);
        }
        catch
        {
            if (client is not null)
            {
                lock (_sync)
                {
                    if (ReferenceEquals(_mqtt, client))
                    {
                        _mqtt = null;
                    }
                }

                await DisconnectQuietlyAsync(client, CancellationToken.None).ConfigureAwait(false);
            }

            throw;
        }
        finally
        {
            _connectGate.Release();
        }
    }

    private async Task<IMqttClient> ConnectTransportAsync(CancellationToken cancellationToken)
    {
        var client = Factory.CreateMqttClient();
        client.ApplicationMessageReceivedAsync += OnMessageAsync;
        client.DisconnectedAsync += e => OnDisconnectedAsync(client, e);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.ConnectTimeout);
        MqttClientConnectResult result;
        try
        {
            result = await client.ConnectAsync(BuildOptions(), timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            client.Dispose();
            throw DeviceErrors.ConnectionFailed(_endpoint.ClientId, _endpoint.Describe(), new TimeoutException($"no CONNACK within {_options.ConnectTimeout.TotalSeconds} s"));
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            client.Dispose();
            if (RefusalIn(ex) is { } refusal)
            {
                throw refusal;
            }

            throw DeviceErrors.ConnectionFailed(_endpoint.ClientId, _endpoint.Describe(), ex);
        }

        if (result.ResultCode != MqttClientConnectResultCode.Success)
        {
            client.Dispose();
            throw RefusalFor(result.ResultCode);
        }

        lock (_sync)
        {
            _mqtt = client;
        }

        var subscribe = Factory.CreateSubscribeOptionsBuilder()
            .WithTopicFilter(DeviceTwinTopics.ResponseFilter, MqttQualityOfServiceLevel.AtMostOnce)
            .WithTopicFilter(DeviceTwinTopics.DesiredFilter, MqttQualityOfServiceLevel.AtMostOnce)
            .WithTopicFilter(DirectMethodTopics.RequestFilter, MqttQualityOfServiceLevel.AtMostOnce)
            .Build();
        try
        {
            var granted = await client.SubscribeAsync(subscribe, timeout.Token).ConfigureAwait(false);
            if (granted.Items.Any(i => i.ResultCode > MqttClientSubscribeResultCode.GrantedQoS2))
            {
                throw DeviceErrors.ConnectionFailed(_endpoint.ClientId, _endpoint.Describe(), new InvalidOperationException("the hub refused the twin or method topic subscriptions"));
            }
        }
        catch (Exception ex) when (ex is not IoTHubServiceException && !cancellationToken.IsCancellationRequested)
        {
            throw DeviceErrors.ConnectionLost(_endpoint.ClientId, "subscription", ex);
        }

        return client;
    }

    private MqttClientOptions BuildOptions()
    {
        var password = _endpoint.CreatePassword(_options.SasTokenTimeToLive, out _);
        var trustedCa = _options.TrustedCACertificate;
        var builder = Factory.CreateClientOptionsBuilder()
            .WithTcpServer(_endpoint.DialHost, _endpoint.Port)
            .WithProtocolVersion(MqttProtocolVersion.V311)
            .WithClientId(_endpoint.ClientId)
            .WithCleanSession(false)
            .WithKeepAlivePeriod(_options.KeepAlive)
            .WithTimeout(_options.ConnectTimeout)
            .WithCredentials(new MqttClientCredentials(_endpoint.UserName, password is null ? null : Encoding.UTF8.GetBytes(password)))
            .WithTlsOptions(tls =>
            {
                tls.UseTls(true)
                    .WithTargetHost(_endpoint.DialHost)
                    .WithSslProtocols(SslProtocols.Tls12 | SslProtocols.Tls13)
                    .WithCertificateValidationHandler(e => ServerCertificateValidator.Validate(e.Certificate, e.Chain, e.SslPolicyErrors, trustedCa));
                if (_endpoint.Certificate is not null)
                {
                    tls.WithClientCertificates([_endpoint.Certificate]);
                }
            });
        return builder.Build();
    }

    private IoTHubServiceException RefusalFor(MqttClientConnectResultCode code) => code switch
    {
        MqttClientConnectResultCode.ServerUnavailable or MqttClientConnectResultCode.ServerBusy or MqttClientConnectResultCode.QuotaExceeded
            => DeviceErrors.Unavailable(_endpoint.ClientId, $"CONNACK: {code}"),
        _ => DeviceErrors.Refused(_endpoint.ClientId, $"CONNACK: {code}"),
    };

    // MQTTnet reports a refused CONNACK either as a result code or as an exception whose message names it.
    private IoTHubServiceException? RefusalIn(Exception ex)
    {
        for (var e = ex; e is not null; e = e.InnerException)
        {
            foreach (var code in new[] { MqttClientConnectResultCode.NotAuthorized, MqttClientConnectResultCode.BadUserNameOrPassword, MqttClientConnectResultCode.ClientIdentifierNotValid, MqttClientConnectResultCode.ServerUnavailable })
            {
                if (e.Message.Contains(code.ToString(), StringComparison.Ordinal))
                {
                    return RefusalFor(code);
                }
            }
        }

        return null;
    }

    private Task OnDisconnectedAsync(IMqttClient client, MqttClientDisconnectedEventArgs e)
    {
        bool wasConnected;
        lock (_sync)
        {
            if (!ReferenceEquals(_mqtt, client))
            {
                return Task.CompletedTask;
            }

            _mqtt = null;
            wasConnected = _status == DeviceConnectionStatus.Connected;
        }

        FailPending(op => DeviceErrors.ConnectionLost(_endpoint.ClientId, op, e.Exception));
        if (Volatile.Read(ref _closed) == 1 || !wasConnected)
        {
            return Task.CompletedTask;
        }

        var reason = "connection lost" + (e.Reason == MqttClientDisconnectReason.NormalDisconnection ? string.Empty : $" ({e.Reason})");
        if (_options.AutoReconnect)
        {
            SetStatus(DeviceConnectionStatus.Reconnecting, reason, e.Exception);
            _wake.Release();
        }
        else
        {
            SetStatus(DeviceConnectionStatus.Disconnected, reason, e.Exception);
        }

        return Task.CompletedTask;
    }

    private async Task SuperviseAsync(CancellationToken token)
    {
        try
        {
            while (!token.IsCancellationRequested)
            {
                await _wake.WaitAsync(token).ConfigureAwait(false);
                var renew = Interlocked.Exchange(ref _renewRequested, 0) == 1;
                if (renew)
                {
                    await RenewAsync(token).ConfigureAwait(false);
                }
                else if (Volatile.Read(ref _mqtt) is null && _options.AutoReconnect && Status == DeviceConnectionStatus.Reconnecting)
                {
                    await ReconnectAsync(firstAttemptAtOnce: false, token).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            // Closed.
        }
    }

    private async Task RenewAsync(CancellationToken token)
    {
        IMqttClient? client;
        _renewing = true;
        try
        {
            // Let requests in flight finish (they cannot survive the new connection).
            var until = DateTime.UtcNow + TimeSpan.FromSeconds(5);
            while (!_pending.IsEmpty && DateTime.UtcNow < until)
            {
                await Task.Delay(50, token).ConfigureAwait(false);
            }

            lock (_sync)
            {
                client = _mqtt;
                if (client is null || _status != DeviceConnectionStatus.Connected)
                {
                    return;
                }

                _mqtt = null;
            }

            SetStatus(DeviceConnectionStatus.Reconnecting, "renewing the SAS token", null);
            FailPending(op => DeviceErrors.ConnectionLost(_endpoint.ClientId, op));
            await DisconnectQuietlyAsync(client, token).ConfigureAwait(false);
            await ReconnectAsync(firstAttemptAtOnce: true, token).ConfigureAwait(false);
        }
        finally
        {
            _renewing = false;
        }
    }

    private async Task ReconnectAsync(bool firstAttemptAtOnce, CancellationToken token)
    {
        var delay = _options.ReconnectInitialDelay;
        for (var attempt = 1; !token.IsCancellationRequested; attempt++)
        {
            if (attempt > 1 || !firstAttemptAtOnce)
            {
                var jitter = 0.8 + (Random.Shared.NextDouble() * 0.4);
                await Task.Delay(TimeSpan.FromMilliseconds(delay.TotalMilliseconds * jitter), token).ConfigureAwait(false);
                delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, _options.ReconnectMaxDelay.TotalMilliseconds));
            }

            try
            {
                await ConnectAndSyncAsync(synthetic: true, token).ConfigureAwait(false);
                return;
            }
            catch (IoTHubServiceException ex) when (ex.Status == 401)
            {
                // The hub no longer accepts these credentials (device disabled, deleted, key rotated): retrying cannot help.
                SetStatus(DeviceConnectionStatus.Disconnected, "reconnect refused", ex);
                return;
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                SetStatus(DeviceConnectionStatus.Reconnecting, $"reconnect attempt {attempt} failed", ex);
            }
        }
    }

    private void ScheduleRenewal()
    {
        if (!_endpoint.CanRenewToken)
        {
            return;
        }

        var due = TimeSpan.FromMilliseconds(_options.SasTokenTimeToLive.TotalMilliseconds * 0.75);
        var timer = new Timer(
            _ =>
            {
                Interlocked.Exchange(ref _renewRequested, 1);
                _wake.Release();
            },
            null,
            due,
            Timeout.InfiniteTimeSpan);
        Interlocked.Exchange(ref _renewTimer, timer)?.Dispose();
    }

    private static async Task DisconnectQuietlyAsync(IMqttClient client, CancellationToken cancellationToken)
    {
        try
        {
            if (client.IsConnected)
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(TimeSpan.FromSeconds(5));
                await client.DisconnectAsync(new MqttClientDisconnectOptions(), timeout.Token).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Already gone: nothing to tell the hub.
        }
        finally
        {
            client.Dispose();
        }
    }

    // ------------------------------------------------------------------ requests

    private async Task<DeviceTwinProperties> RequestTwinAsync(CancellationToken cancellationToken)
    {
        var response = await RequestAsync("twin read", DeviceTwinTopics.Get, [], cancellationToken).ConfigureAwait(false);
        if (response.Status != 200 || HasErrorCode(response.Payload))
        {
            throw DeviceErrors.FromResponse(_endpoint.ClientId, "twin read", response.Status == 200 ? 400 : response.Status, response.Payload);
        }

        return ParseTwin(response.Payload);
    }

    /// <summary>
    /// One twin request; an answer of 429 (the hub's twin throttle) is retried after a jittered, growing back-off until
    /// <see cref="IoTHubDeviceClientOptions.ThrottleRetryTimeout"/> has passed (a throttled request was not applied, so
    /// retrying a reported patch is safe). The last 429 is returned when the budget is spent.
    /// </summary>
    private async Task<TwinResponse> RequestAsync(string operation, Func<string, string> topicFor, byte[] payload, CancellationToken cancellationToken)
    {
        var started = DateTime.UtcNow;
        var delay = _options.ThrottleRetryDelay;
        while (true)
        {
            var response = await RequestOnceAsync(operation, topicFor, payload, cancellationToken).ConfigureAwait(false);
            if (response.Status != 429)
            {
                return response;
            }

            var wait = TimeSpan.FromMilliseconds(delay.TotalMilliseconds * (0.8 + (Random.Shared.NextDouble() * 0.4)));
            if (DateTime.UtcNow - started + wait > _options.ThrottleRetryTimeout)
            {
                return response;
            }

            Interlocked.Increment(ref _throttledRequests);
            await Task.Delay(wait, cancellationToken).ConfigureAwait(false);
            delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, _options.ThrottleMaxRetryDelay.TotalMilliseconds));
        }
    }

    private async Task<TwinResponse> RequestOnceAsync(string operation, Func<string, string> topicFor, byte[] payload, CancellationToken cancellationToken)
    {
        var client = await CurrentClientAsync(operation, cancellationToken).ConfigureAwait(false);
        var rid = Guid.NewGuid().ToString("D");
        var completion = new TaskCompletionSource<TwinResponse>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[rid] = completion;
        try
        {
            // The response may arrive before PublishAsync returns: the request is registered first, then the connection re-checked
            // so a drop between the two cannot leave it waiting for an answer that will never come.
            lock (_sync)
            {
                if (!ReferenceEquals(_mqtt, client))
                {
                    throw DeviceErrors.ConnectionLost(_endpoint.ClientId, operation);
                }
            }

            var message = new MqttApplicationMessageBuilder()
                .WithTopic(topicFor(rid))
                .WithPayload(payload)
                .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtMostOnce)
                .Build();
            try
            {
                await client.PublishAsync(message, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                throw DeviceErrors.ConnectionLost(_endpoint.ClientId, operation, ex);
            }

            try
            {
                return await completion.Task.WaitAsync(_options.OperationTimeout, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                throw DeviceErrors.Timeout(_endpoint.ClientId, operation, _options.OperationTimeout);
            }
        }
        finally
        {
            _pending.TryRemove(rid, out _);
        }
    }

    private async Task<IMqttClient> CurrentClientAsync(string operation, CancellationToken cancellationToken)
    {
        var client = Volatile.Read(ref _mqtt);
        if (client is not null)
        {
            return client;
        }

        // A token renewal takes a moment; a request made meanwhile waits for it rather than failing.
        var until = DateTime.UtcNow + _options.ConnectTimeout;
        while (_renewing && DateTime.UtcNow < until)
        {
            await Task.Delay(25, cancellationToken).ConfigureAwait(false);
            client = Volatile.Read(ref _mqtt);
            if (client is not null)
            {
                return client;
            }
        }

        throw DeviceErrors.NotConnected(_endpoint.ClientId, Status, operation);
    }

    private void FailPending(Func<string, Exception> error)
    {
        foreach (var rid in _pending.Keys)
        {
            if (_pending.TryRemove(rid, out var completion))
            {
                completion.TrySetException(error("request"));
            }
        }
    }

    private Task OnMessageAsync(MqttApplicationMessageReceivedEventArgs e)
    {
        try
        {
            var topic = e.ApplicationMessage.Topic ?? string.Empty;
            var payload = e.ApplicationMessage.Payload.ToArray();
            if (DeviceTwinTopics.TryParseResponse(topic, out var status, out var rid, out var version))
            {
                if (rid is not null && _pending.TryRemove(rid, out var completion))
                {
                    completion.TrySetResult(new TwinResponse(status, version, payload));
                }
            }
            else if (DeviceTwinTopics.TryParseDesired(topic, out var desiredVersion))
            {
                OnDesiredPatch(desiredVersion, payload);
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

    // ------------------------------------------------------------------ direct methods

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
        _events.Writer.TryWrite(() => MethodCalled?.Invoke(this, args));
    }

    // ------------------------------------------------------------------ desired properties

    private void OnDesiredPatch(long? topicVersion, byte[] payload)
    {
        if (JsonNode.Parse(payload) is not JsonObject body)
        {
            return;
        }

        var version = topicVersion ?? (body["$version"] is JsonValue v && v.TryGetValue<long>(out var fromBody) ? fromBody : (long?)null);
        if (version is null)
        {
            return;
        }

        var patch = DesiredPropertiesDiff.WithoutMetadata(body);
        lock (_desiredSync)
        {
            if (_desiredVersion >= 0 && version <= _desiredVersion)
            {
                return; // Already part of the twin read after (re)connecting, or of an earlier notification.
            }

            if (_desiredVersion >= 0 && version > _desiredVersion + 1)
            {
                // A notification was missed (QoS 0, or while the connection was down): this one alone would leave the
                // missed change out. Read the twin instead and raise what changed since the last version raised, once.
                RequestResync();
                return;
            }

            if (_desired is not null)
            {
                DesiredPropertiesDiff.Apply(_desired, patch);
            }

            _desiredVersion = version.Value;

            // Raised under the lock, so the order of raised versions is the order of _desiredVersion.
            Raise(new DesiredPropertiesEventArgs(patch, version.Value, isSynthetic: false, DateTimeOffset.UtcNow));
        }
    }

    /// <summary>Reads the twin (once at a time; again if asked meanwhile) and raises the difference as a synthetic patch.</summary>
    private void RequestResync()
    {
        Interlocked.Exchange(ref _resyncAgain, 1);
        if (Interlocked.CompareExchange(ref _resyncRunning, 1, 0) != 0)
        {
            return;
        }

        _ = Task.Run(async () =>
        {
            try
            {
                while (Interlocked.Exchange(ref _resyncAgain, 0) == 1 && !_lifetime.IsCancellationRequested)
                {
                    try
                    {
                        await GetTwinAsync(_lifetime.Token).ConfigureAwait(false);
                    }
                    catch (Exception ex) when (ex is IoTHubServiceException or OperationCanceledException or ObjectDisposedException)
                    {
                        // Not connected now: the reconnect reads the twin and raises the difference anyway.
                    }
                }
            }
            finally
            {
                Volatile.Write(ref _resyncRunning, 0);
                if (Volatile.Read(ref _resyncAgain) == 1 && !_lifetime.IsCancellationRequested)
                {
                    RequestResync();
                }
            }
        });
    }

    private void ReconcileDesired(DeviceTwinProperties twin, bool raiseSynthetic)
    {
        JsonObject? synthetic = null;
        lock (_desiredSync)
        {
            if (_desiredVersion > twin.DesiredVersion)
            {
                return; // A newer notification already arrived; this read is older.
            }

            if (raiseSynthetic && _desired is not null && twin.DesiredVersion != _desiredVersion)
            {
                synthetic = DesiredPropertiesDiff.Compute(_desired, twin.Desired);
            }

            _desired = (JsonObject)twin.Desired.DeepClone();
            _desiredVersion = twin.DesiredVersion;
            if (synthetic is { Count: > 0 })
            {
                Raise(new DesiredPropertiesEventArgs(synthetic, twin.DesiredVersion, isSynthetic: true, DateTimeOffset.UtcNow));
            }
        }
    }

    private DeviceTwinProperties ParseTwin(byte[] payload)
    {
        try
        {
            if (JsonNode.Parse(payload) is JsonObject root && root["desired"] is JsonObject desired && root["reported"] is JsonObject reported)
            {
                return new DeviceTwinProperties(
                    DesiredPropertiesDiff.WithoutMetadata(desired),
                    VersionOf(desired),
                    DesiredPropertiesDiff.WithoutMetadata(reported),
                    VersionOf(reported));
            }
        }
        catch (JsonException)
        {
            // Reported below.
        }

        throw new IoTHubServiceException($"IoT Hub answered the twin read of '{_endpoint.ClientId}' with a body that is not {{\"desired\":{{…}},\"reported\":{{…}}}}.");
    }

    private static long VersionOf(JsonObject section) =>
        section["$version"] is JsonValue v && v.TryGetValue<long>(out var version) ? version : 0;

    private static bool HasErrorCode(byte[] payload)
    {
        if (payload.Length == 0 || payload[0] != (byte)'{')
        {
            return false;
        }

        try
        {
            using var doc = JsonDocument.Parse(payload);
            return doc.RootElement.ValueKind == JsonValueKind.Object
                && (doc.RootElement.TryGetProperty("errorCode", out _) || doc.RootElement.TryGetProperty("ErrorCode", out _));
        }
        catch (JsonException)
        {
            return false;
        }
    }

    // ------------------------------------------------------------------ events

    private void SetStatus(DeviceConnectionStatus status, string reason, Exception? error)
    {
        lock (_sync)
        {
            if (_status == DeviceConnectionStatus.Closed || (_status == status && error is null))
            {
                return;
            }

            _status = status;
        }

        var args = new DeviceConnectionStatusEventArgs(status, reason, error);
        _events.Writer.TryWrite(() => ConnectionStatusChanged?.Invoke(this, args));
    }

    private void Raise(DesiredPropertiesEventArgs args) =>
        _events.Writer.TryWrite(() => DesiredPropertiesReceived?.Invoke(this, args));

    private async Task PumpEventsAsync()
    {
        await foreach (var raise in _events.Reader.ReadAllAsync().ConfigureAwait(false))
        {
            try
            {
                raise();
            }
#pragma warning disable CA1031 // A subscriber's exception must not stop event delivery to the others.
            catch (Exception)
#pragma warning restore CA1031
            {
            }
        }
    }

    private void ThrowIfClosed() => ObjectDisposedException.ThrowIf(Volatile.Read(ref _closed) == 1, this);

    private sealed record TwinResponse(int Status, long? Version, byte[] Payload);
}
