using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;
using MQTTnet.Adapter;
using MQTTnet.Diagnostics.Logger;
using MQTTnet.Formatter;
using MQTTnet.Implementations;
using MQTTnet.Server;

namespace TwinPS.Emulator.Mqtt;

/// <summary>
/// The MQTT/TLS listener, in place of MQTTnet's own: it listens on exactly the one address it is given (one address
/// family; an IPv6 socket is never dual-mode), gives a client <see cref="HandshakeTimeout"/> to complete TLS (like
/// Kestrel's HTTPS handshake timeout), and puts <see cref="MqttPacketLimitStream"/> between TLS and MQTTnet so that an
/// oversized packet is refused on its fixed header, before anything is buffered — authentication comes later.
/// </summary>
internal sealed partial class MqttTlsListener(
    IPAddress bindAddress,
    int port,
    X509Certificate2 serverCertificate,
    RemoteCertificateValidationCallback clientCertificateValidation,
    TimeSpan handshakeTimeout,
    int maxPacketRemainingLength,
    ILogger logger) : IMqttServerAdapter
{
    private readonly CancellationTokenSource _stopping = new();
    private Socket? _listener;
    private Task? _acceptLoop;
    private MqttServerOptions? _serverOptions;
    private IMqttNetLogger? _mqttLogger;

    public Func<IMqttChannelAdapter, Task>? ClientHandler { get; set; }

    /// <summary>The port actually bound (after <see cref="StartAsync"/>).</summary>
    public int BoundPort { get; private set; }

    public TimeSpan HandshakeTimeout => handshakeTimeout;

    public Task StartAsync(MqttServerOptions options, IMqttNetLogger logger)
    {
        _serverOptions = options;
        _mqttLogger = logger;
        var socket = new Socket(bindAddress.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (bindAddress.AddressFamily == AddressFamily.InterNetworkV6)
            {
                // "--bind ::" means every IPv6 address, not IPv4 as well.
                socket.DualMode = false;
            }

            socket.Bind(new IPEndPoint(bindAddress, port));
            socket.Listen(512);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        _listener = socket;
        BoundPort = ((IPEndPoint)socket.LocalEndPoint!).Port;
        _acceptLoop = Task.Run(AcceptLoopAsync);
        return Task.CompletedTask;
    }

    public async Task StopAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        _listener?.Dispose();
        if (_acceptLoop is not null)
        {
            await _acceptLoop.ConfigureAwait(false);
        }
    }

    public void Dispose()
    {
        _stopping.Cancel();
        _listener?.Dispose();
        _stopping.Dispose();
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener!.AcceptAsync(_stopping.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (ObjectDisposedException)
            {
                return;
            }
            catch (SocketException)
            {
                continue; // The client gave up before it was accepted.
            }

            _ = Task.Run(() => HandleClientAsync(client));
        }
    }

    private async Task HandleClientAsync(Socket socket)
    {
        EndPoint? remote = null;
        Stream? stream = null;
        try
        {
            remote = socket.RemoteEndPoint;
            socket.NoDelay = true;
            var network = new NetworkStream(socket, ownsSocket: true);
            stream = network;
            var tls = new SslStream(network, leaveInnerStreamOpen: false, clientCertificateValidation);
            stream = tls;
            using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token))
            {
                timeout.CancelAfter(handshakeTimeout);
                try
                {
                    await tls.AuthenticateAsServerAsync(
                        new SslServerAuthenticationOptions
                        {
                            ServerCertificate = serverCertificate,
                            ClientCertificateRequired = true,
                            EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
                            CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
                            EncryptionPolicy = EncryptionPolicy.RequireEncryption,
                        },
                        timeout.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!_stopping.IsCancellationRequested)
                {
                    LogHandshakeTimeout(logger, remote?.ToString() ?? "?", handshakeTimeout.TotalSeconds);
                    return;
                }
            }

            X509Certificate2? clientCertificate = tls.RemoteCertificate switch
            {
                null => null,
                X509Certificate2 c => c,
                var c => new X509Certificate2(c),
            };

            var limited = new MqttPacketLimitStream(tls, maxPacketRemainingLength);
            stream = limited;
            var handler = ClientHandler;
            if (handler is null || _serverOptions is null)
            {
                return;
            }

            var channel = new MqttTcpChannel(limited, socket.LocalEndPoint, remote, clientCertificate);
            var formatter = new MqttPacketFormatterAdapter(new MqttBufferWriter(_serverOptions.WriterBufferSize, _serverOptions.WriterBufferSizeMax));
            using var inner = new MqttChannelAdapter(channel, formatter, _mqttLogger);
            using var adapter = new DeviceChannelAdapter(inner);
            await handler(adapter).ConfigureAwait(false);
            if (limited.RefusedLength > 0)
            {
                LogPacketTooLarge(logger, remote?.ToString() ?? "?", limited.RefusedLength, maxPacketRemainingLength);
            }
        }
#pragma warning disable CA1031 // one client's failure (TLS, reset, protocol) must never stop the listener
        catch (Exception ex)
#pragma warning restore CA1031
        {
            LogClientFailed(logger, remote?.ToString() ?? "?", ex.GetType().Name);
        }
        finally
        {
            if (stream is not null)
            {
                try
                {
                    await stream.DisposeAsync().ConfigureAwait(false);
                }
#pragma warning disable CA1031 // the peer may already have reset the connection
                catch (Exception)
#pragma warning restore CA1031
                {
                }
            }

            socket.Dispose();
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "MQTT connection from {Remote} closed: no TLS handshake within {Seconds} s")]
    private static partial void LogHandshakeTimeout(ILogger logger, string remote, double seconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "MQTT connection from {Remote} closed: a packet announced {Length} bytes, the limit is {Limit}")]
    private static partial void LogPacketTooLarge(ILogger logger, string remote, long length, int limit);

    [LoggerMessage(Level = LogLevel.Debug, Message = "MQTT connection from {Remote} ended: {Error}")]
    private static partial void LogClientFailed(ILogger logger, string remote, string error);
}
