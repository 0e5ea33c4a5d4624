using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using MQTTnet;
using MQTTnet.Protocol;
using MQTTnet.Server;
using TwinPS.Emulator.Domain;
using TwinPS.Emulator.Hosting;
using TwinPS.Emulator.Methods;
using TwinPS.Emulator.Limits;
using TwinPS.Protocol;

namespace TwinPS.Emulator.Mqtt;

/// <summary>
/// The hub's device endpoint: MQTT 3.1.1 over TLS (MQTTnet.Server) with the emulator's server certificate. Devices
/// authenticate on CONNECT, read their twin, patch reported properties and receive desired-property notifications.
/// Nothing a device publishes is routed to other clients; every answer goes to the one connection that asked.
/// </summary>
internal sealed partial class MqttDeviceEndpoint : IEmulatorEndpoint, IAsyncDisposable
{
    private static readonly TimeSpan ExpiryScanInterval = TimeSpan.FromSeconds(15);

    private readonly EmulatorContext _context;
    private readonly DeviceTable _devices;
    private readonly HubTwins _twins;
    private readonly DeviceConnections _deviceConnections;
    private readonly HubEvents _events;
    private readonly MqttConnectAuthenticator _authenticator;
    private readonly ILogger _logger;
    private readonly DeviceMethodBroker _methods;
    private readonly HubThrottle _throttle;
    private readonly FaultInjector _faults;
    private readonly ConcurrentDictionary<string, DeviceCredentials> _authenticated = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, DeviceConnection> _connections = new(StringComparer.Ordinal);
    private MqttServer? _server;
    private Timer? _expiryTimer;

    public MqttDeviceEndpoint(EmulatorContext context, DeviceTable devices, HubTwins twins, DeviceConnections deviceConnections, HubEvents events, DeviceMethodBroker methods, HubThrottle throttle, FaultInjector faults, ILoggerFactory loggerFactory)
    {
        ArgumentNullException.ThrowIfNull(loggerFactory);
        _methods = methods;
        _context = context;
        _devices = devices;
        _twins = twins;
        _deviceConnections = deviceConnections;
        _events = events;
        _throttle = throttle;
        _faults = faults;
        _authenticator = new MqttConnectAuthenticator(context, devices);
        _logger = loggerFactory.CreateLogger("TwinPS.Emulator.Mqtt");
    }

    public string Name => "mqtt";

    /// <summary>Number of device connections currently open (for statistics and benchmarks).</summary>
    public int ConnectionCount => _connections.Count;

    public async Task<int> StartAsync(CancellationToken cancellationToken)
    {
        var (server, listener) = CreateServer(_context.RequestedMqttPort);
        await server.StartAsync().ConfigureAwait(false);
        _server = server;
        var port = listener.BoundPort;

        _events.DesiredPropertiesChanged += OnDesiredPropertiesChanged;
        _events.IdentityChanged += OnIdentityChanged;
        _expiryTimer = new Timer(_ => DisconnectExpired(), null, ExpiryScanInterval, ExpiryScanInterval);
        return port;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        _events.DesiredPropertiesChanged -= OnDesiredPropertiesChanged;
        _events.IdentityChanged -= OnIdentityChanged;
        if (_expiryTimer is not null)
        {
            await _expiryTimer.DisposeAsync().ConfigureAwait(false);
        }

        if (_server is { IsStarted: true })
        {
            await _server.StopAsync().WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_expiryTimer is not null)
        {
            await _expiryTimer.DisposeAsync().ConfigureAwait(false);
        }

        _server?.Dispose();
    }

    private (MqttServer Server, MqttTlsListener Listener) CreateServer(int port)
    {
        var options = new MqttServerOptionsBuilder()
            .WithoutDefaultEndpoint()
            .WithPersistentSessions(false)
            .WithMaxPendingMessagesPerClient(1000)
            // A client that completed TLS has as long to send CONNECT as it had to complete TLS.
            .WithDefaultCommunicationTimeout(_context.Options.HandshakeTimeout)
            .Build();

        // Our own listener (not MQTTnet's): exactly the bound address, a TLS handshake timeout, and the packet size
        // limit enforced on the fixed header before MQTTnet buffers anything. Which client certificate is acceptable
        // is decided per identity at CONNECT (thumbprint), not by the TLS layer.
        var listener = new MqttTlsListener(
            _context.BindAddress,
            port,
            _context.ServerCertificate,
            AcceptClientCertificate,
            _context.Options.HandshakeTimeout,
            MqttLimits.MaxPacketRemainingLength,
            _logger);

        var server = new MqttServerFactory().CreateMqttServer(options, [listener]);
        server.ValidatingConnectionAsync += OnValidatingConnectionAsync;
        server.ClientConnectedAsync += OnClientConnectedAsync;
        server.ClientDisconnectedAsync += OnClientDisconnectedAsync;
        server.InterceptingSubscriptionAsync += OnInterceptingSubscriptionAsync;
        server.InterceptingUnsubscriptionAsync += OnInterceptingUnsubscriptionAsync;
        server.InterceptingPublishAsync += OnInterceptingPublishAsync;
        return (server, listener);
    }

    // Self-signed device certificates never chain to a trusted root (chain errors are expected) and SAS devices send
    // none; the thumbprint check at CONNECT is what authenticates a certificate.
    private static bool AcceptClientCertificate(object sender, System.Security.Cryptography.X509Certificates.X509Certificate? certificate, System.Security.Cryptography.X509Certificates.X509Chain? chain, System.Net.Security.SslPolicyErrors errors) =>
        (errors & ~(System.Net.Security.SslPolicyErrors.RemoteCertificateNotAvailable | System.Net.Security.SslPolicyErrors.RemoteCertificateChainErrors)) == System.Net.Security.SslPolicyErrors.None;

    // ------------------------------------------------------------------ connections

    private Task OnValidatingConnectionAsync(ValidatingConnectionEventArgs e)
    {
        try
        {
            var will = e.ChannelAdapter is DeviceChannelAdapter adapter && adapter.HasWill ? adapter.WillTopic ?? string.Empty : null;
            var credentials = _authenticator.Authenticate(e.ProtocolVersion, e.ClientId, e.UserName, e.Password, e.ClientCertificate, will, out var refusal);
            if (credentials is null)
            {
                e.ReasonCode = refusal!.Code;
                LogRefused(_logger, SafeId(e.ClientId), refusal.Reason);
                return Task.CompletedTask;
            }

            e.ReasonCode = MqttConnectReasonCode.Success;
            _authenticated[EndpointKey(e.RemoteEndPoint)] = credentials;
        }
#pragma warning disable CA1031 // whatever goes wrong with one CONNECT, the answer is a refusal, never a crash
        catch (Exception ex)
#pragma warning restore CA1031
        {
            e.ReasonCode = MqttConnectReasonCode.NotAuthorized;
            LogRefused(_logger, SafeId(e.ClientId), "internal error: " + ex.GetType().Name);
        }

        return Task.CompletedTask;
    }

    private async Task OnClientConnectedAsync(ClientConnectedEventArgs e)
    {
        var key = EndpointKey(e.RemoteEndPoint);
        if (!_authenticated.TryRemove(key, out var credentials))
        {
            return;
        }

        var connection = new DeviceConnection(credentials, key, this);
        _connections[credentials.ClientId] = connection;
        LogConnected(_logger, credentials.ClientId, credentials.Method);
        await _deviceConnections.SetConnectionStateAsync(credentials.DeviceId, credentials.ModuleId, connected: true).ConfigureAwait(false);
    }

    private async Task OnClientDisconnectedAsync(ClientDisconnectedEventArgs e)
    {
        var key = EndpointKey(e.RemoteEndPoint);
        _authenticated.TryRemove(key, out _);
        if (e.ClientId is null || e.DisconnectType == MqttClientDisconnectType.Takeover)
        {
            return; // A newer connection of the same identity replaced this one; the identity stays connected.
        }

        if (_connections.TryGetValue(e.ClientId, out var connection) && connection.EndpointKey == key
            && _connections.TryRemove(new KeyValuePair<string, DeviceConnection>(e.ClientId, connection)))
        {
            LogDisconnected(_logger, e.ClientId, e.DisconnectType.ToString());
            _methods.Unsubscribed(connection.ClientId, connection);
            await _deviceConnections.SetConnectionStateAsync(connection.DeviceId, connection.ModuleId, connected: false).ConfigureAwait(false);
        }
    }

    private Task OnInterceptingSubscriptionAsync(InterceptingSubscriptionEventArgs e)
    {
        if (!_connections.TryGetValue(e.ClientId, out var connection))
        {
            e.ProcessSubscription = false;
            e.CloseConnection = true;
            return Task.CompletedTask;
        }

        var filter = e.TopicFilter.Topic ?? string.Empty;
        if (!MqttTopicRules.IsAllowedSubscription(filter, connection.DeviceId, connection.ModuleId))
        {
            LogProtocolError(_logger, connection.ClientId, "SUBSCRIBE to a topic filter IoT Hub does not offer: " + Shorten(filter));
            e.ProcessSubscription = false;
            e.CloseConnection = true;
            return Task.CompletedTask;
        }

        if (e.TopicFilter.QualityOfServiceLevel == MqttQualityOfServiceLevel.ExactlyOnce)
        {
            // IoT Hub grants at most QoS 1.
            e.TopicFilter.QualityOfServiceLevel = MqttQualityOfServiceLevel.AtLeastOnce;
            e.Response.ReasonCode = MqttSubscribeReasonCode.GrantedQoS1;
        }

        if (filter == DeviceTwinTopics.ResponseFilter)
        {
            connection.TwinResponsesSubscribed = true;
        }
        else if (filter == DeviceTwinTopics.DesiredFilter)
        {
            connection.DesiredSubscribed = true;
        }
        else if (filter == DirectMethodTopics.RequestFilter)
        {
            _methods.Subscribed(connection.ClientId, connection);
        }

        return Task.CompletedTask;
    }

    private Task OnInterceptingUnsubscriptionAsync(InterceptingUnsubscriptionEventArgs e)
    {
        if (e.Topic == DirectMethodTopics.RequestFilter && _connections.TryGetValue(e.ClientId, out var connection))
        {
            _methods.Unsubscribed(connection.ClientId, connection);
        }

        return Task.CompletedTask;
    }

    private async Task OnInterceptingPublishAsync(InterceptingPublishEventArgs e)
    {
        // Device messages are never routed to other clients; the hub answers them itself.
        e.ProcessPublish = false;
        if (!_connections.TryGetValue(e.ClientId, out var connection))
        {
            e.CloseConnection = true;
            return;
        }

        var message = e.ApplicationMessage;
        if (message.QualityOfServiceLevel == MqttQualityOfServiceLevel.ExactlyOnce)
        {
            LogProtocolError(_logger, connection.ClientId, "PUBLISH with QoS 2");
            e.CloseConnection = true;
            return;
        }

        var topic = message.Topic ?? string.Empty;
        var kind = MqttTopicRules.Classify(topic, connection.DeviceId, connection.ModuleId, out var rid);
        try
        {
            switch (kind)
            {
                case DevicePublishKind.TwinGet:
                case DevicePublishKind.TwinPatchReported:
                    if (string.IsNullOrEmpty(rid))
                    {
                        LogProtocolError(_logger, connection.ClientId, "twin request without $rid");
                        e.CloseConnection = true;
                        return;
                    }

                    await _deviceConnections.RecordActivityAsync(connection.DeviceId, connection.ModuleId).ConfigureAwait(false);
                    bool isGet = kind == DevicePublishKind.TwinGet;
                    FaultKind? fault = _faults.Decide(isGet ? FaultSite.MqttTwinGet : FaultSite.MqttReportedPatch);
                    switch (fault)
                    {
                        case FaultKind.ServiceUnavailable or FaultKind.ServerError:
                            LogFault(_logger, connection.ClientId, fault.Value.ToString());
                            await SendErrorAsync(connection, rid, fault == FaultKind.ServerError
                                ? new IoTHubProtocolException(IoTHubErrorCode.ServerError, "The service encountered an internal error (injected fault).")
                                : new IoTHubProtocolException(IoTHubErrorCode.ServiceUnavailable, "The service is temporarily unavailable (injected fault). Try again later.")).ConfigureAwait(false);
                            return;
                        case FaultKind.SlowResponse:
                            await Task.Delay(_faults.Settings.SlowDelay).ConfigureAwait(false);
                            break;
                        case FaultKind.MqttDisconnect when isGet:
                            LogFault(_logger, connection.ClientId, "MqttDisconnect before answering a twin GET");
                            e.CloseConnection = true;
                            return;
                    }

                    // Twin reads and updates over MQTT count against the same budgets as over REST.
                    ThrottleOutcome outcome = await _throttle.AcquireAsync(isGet ? ThrottleClass.TwinRead : ThrottleClass.TwinUpdate, 1, CancellationToken.None).ConfigureAwait(false);
                    if (!outcome.Admitted)
                    {
                        await SendAsync(connection, DeviceTwinTopics.Response(429, rid, null), []).ConfigureAwait(false);
                        return;
                    }

                    if (isGet)
                    {
                        await AnswerTwinGetAsync(connection, rid).ConfigureAwait(false);
                    }
                    else if (fault == FaultKind.MqttDisconnect)
                    {
                        // Committed, and the answer lost with the connection.
                        await AnswerPatchReportedAsync(connection, rid, System.Buffers.BuffersExtensions.ToArray(message.Payload), answer: false).ConfigureAwait(false);
                        LogFault(_logger, connection.ClientId, "MqttDisconnect after committing a reported PATCH");
                        e.CloseConnection = true;
                    }
                    else
                    {
                        await AnswerPatchReportedAsync(connection, rid, System.Buffers.BuffersExtensions.ToArray(message.Payload)).ConfigureAwait(false);
                    }

                    return;
                case DevicePublishKind.Telemetry:
                    await _deviceConnections.RecordActivityAsync(connection.DeviceId, connection.ModuleId).ConfigureAwait(false);
                    return;
                case DevicePublishKind.MethodResponse:
                    if (!DirectMethodTopics.TryParseResponse(topic, out var status, out var requestId))
                    {
                        LogProtocolError(_logger, connection.ClientId, "method response on a malformed topic: " + Shorten(topic));
                        e.CloseConnection = true;
                        return;
                    }

                    await _deviceConnections.RecordActivityAsync(connection.DeviceId, connection.ModuleId).ConfigureAwait(false);
                    _methods.TryComplete(connection, requestId, status, message.Payload.IsSingleSegment ? message.Payload.FirstSpan : System.Buffers.BuffersExtensions.ToArray(message.Payload));
                    return;
                default:
                    LogProtocolError(_logger, connection.ClientId, "PUBLISH to a topic IoT Hub does not offer: " + Shorten(topic));
                    e.CloseConnection = true;
                    return;
            }
        }
#pragma warning disable CA1031 // a device's bad message must never take the endpoint down
        catch (Exception ex)
#pragma warning restore CA1031
        {
            LogProtocolError(_logger, connection.ClientId, "unexpected failure handling a PUBLISH: " + ex.GetType().Name);
            e.CloseConnection = true;
        }
    }

    // ------------------------------------------------------------------ twin

    private async Task AnswerTwinGetAsync(DeviceConnection connection, string rid)
    {
        var view = _twins.GetDeviceTwinView(connection.DeviceId, connection.ModuleId);
        if (view is null)
        {
            var error = connection.ModuleId is null
                ? new IoTHubProtocolException(IoTHubErrorCode.DeviceNotFound, $"Device {connection.DeviceId} not found.")
                : new IoTHubProtocolException(IoTHubErrorCode.ModuleNotFound, $"Module {connection.ClientId} not found.");
            await SendErrorAsync(connection, rid, error).ConfigureAwait(false);
            return;
        }

        await SendAsync(connection, DeviceTwinTopics.Response(200, rid, null), Encoding.UTF8.GetBytes(view.ToJsonString())).ConfigureAwait(false);
    }

    private async Task AnswerPatchReportedAsync(DeviceConnection connection, string rid, byte[] payload, bool answer = true)
    {
        JsonObject patch;
        try
        {
            if (StrictJson.Parse(payload, Rest.RestLimits.MaxJsonDepth) is not JsonObject parsed)
            {
                await SendErrorAsync(connection, rid, new IoTHubProtocolException(IoTHubErrorCode.ArgumentInvalid, "The reported-properties patch must be a JSON object.")).ConfigureAwait(false);
                return;
            }

            patch = parsed;
        }
        catch (JsonException ex)
        {
            await SendErrorAsync(connection, rid, new IoTHubProtocolException(IoTHubErrorCode.IotHubFormatError, Rest.RequestBody.Describe("The reported-properties patch", ex))).ConfigureAwait(false);
            return;
        }

        long version;
        try
        {
            version = await _twins.PatchReportedAsync(connection.DeviceId, connection.ModuleId, patch).ConfigureAwait(false);
        }
        catch (IoTHubProtocolException ex)
        {
            await SendErrorAsync(connection, rid, ex).ConfigureAwait(false);
            return;
        }

        if (answer) await SendAsync(connection, DeviceTwinTopics.Response(204, rid, version), []).ConfigureAwait(false);
    }

    private Task SendErrorAsync(DeviceConnection connection, string rid, IoTHubProtocolException error)
    {
        var status = error.HttpStatus is >= 400 and <= 599 ? error.HttpStatus : 400;
        var code = error.Code == IoTHubErrorCode.Unknown ? IoTHubErrorCode.ArgumentInvalid : error.Code;
        var body = IoTHubErrorEnvelope.WriteNumeric(code, error.Message, IoTHubErrorEnvelope.NewTrackingId(), DateTimeOffset.UtcNow);
        return SendAsync(connection, DeviceTwinTopics.Response(status, rid, null), Encoding.UTF8.GetBytes(body));
    }

    private void OnDesiredPropertiesChanged(object? sender, DesiredPropertiesChangedEventArgs e)
    {
        var clientId = e.ModuleId is null ? e.DeviceId : $"{e.DeviceId}/{e.ModuleId}";
        if (!_connections.TryGetValue(clientId, out var connection) || !connection.DesiredSubscribed)
        {
            return; // IoT Hub does not queue desired notifications for devices that are not listening.
        }

        if (_faults.Decide(FaultSite.MqttDesiredNotification) == FaultKind.MqttDisconnect)
        {
            // The patch is committed; the device loses its connection instead of the notification.
            _ = DisconnectAsync(connection, "injected fault MqttDisconnect instead of a desired notification");
            return;
        }

        var payload = Encoding.UTF8.GetBytes(e.Patch.ToJsonString());
        _ = SendAsync(connection, DeviceTwinTopics.DesiredNotification(e.DesiredVersion), payload);
    }

    private void OnIdentityChanged(object? sender, IdentityChangedEventArgs e)
    {
        foreach (var connection in _connections.Values)
        {
            if (!string.Equals(connection.DeviceId, e.DeviceId, StringComparison.Ordinal)
                || (e.ModuleId is not null && !string.Equals(connection.ModuleId, e.ModuleId, StringComparison.Ordinal)))
            {
                continue;
            }

            var identity = _devices.FindIdentity(connection.DeviceId, connection.ModuleId);
            if (e.Deleted || identity is null || !identity.IsEnabled)
            {
                // A deleted or disabled identity loses its connection, as on IoT Hub.
                _ = DisconnectAsync(connection, identity is null ? "identity deleted" : "device disabled");
            }
        }
    }

    private void DisconnectExpired()
    {
        var now = DateTimeOffset.UtcNow;
        foreach (var connection in _connections.Values)
        {
            if (connection.TokenExpiresOn is { } expires && SharedAccessSignatureToken.IsPastExpiry(now, expires, SharedAccessSignatureToken.DefaultClockSkew))
            {
                _ = DisconnectAsync(connection, "SAS token expired");
            }
        }
    }

    private async Task DisconnectAsync(DeviceConnection connection, string reason)
    {
        try
        {
            LogDisconnecting(_logger, connection.ClientId, reason);
            if (_server is not null)
            {
                await _server.DisconnectClientAsync(connection.ClientId, new MqttServerClientDisconnectOptions { ReasonCode = MqttDisconnectReasonCode.NotAuthorized }).ConfigureAwait(false);
            }
        }
#pragma warning disable CA1031 // the client may already be gone
        catch (Exception)
#pragma warning restore CA1031
        {
        }
    }

    /// <summary>Delivers one QoS 0 message to exactly this connection's session (never through topic routing).</summary>
    private async Task SendAsync(DeviceConnection connection, string topic, byte[] payload)
    {
        var isResponse = topic.StartsWith("$iothub/twin/res/", StringComparison.Ordinal);
        if (_server is null || (isResponse && !connection.TwinResponsesSubscribed))
        {
            return;
        }

        try
        {
            var session = await _server.GetSessionAsync(connection.ClientId).ConfigureAwait(false);
            if (session is null)
            {
                return;
            }

            var message = new MqttApplicationMessageBuilder()
                .WithTopic(topic)
                .WithPayload(payload)
                .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtMostOnce)
                .Build();
            if (!session.TryEnqueueApplicationMessage(message, out _))
            {
                LogDeliveryFailed(_logger, connection.ClientId, "send queue full");
            }
        }
#pragma warning disable CA1031 // the device went away meanwhile: nothing to deliver to
        catch (Exception ex)
#pragma warning restore CA1031
        {
            LogDeliveryFailed(_logger, connection.ClientId, ex.GetType().Name);
        }
    }

    private static string EndpointKey(EndPoint? endPoint) => endPoint?.ToString() ?? string.Empty;

    private static string SafeId(string? clientId) => clientId is null ? "(none)" : Shorten(clientId);

    private static string Shorten(string text) => text.Length > 200 ? text[..200] + "…" : text;

    [LoggerMessage(Level = LogLevel.Information, Message = "MQTT CONNECT refused for '{ClientId}': {Reason}")]
    private static partial void LogRefused(ILogger logger, string clientId, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "MQTT '{ClientId}' connected ({Method})")]
    private static partial void LogConnected(ILogger logger, string clientId, string method);

    [LoggerMessage(Level = LogLevel.Debug, Message = "MQTT '{ClientId}' disconnected ({Type})")]
    private static partial void LogDisconnected(ILogger logger, string clientId, string type);

    [LoggerMessage(Level = LogLevel.Information, Message = "MQTT '{ClientId}' disconnected by the hub: {Reason}")]
    private static partial void LogDisconnecting(ILogger logger, string clientId, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "MQTT '{ClientId}' closed for a protocol error: {Problem}")]
    private static partial void LogProtocolError(ILogger logger, string clientId, string problem);

    [LoggerMessage(Level = LogLevel.Debug, Message = "MQTT '{ClientId}': injected fault {Fault}")]
    private static partial void LogFault(ILogger logger, string clientId, string fault);

    [LoggerMessage(Level = LogLevel.Debug, Message = "MQTT delivery to '{ClientId}' failed: {Error}")]
    private static partial void LogDeliveryFailed(ILogger logger, string clientId, string error);

    /// <summary>One open device connection (also the channel the method broker sends requests on).</summary>
    private sealed class DeviceConnection(DeviceCredentials credentials, string endpointKey, MqttDeviceEndpoint endpoint) : IMethodChannel
    {
        public Task SendAsync(string topic, byte[] payload) => endpoint.SendAsync(this, topic, payload);

        public string DeviceId => credentials.DeviceId;

        public string? ModuleId => credentials.ModuleId;

        public string ClientId => credentials.ClientId;

        public DateTimeOffset? TokenExpiresOn => credentials.TokenExpiresOn;

        public string EndpointKey { get; } = endpointKey;

        private volatile bool _twinResponsesSubscribed;
        private volatile bool _desiredSubscribed;

        public bool TwinResponsesSubscribed
        {
            get => _twinResponsesSubscribed;
            set => _twinResponsesSubscribed = value;
        }

        public bool DesiredSubscribed
        {
            get => _desiredSubscribed;
            set => _desiredSubscribed = value;
        }
    }
}
