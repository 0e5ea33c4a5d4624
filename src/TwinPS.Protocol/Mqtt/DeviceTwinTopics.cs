using System.Globalization;

namespace TwinPS.Protocol;

/// <summary>What a device asks of its twin over MQTT.</summary>
public enum DeviceTwinRequestKind
{
    /// <summary><c>$iothub/twin/GET/?$rid={rid}</c>: read the whole twin.</summary>
    Get,

    /// <summary><c>$iothub/twin/PATCH/properties/reported/?$rid={rid}</c>: patch reported properties.</summary>
    PatchReported,
}

/// <summary>
/// The device twin topics of IoT Hub's MQTT 3.1.1 endpoint (device reference A.2–A.4), both directions: the device
/// publishes <see cref="Get"/> and <see cref="PatchReported"/> requests and subscribes to <see cref="ResponseFilter"/>
/// and <see cref="DesiredFilter"/>; the hub answers on <see cref="Response"/> and notifies on
/// <see cref="DesiredNotification"/>.
/// </summary>
public static class DeviceTwinTopics
{
    /// <summary>The filter a device subscribes to for answers to its twin requests.</summary>
    public const string ResponseFilter = "$iothub/twin/res/#";

    /// <summary>The filter a device subscribes to for desired-property notifications.</summary>
    public const string DesiredFilter = "$iothub/twin/PATCH/properties/desired/#";

    /// <summary>Prefix of a twin response topic (<c>…/{status}/?$rid=…[&amp;$version=…]</c>).</summary>
    public const string ResponsePrefix = "$iothub/twin/res/";

    /// <summary>Prefix of a desired-property notification topic (<c>…/?$version=…</c>).</summary>
    public const string DesiredPrefix = "$iothub/twin/PATCH/properties/desired/";

    /// <summary>Prefix of a twin GET request topic.</summary>
    public const string GetPrefix = "$iothub/twin/GET/";

    /// <summary>Prefix of a reported-properties PATCH request topic.</summary>
    public const string PatchReportedPrefix = "$iothub/twin/PATCH/properties/reported/";

    /// <summary>The topic of a twin GET request.</summary>
    public static string Get(string requestId) => GetPrefix + "?" + TopicQuery.WithRequestId(requestId);

    /// <summary>The topic of a reported-properties PATCH request.</summary>
    public static string PatchReported(string requestId) => PatchReportedPrefix + "?" + TopicQuery.WithRequestId(requestId);

    /// <summary>The topic of the hub's answer to request <paramref name="requestId"/>, with the new reported version after a PATCH.</summary>
    public static string Response(int status, string requestId, long? version = null)
    {
        ArgumentNullException.ThrowIfNull(requestId);
        return version is null
            ? string.Create(CultureInfo.InvariantCulture, $"{ResponsePrefix}{status}/?{TopicQuery.WithRequestId(requestId)}")
            : string.Create(CultureInfo.InvariantCulture, $"{ResponsePrefix}{status}/?{TopicQuery.WithRequestId(requestId)}&{TopicQuery.Version}={version}");
    }

    /// <summary>The topic of a desired-property notification of desired <c>$version</c> <paramref name="version"/>.</summary>
    public static string DesiredNotification(long version) =>
        string.Create(CultureInfo.InvariantCulture, $"{DesiredPrefix}?{TopicQuery.Version}={version}");

    /// <summary>
    /// Reads a request topic a device published: which request, and its <c>$rid</c> (null when the query has none).
    /// False when the topic is not a twin request, or has something other than a query after the prefix.
    /// </summary>
    public static bool TryParseRequest(string? topic, out DeviceTwinRequestKind kind, out string? requestId)
    {
        kind = default;
        requestId = null;
        string rest;
        if (topic is null)
        {
            return false;
        }

        if (topic.StartsWith(GetPrefix, StringComparison.Ordinal))
        {
            kind = DeviceTwinRequestKind.Get;
            rest = topic[GetPrefix.Length..];
        }
        else if (topic.StartsWith(PatchReportedPrefix, StringComparison.Ordinal))
        {
            kind = DeviceTwinRequestKind.PatchReported;
            rest = topic[PatchReportedPrefix.Length..];
        }
        else
        {
            return false;
        }

        // The twin topics end in "/?…" (the query carries $rid); the query may be empty only in form.
        if (rest.Length != 0 && !rest.StartsWith('?'))
        {
            return false;
        }

        requestId = TopicQuery.Parse(rest).GetValueOrDefault(TopicQuery.RequestId);
        return true;
    }

    /// <summary>Reads <c>$iothub/twin/res/{status}/?$rid=…[&amp;$version=…]</c>; false when not a response or without <c>$rid</c>.</summary>
    public static bool TryParseResponse(string? topic, out int status, out string? requestId, out long? version)
    {
        status = 0;
        requestId = null;
        version = null;
        if (topic is null || !topic.StartsWith(ResponsePrefix, StringComparison.Ordinal))
        {
            return false;
        }

        var rest = topic.AsSpan(ResponsePrefix.Length);
        var slash = rest.IndexOf('/');
        if (slash <= 0 || !int.TryParse(rest[..slash], NumberStyles.None, CultureInfo.InvariantCulture, out status))
        {
            return false;
        }

        var query = TopicQuery.Parse(rest[(slash + 1)..].ToString());
        requestId = query.GetValueOrDefault(TopicQuery.RequestId);
        version = ParseVersion(query.GetValueOrDefault(TopicQuery.Version));
        return requestId is not null;
    }

    /// <summary>Reads <c>$iothub/twin/PATCH/properties/desired/?$version=…</c> (the version is null when absent or not a number).</summary>
    public static bool TryParseDesired(string? topic, out long? version)
    {
        version = null;
        if (topic is null || !topic.StartsWith(DesiredPrefix, StringComparison.Ordinal))
        {
            return false;
        }

        version = ParseVersion(TopicQuery.Parse(topic[DesiredPrefix.Length..]).GetValueOrDefault(TopicQuery.Version));
        return true;
    }

    private static long? ParseVersion(string? text) =>
        long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : null;
}
