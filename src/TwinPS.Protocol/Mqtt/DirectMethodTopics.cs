using System.Globalization;

namespace TwinPS.Protocol;

/// <summary>
/// The MQTT topics of direct methods (device reference §2.5): the device subscribes to <see cref="RequestFilter"/>,
/// receives <c>$iothub/methods/POST/{methodName}/?$rid={rid}</c> and answers on
/// <c>$iothub/methods/res/{status}/?$rid={rid}</c>.
/// </summary>
public static class DirectMethodTopics
{
    /// <summary>The one filter a device subscribes to for method requests.</summary>
    public const string RequestFilter = "$iothub/methods/POST/#";

    /// <summary>Prefix of a method request topic.</summary>
    public const string RequestPrefix = "$iothub/methods/POST/";

    /// <summary>Prefix of a method response topic.</summary>
    public const string ResponsePrefix = "$iothub/methods/res/";

    /// <summary>The topic on which the hub delivers a request.</summary>
    public static string Request(string methodName, string requestId)
    {
        ArgumentNullException.ThrowIfNull(methodName);
        ArgumentNullException.ThrowIfNull(requestId);
        return $"{RequestPrefix}{methodName}/?$rid={Uri.EscapeDataString(requestId)}";
    }

    /// <summary>The topic on which a device answers a request.</summary>
    public static string Response(int status, string requestId)
    {
        ArgumentNullException.ThrowIfNull(requestId);
        return string.Create(CultureInfo.InvariantCulture, $"{ResponsePrefix}{status}/?$rid={Uri.EscapeDataString(requestId)}");
    }

    /// <summary>Reads a request topic: method name and request id; false when the topic is not a well-formed request.</summary>
    public static bool TryParseRequest(string? topic, out string methodName, out string requestId)
    {
        methodName = string.Empty;
        requestId = string.Empty;
        if (topic is null || !topic.StartsWith(RequestPrefix, StringComparison.Ordinal)) return false;
        string rest = topic[RequestPrefix.Length..];
        int slash = rest.IndexOf("/?", StringComparison.Ordinal);
        if (slash <= 0) return false;
        string? rid = RequestIdOf(rest[(slash + 2)..]);
        if (rid is null) return false;
        methodName = rest[..slash];
        requestId = rid;
        return true;
    }

    /// <summary>Reads a response topic: status and request id; false when the topic is not a well-formed response.</summary>
    public static bool TryParseResponse(string? topic, out int status, out string requestId)
    {
        status = 0;
        requestId = string.Empty;
        if (topic is null || !topic.StartsWith(ResponsePrefix, StringComparison.Ordinal)) return false;
        string rest = topic[ResponsePrefix.Length..];
        int slash = rest.IndexOf("/?", StringComparison.Ordinal);
        if (slash <= 0) return false;
        if (!int.TryParse(rest.AsSpan(0, slash), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out status)) return false;
        string? rid = RequestIdOf(rest[(slash + 2)..]);
        if (rid is null) return false;
        requestId = rid;
        return true;
    }

    private static string? RequestIdOf(string query)
    {
        foreach (string pair in query.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            if (!pair.StartsWith("$rid=", StringComparison.Ordinal)) continue;
            try
            {
                string rid = Uri.UnescapeDataString(pair[5..]);
                return rid.Length == 0 ? null : rid;
            }
            catch (UriFormatException)
            {
                return null;
            }
        }

        return null;
    }
}
