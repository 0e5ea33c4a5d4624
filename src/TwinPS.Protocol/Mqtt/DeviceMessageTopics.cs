namespace TwinPS.Protocol;

/// <summary>
/// The message topics of an identity on IoT Hub's MQTT endpoint (device reference A.1 and A.5): telemetry a device
/// sends, cloud-to-device messages a device receives, and the inputs of a module.
/// </summary>
public static class DeviceMessageTopics
{
    /// <summary>The telemetry topic prefix of an identity: <c>devices/{deviceId}/messages/events/</c>, or <c>devices/{deviceId}/modules/{moduleId}/messages/events/</c> for a module.</summary>
    public static string TelemetryPrefix(string deviceId, string? moduleId)
    {
        ArgumentNullException.ThrowIfNull(deviceId);
        return moduleId is null ? $"devices/{deviceId}/messages/events/" : $"devices/{deviceId}/modules/{moduleId}/messages/events/";
    }

    /// <summary>Whether <paramref name="topic"/> is the identity's telemetry topic (the prefix, with or without its last <c>/</c>, or below it).</summary>
    public static bool IsTelemetry(string? topic, string deviceId, string? moduleId)
    {
        if (topic is null)
        {
            return false;
        }

        var prefix = TelemetryPrefix(deviceId, moduleId);
        return topic.StartsWith(prefix, StringComparison.Ordinal) || string.Equals(topic + "/", prefix, StringComparison.Ordinal);
    }

    /// <summary>The filter a device subscribes to for cloud-to-device messages: <c>devices/{deviceId}/messages/devicebound/#</c>.</summary>
    public static string CloudToDeviceFilter(string deviceId)
    {
        ArgumentNullException.ThrowIfNull(deviceId);
        return $"devices/{deviceId}/messages/devicebound/#";
    }

    /// <summary>The filter a module subscribes to for its inputs: <c>devices/{deviceId}/modules/{moduleId}/inputs/#</c>.</summary>
    public static string ModuleInputsFilter(string deviceId, string moduleId)
    {
        ArgumentNullException.ThrowIfNull(deviceId);
        ArgumentNullException.ThrowIfNull(moduleId);
        return $"devices/{deviceId}/modules/{moduleId}/inputs/#";
    }
}
