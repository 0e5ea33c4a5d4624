using System.Security.Authentication;
using System.Text;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;
using TwinPS.Protocol;

namespace TwinPS.Client.Device;

/// <summary>
/// Connection supervision of a device client: connects (TLS, CONNECT, the twin and method subscriptions), tracks the
/// <see cref="DeviceConnectionStatus"/>, reconnects with exponential back-off after a drop, and renews a SAS token by
/// reconnecting before it expires. After every (re)connect it reads the twin (<paramref name="readTwin"/>) and hands the
/// result to <paramref name="reconcile"/>. Requests in flight when the connection drops are failed through
/// <paramref name="failRequests"/>; <paramref name="waitForRequests"/> lets them finish before a planned renewal.
/// </summary>
internal sealed class DeviceConnection(
    DeviceEndpoint endpoint,
    IoTHubDeviceClientOptions options,
    Func<MqttApplicationMessageReceivedEventArgs, Task> onMessage,
    Func<CancellationToken, Task<DeviceTwinProperties>> readTwin,
    Action<DeviceTwinProperties, bool> reconcile,
    Action<Func<string, Exception>> failRequests,
    Func<TimeSpan, CancellationToken, Task> waitForRequests,
    Action<DeviceConnectionStatusEventArgs> statusChanged) : IDisposable
{
    private static readonly MqttClientFactory Factory = new();
    private static readonly TimeSpan RenewalDrainTime = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan DisconnectTimeout = TimeSpan.FromSeconds(5);

    private readonly object _sync = new();
    private readonly SemaphoreSlim _connectGate = new(1, 1);
    private readonly SemaphoreSlim _wake = new(0);
    private readonly CancellationTokenSource _lifetime = new();
    private IMqttClient? _mqtt;
    private DeviceConnectionStatus _status = DeviceConnectionStatus.Disconnected;
    private Task? _supervisor;
    private Timer? _renewTimer;
    private int _renewRequested;
    private TaskCompletionSource? _renewal;
    private int _closed;
    private int _disposed;

    /// <summary>Cancelled when the client closes (read it before <see cref="Dispose"/>).</summary>
    public CancellationToken Lifetime => _lifetime.Token;

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

    public bool IsClosed => Volatile.Read(ref _closed) == 1;

    /// <summary>Whether <paramref name="client"/> is still the connection in use.</summary>
    public bool IsCurrent(IMqttClient client)
    {
        lock (_sync)
        {
            return ReferenceEquals(_mqtt, client);
        }
    }

    /// <summary>Connects and reads the twin once, then supervises the connection until closed.</summary>
    public async Task OpenAsync(CancellationToken cancellationToken)
    {
        lock (_sync)
        {
            if (_status is DeviceConnectionStatus.Connected or DeviceConnectionStatus.Connecting or DeviceConnectionStatus.Reconnecting)
            {
                throw new InvalidOperationException($"The device client of '{endpoint.ClientId}' is already open (status {_status}).");
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

    /// <summary>
    /// The connection to send on. While a token renewal reconnects, waits (at most the connect timeout) for the new
    /// connection instead of failing; otherwise throws <see cref="IoTHubServiceException"/> when not connected.
    /// </summary>
    public async Task<IMqttClient> CurrentClientAsync(string operation, CancellationToken cancellationToken)
    {
        var until = DateTime.UtcNow + options.ConnectTimeout;
        while (true)
        {
            var client = Volatile.Read(ref _mqtt);
            if (client is not null)
            {
                return client;
            }

            var renewal = Volatile.Read(ref _renewal);
            var left = until - DateTime.UtcNow;
            if (renewal is null || left <= TimeSpan.Zero)
            {
                throw DeviceErrors.NotConnected(endpoint.ClientId, Status, operation);
            }

            try
            {
                await renewal.Task.WaitAsync(left, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                // Checked once more above, then reported.
            }
        }
    }

    /// <summary>
    /// Publishes <paramref name="payload"/> on <paramref name="topic"/> at QoS 0 (what IoT Hub's twin and method topics
    /// use); a failure to send is <see cref="IoTHubServiceException"/> <c>ConnectionError</c> naming <paramref name="operation"/>.
    /// </summary>
    public async Task PublishAsync(IMqttClient client, string operation, string topic, byte[] payload, CancellationToken cancellationToken)
    {
        var message = new MqttApplicationMessageBuilder()
            .WithTopic(topic)
            .WithPayload(payload)
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtMostOnce)
            .Build();
        try
        {
            await client.PublishAsync(message, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            throw DeviceErrors.ConnectionLost(endpoint.ClientId, operation, ex);
        }
    }

    /// <summary>Disconnects (MQTT DISCONNECT), fails anything pending and stops reconnecting. Safe to call more than once.</summary>
    public async Task CloseAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _closed, 1) == 1)
        {
            return;
        }

        await _lifetime.CancelAsync().ConfigureAwait(false);
        Interlocked.Exchange(ref _renewTimer, null)?.Dispose();
        IMqttClient? client;
        lock (_sync)
        {
            client = _mqtt;
            _mqtt = null;
        }

        failRequests(op => DeviceErrors.NotConnected(endpoint.ClientId, DeviceConnectionStatus.Closed, op));
        if (client is not null)
        {
            await DisconnectQuietlyAsync(client, cancellationToken).ConfigureAwait(false);
        }

        SetStatus(DeviceConnectionStatus.Closed, "closed", null);
    }

    /// <summary>Waits (at most <paramref name="wait"/>) for the supervisor to stop after <see cref="CloseAsync"/>.</summary>
    public async Task WhenStoppedAsync(TimeSpan wait)
    {
        Task? supervisor;
        lock (_sync)
        {
            supervisor = _supervisor;
        }

        if (supervisor is not null)
        {
            await Task.WhenAny(supervisor, Task.Delay(wait, CancellationToken.None)).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Releases the gates, the wake signal, the lifetime source and the renewal timer, once the supervisor has stopped
    /// (at once if it has; when it does otherwise). Call after <see cref="CloseAsync"/>.
    /// </summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        Task? supervisor;
        lock (_sync)
        {
            supervisor = _supervisor;
        }

        if (supervisor is null || supervisor.IsCompleted)
        {
            DisposeResources();
        }
        else
        {
            supervisor.ContinueWith(_ => DisposeResources(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
    }

    private void DisposeResources()
    {
        Interlocked.Exchange(ref _renewTimer, null)?.Dispose();
        _connectGate.Dispose();
        _wake.Dispose();
        _lifetime.Dispose();
    }

    private async Task ConnectAndSyncAsync(bool synthetic, CancellationToken cancellationToken)
    {
        await _connectGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        IMqttClient? client = null;
        try
        {
            client = await ConnectTransportAsync(cancellationToken).ConfigureAwait(false);
            var twin = await readTwin(cancellationToken).ConfigureAwait(false);
            if (!IsCurrent(client))
            {
                throw DeviceErrors.ConnectionLost(endpoint.ClientId, "twin read after connecting");
            }

            reconcile(twin, synthetic);
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
        client.ApplicationMessageReceivedAsync += onMessage;
        client.DisconnectedAsync += e => OnDisconnectedAsync(client, e);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.ConnectTimeout);
        MqttClientConnectResult result;
        try
        {
            result = await client.ConnectAsync(BuildOptions(), timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            client.Dispose();
            throw DeviceErrors.ConnectionFailed(endpoint.ClientId, endpoint.Describe(), new TimeoutException($"no CONNACK within {options.ConnectTimeout.TotalSeconds} s"));
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // No CONNACK came (TCP, TLS or the hub closed the connection): MQTTnet reports a CONNACK it received as the result.
            client.Dispose();
            throw DeviceErrors.ConnectionFailed(endpoint.ClientId, endpoint.Describe(), ex);
        }

        // A refused CONNACK: its return code says why.
        if (result.ResultCode != MqttClientConnectResultCode.Success)
        {
            client.Dispose();
            throw RefusalFor(result.ResultCode);
        }

        InstallClient(client);
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
                throw DeviceErrors.ConnectionFailed(endpoint.ClientId, endpoint.Describe(), new InvalidOperationException("the hub refused the twin or method topic subscriptions"));
            }
        }
        catch (Exception ex) when (ex is not IoTHubServiceException && !cancellationToken.IsCancellationRequested)
        {
            throw DeviceErrors.ConnectionLost(endpoint.ClientId, "subscription", ex);
        }

        return client;
    }

    private void InstallClient(IMqttClient client)
    {
        TaskCompletionSource? renewal;
        lock (_sync)
        {
            _mqtt = client;
            renewal = _renewal;
        }

        // Requests waiting for a renewal's new connection go on at once.
        renewal?.TrySetResult();
    }

    private MqttClientOptions BuildOptions()
    {
        var password = endpoint.CreatePassword(options.SasTokenTimeToLive, out _);
        var trustedCa = options.TrustedCACertificate;
        var builder = Factory.CreateClientOptionsBuilder()
            .WithTcpServer(endpoint.DialHost, endpoint.Port)
            .WithProtocolVersion(MqttProtocolVersion.V311)
            .WithClientId(endpoint.ClientId)
            .WithCleanSession(false)
            .WithKeepAlivePeriod(options.KeepAlive)
            .WithTimeout(options.ConnectTimeout)
            .WithCredentials(new MqttClientCredentials(endpoint.UserName, password is null ? null : Encoding.UTF8.GetBytes(password)))
            .WithTlsOptions(tls =>
            {
                tls.UseTls(true)
                    .WithTargetHost(endpoint.DialHost)
                    .WithSslProtocols(SslProtocols.Tls12 | SslProtocols.Tls13)
                    .WithCertificateValidationHandler(e => ServerCertificateValidator.Validate(e.Certificate, e.Chain, e.SslPolicyErrors, trustedCa));
                if (endpoint.Certificate is not null)
                {
                    tls.WithClientCertificates([endpoint.Certificate]);
                }
            });
        return builder.Build();
    }

    private IoTHubServiceException RefusalFor(MqttClientConnectResultCode code) => code switch
    {
        MqttClientConnectResultCode.ServerUnavailable or MqttClientConnectResultCode.ServerBusy or MqttClientConnectResultCode.QuotaExceeded
            => DeviceErrors.Unavailable(endpoint.ClientId, $"CONNACK: {code}"),
        _ => DeviceErrors.Refused(endpoint.ClientId, $"CONNACK: {code}"),
    };

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

        failRequests(op => DeviceErrors.ConnectionLost(endpoint.ClientId, op, e.Exception));
        if (IsClosed || !wasConnected)
        {
            return Task.CompletedTask;
        }

        var reason = "connection lost" + (e.Reason == MqttClientDisconnectReason.NormalDisconnection ? string.Empty : $" ({e.Reason})");
        if (options.AutoReconnect)
        {
            SetStatus(DeviceConnectionStatus.Reconnecting, reason, e.Exception);
            Wake();
        }
        else
        {
            SetStatus(DeviceConnectionStatus.Disconnected, reason, e.Exception);
        }

        return Task.CompletedTask;
    }

    private void Wake()
    {
        try
        {
            _wake.Release();
        }
        catch (ObjectDisposedException)
        {
            // Closed and disposed: nobody supervises any more.
        }
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
                else if (Volatile.Read(ref _mqtt) is null && options.AutoReconnect && Status == DeviceConnectionStatus.Reconnecting)
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
        var renewal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref _renewal, renewal);
        try
        {
            // Let requests in flight finish (they cannot survive the new connection).
            await waitForRequests(RenewalDrainTime, token).ConfigureAwait(false);

            IMqttClient? client;
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
            failRequests(op => DeviceErrors.ConnectionLost(endpoint.ClientId, op));
            await DisconnectQuietlyAsync(client, token).ConfigureAwait(false);
            await ReconnectAsync(firstAttemptAtOnce: true, token).ConfigureAwait(false);
        }
        finally
        {
            Volatile.Write(ref _renewal, null);
            renewal.TrySetResult();
        }
    }

    private async Task ReconnectAsync(bool firstAttemptAtOnce, CancellationToken token)
    {
        var delay = options.ReconnectInitialDelay;
        for (var attempt = 1; !token.IsCancellationRequested; attempt++)
        {
            if (attempt > 1 || !firstAttemptAtOnce)
            {
                var jitter = 0.8 + (Random.Shared.NextDouble() * 0.4);
                await Task.Delay(TimeSpan.FromMilliseconds(delay.TotalMilliseconds * jitter), token).ConfigureAwait(false);
                delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, options.ReconnectMaxDelay.TotalMilliseconds));
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
        if (!endpoint.CanRenewToken)
        {
            return;
        }

        var due = TimeSpan.FromMilliseconds(options.SasTokenTimeToLive.TotalMilliseconds * 0.75);
        var timer = new Timer(
            _ =>
            {
                Interlocked.Exchange(ref _renewRequested, 1);
                Wake();
            },
            null,
            due,
            Timeout.InfiniteTimeSpan);
        Interlocked.Exchange(ref _renewTimer, timer)?.Dispose();
        if (IsClosed)
        {
            // Closed while connecting: the timer must not outlive the client.
            Interlocked.Exchange(ref _renewTimer, null)?.Dispose();
        }
    }

    private static async Task DisconnectQuietlyAsync(IMqttClient client, CancellationToken cancellationToken)
    {
        try
        {
            if (client.IsConnected)
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(DisconnectTimeout);
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

        statusChanged(new DeviceConnectionStatusEventArgs(status, reason, error));
    }
}
