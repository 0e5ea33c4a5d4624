namespace TwinPS.Emulator.Mqtt;

/// <summary>Size and time bounds of the MQTT endpoint (docs/emulator-fidelity.md, "MQTT limits").</summary>
internal static class MqttLimits
{
    /// <summary>
    /// The largest MQTT remaining length accepted, CONNECT included: 256 KiB, IoT Hub's largest device-to-cloud
    /// message (256 KB) and the packet limit it documents for its MQTT endpoint (packet ≤ 256 KiB). A larger packet
    /// is refused on its fixed header and the connection closed, before anything is buffered.
    /// </summary>
    public const int MaxPacketRemainingLength = 256 * 1024;
}
