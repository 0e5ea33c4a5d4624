using System.Net;
using System.Security.Cryptography.X509Certificates;
using MQTTnet.Adapter;
using MQTTnet.Formatter;
using MQTTnet.Packets;

namespace TwinPS.Emulator.Mqtt;

/// <summary>
/// MQTTnet's channel adapter with one addition: it remembers the will of the CONNECT packet (MQTTnet does not show it
/// to the CONNECT validation), so that a will IoT Hub would not accept is refused at CONNECT and can never be
/// published later as if the device had sent it.
/// </summary>
internal sealed class DeviceChannelAdapter(MqttChannelAdapter inner) : IMqttChannelAdapter
{
    /// <summary>The CONNECT packet's will topic, or null when the CONNECT carried no will (or none was received yet).</summary>
    public string? WillTopic { get; private set; }

    /// <summary>Whether the CONNECT packet carried a will.</summary>
    public bool HasWill { get; private set; }

    public long BytesReceived => inner.BytesReceived;

    public long BytesSent => inner.BytesSent;

    public X509Certificate2 ClientCertificate => inner.ClientCertificate;

    public EndPoint RemoteEndPoint => inner.RemoteEndPoint;

    public EndPoint LocalEndPoint => inner.LocalEndPoint;

    public bool IsSecureConnection => inner.IsSecureConnection;

    public MqttPacketFormatterAdapter PacketFormatterAdapter => inner.PacketFormatterAdapter;

    public Task ConnectAsync(CancellationToken cancellationToken) => inner.ConnectAsync(cancellationToken);

    public Task DisconnectAsync(CancellationToken cancellationToken) => inner.DisconnectAsync(cancellationToken);

    public async Task<MqttPacket> ReceivePacketAsync(CancellationToken cancellationToken)
    {
        MqttPacket packet = await inner.ReceivePacketAsync(cancellationToken).ConfigureAwait(false);
        if (packet is MqttConnectPacket connect)
        {
            HasWill = connect.WillFlag;
            WillTopic = connect.WillFlag ? connect.WillTopic ?? string.Empty : null;
        }

        return packet;
    }

    public void ResetStatistics() => inner.ResetStatistics();

    public Task SendPacketAsync(MqttPacket packet, CancellationToken cancellationToken) => inner.SendPacketAsync(packet, cancellationToken);

    public void Dispose() => inner.Dispose();
}
