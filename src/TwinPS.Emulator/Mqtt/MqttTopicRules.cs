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
/// The topic names and filters IoT Hub allows a device (or module) identity. Anything else is a protocol error, which
/// IoT Hub answers by closing the connection rather than with a SUBACK failure code (reference A.1, "Topic rules").
/// </summary>
internal static class MqttTopicRules
{
    public const string TwinResponses = "$iothub/twin/res/#";
    public const string DesiredPatches = "$iothub/twin/PATCH/properties/desired/#";
    public const string MethodRequests = TwinPS.Protocol.DirectMethodTopics.RequestFilter;

    private const string TwinGetPrefix = "$iothub/twin/GET/";
    private const string TwinPatchReportedPrefix = "$iothub/twin/PATCH/properties/reported/";
    private const string MethodResponsePrefix = "$iothub/methods/res/";

    /// <summary>Whether <paramref name="filter"/> is one of the filters a device identity may subscribe to.</summary>
    public static bool IsAllowedSubscription(string filter, string deviceId, string? moduleId) =>
        filter is TwinResponses or DesiredPatches or MethodRequests
        || (moduleId is null && string.Equals(filter, $"devices/{deviceId}/messages/devicebound/#", StringComparison.Ordinal))
        || (moduleId is not null && string.Equals(filter, $"devices/{deviceId}/modules/{moduleId}/inputs/#", StringComparison.Ordinal));

    /// <summary>Classifies a PUBLISH topic and returns its query string (after <c>?</c>) for the twin topics.</summary>
    public static DevicePublishKind Classify(string topic, string deviceId, string? moduleId, out string query)
    {
        query = string.Empty;
        if (topic.StartsWith(TwinGetPrefix, StringComparison.Ordinal))
        {
            return TryQuery(topic[TwinGetPrefix.Length..], out query) ? DevicePublishKind.TwinGet : DevicePublishKind.Forbidden;
        }

        if (topic.StartsWith(TwinPatchReportedPrefix, StringComparison.Ordinal))
        {
            return TryQuery(topic[TwinPatchReportedPrefix.Length..], out query) ? DevicePublishKind.TwinPatchReported : DevicePublishKind.Forbidden;
        }

        if (topic.StartsWith(MethodResponsePrefix, StringComparison.Ordinal))
        {
            return DevicePublishKind.MethodResponse;
        }

        var events = moduleId is null ? $"devices/{deviceId}/messages/events/" : $"devices/{deviceId}/modules/{moduleId}/messages/events/";
        return topic.StartsWith(events, StringComparison.Ordinal) || string.Equals(topic + "/", events, StringComparison.Ordinal)
            ? DevicePublishKind.Telemetry
            : DevicePublishKind.Forbidden;
    }

    /// <summary>Reads <c>k=v&amp;k2=v2</c> (optionally after <c>?</c>), URL-decoding; the first occurrence of a key wins.</summary>
    public static Dictionary<string, string> ParseQuery(string query)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        var text = query.StartsWith('?') ? query[1..] : query;
        foreach (var pair in text.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = pair.IndexOf('=', StringComparison.Ordinal);
            try
            {
                var key = Uri.UnescapeDataString(eq < 0 ? pair : pair[..eq]);
                var value = eq < 0 ? string.Empty : Uri.UnescapeDataString(pair[(eq + 1)..]);
                result.TryAdd(key, value);
            }
            catch (UriFormatException)
            {
                // An undecodable pair is skipped.
            }
        }

        return result;
    }

    public static string TwinResponse(int status, string rid, long? version) =>
        version is null
            ? $"$iothub/twin/res/{status}/?$rid={Uri.EscapeDataString(rid)}"
            : $"$iothub/twin/res/{status}/?$rid={Uri.EscapeDataString(rid)}&$version={version}";

    public static string DesiredNotification(long version) => $"$iothub/twin/PATCH/properties/desired/?$version={version}";

    // The twin topics end in "/?…" (the query carries $rid); the query may be empty only in form, never in content.
    private static bool TryQuery(string rest, out string query)
    {
        query = rest.StartsWith('?') ? rest[1..] : rest;
        return rest.Length == 0 || rest.StartsWith('?');
    }
}
