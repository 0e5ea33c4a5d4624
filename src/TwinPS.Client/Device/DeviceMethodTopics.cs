using System.Globalization;

namespace TwinPS.Client.Device;

/// <summary>The direct-method topics of the device MQTT protocol.</summary>
internal static class DeviceMethodTopics
{
    /// <summary>The one subscription for every method (per-method subscriptions would hit the 5-subscription limit).</summary>
    public const string RequestFilter = "$iothub/methods/POST/#";

    private const string RequestPrefix = "$iothub/methods/POST/";

    /// <summary><c>$iothub/methods/res/{status}/?$rid={rid}</c>.</summary>
    public static string Response(int status, string requestId) =>
        "$iothub/methods/res/" + status.ToString(CultureInfo.InvariantCulture) + "/?$rid=" + Uri.EscapeDataString(requestId);

    /// <summary>Parses <c>$iothub/methods/POST/{methodName}/?$rid={rid}</c>; false for another topic or one without a name or rid.</summary>
    public static bool TryParseRequest(string topic, out string methodName, out string requestId)
    {
        methodName = string.Empty;
        requestId = string.Empty;
        if (!topic.StartsWith(RequestPrefix, StringComparison.Ordinal))
        {
            return false;
        }

        var rest = topic[RequestPrefix.Length..];
        var slash = rest.IndexOf('/', StringComparison.Ordinal);
        if (slash <= 0)
        {
            return false;
        }

        methodName = rest[..slash];
        var rid = DeviceTwinTopics.ParseQuery(rest[(slash + 1)..]).GetValueOrDefault("$rid");
        if (string.IsNullOrEmpty(rid))
        {
            return false;
        }

        requestId = rid;
        return true;
    }
}
