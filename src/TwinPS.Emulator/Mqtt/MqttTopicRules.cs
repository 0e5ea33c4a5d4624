using TwinPS.Protocol;

namespace TwinPS.Emulator.Mqtt;

/// <summary>What a device publishes (device reference A.2–A.5).</summary>
internal enum DevicePublishKind
{
    /// <summary>Not a topic a device may publish to: the hub closes the connection.</summary>
    Forbidden,
    TwinGet,
    TwinPatchReported,
    /// <summary>Telemetry (<c>devices/{id}/messages/events/…</c>): accepted and dropped (the emulator has no event hub).</summary>
    Telemetry,
    /// <summary>A direct-method response (<c>$iothub/methods/res/{status}/?$rid=…</c>), routed to the waiting invocation.</summary>
    MethodResponse,
}

/// <summary>
/// Which of the topics of TwinPS.Protocol (<see cref="DeviceTwinTopics"/>, <see cref="DirectMethodTopics"/>,
/// <see cref="DeviceMessageTopics"/>) IoT Hub allows a device (or module) identity. Anything else is a protocol error,
/// which IoT Hub answers by closing the connection rather than with a SUBACK failure code (reference A.1, "Topic rules").
/// </summary>
internal static class MqttTopicRules
{
    /// <summary>Whether <paramref name="filter"/> is one of the filters a device identity may subscribe to.</summary>
    public static bool IsAllowedSubscription(string filter, string deviceId, string? moduleId) =>
        filter is DeviceTwinTopics.ResponseFilter or DeviceTwinTopics.DesiredFilter or DirectMethodTopics.RequestFilter
        || (moduleId is null && string.Equals(filter, DeviceMessageTopics.CloudToDeviceFilter(deviceId), StringComparison.Ordinal))
        || (moduleId is not null && string.Equals(filter, DeviceMessageTopics.ModuleInputsFilter(deviceId, moduleId), StringComparison.Ordinal));

    /// <summary>Classifies a PUBLISH topic; for the twin requests, also returns the <c>$rid</c> (null when the topic has none).</summary>
    public static DevicePublishKind Classify(string topic, string deviceId, string? moduleId, out string? requestId)
    {
        requestId = null;
        if (DeviceTwinTopics.TryParseRequest(topic, out var request, out requestId))
        {
            return request == DeviceTwinRequestKind.Get ? DevicePublishKind.TwinGet : DevicePublishKind.TwinPatchReported;
        }

        if (topic.StartsWith(DirectMethodTopics.ResponsePrefix, StringComparison.Ordinal))
        {
            return DevicePublishKind.MethodResponse;
        }

        return DeviceMessageTopics.IsTelemetry(topic, deviceId, moduleId) ? DevicePublishKind.Telemetry : DevicePublishKind.Forbidden;
    }
}
