using System.Globalization;

namespace TwinPS.Client.Device;

/// <summary>The IoT Hub device twin topics (MQTT 3.1.1) and their query strings.</summary>
internal static class DeviceTwinTopics
{
    public const string ResponseFilter = "$iothub/twin/res/#";
    public const string DesiredFilter = "$iothub/twin/PATCH/properties/desired/#";
    private const string ResponsePrefix = "$iothub/twin/res/";
    private const string DesiredPrefix = "$iothub/twin/PATCH/properties/desired/";

    public static string Get(string rid) => "$iothub/twin/GET/?$rid=" + Uri.EscapeDataString(rid);

    public static string PatchReported(string rid) => "$iothub/twin/PATCH/properties/reported/?$rid=" + Uri.EscapeDataString(rid);

    /// <summary>Parses <c>$iothub/twin/res/{status}/?$rid=…[&amp;$version=…]</c>.</summary>
    public static bool TryParseResponse(string topic, out int status, out string? rid, out long? version)
    {
        status = 0;
        rid = null;
        version = null;
        if (!topic.StartsWith(ResponsePrefix, StringComparison.Ordinal))
        {
            return false;
        }

        var rest = topic.AsSpan(ResponsePrefix.Length);
        var slash = rest.IndexOf('/');
        if (slash <= 0 || !int.TryParse(rest[..slash], NumberStyles.None, CultureInfo.InvariantCulture, out status))
        {
            return false;
        }

        var query = ParseQuery(rest[(slash + 1)..].ToString());
        rid = query.GetValueOrDefault("$rid");
        version = ParseVersion(query.GetValueOrDefault("$version"));
        return rid is not null;
    }

    /// <summary>Parses <c>$iothub/twin/PATCH/properties/desired/?$version=…</c>.</summary>
    public static bool TryParseDesired(string topic, out long? version)
    {
        version = null;
        if (!topic.StartsWith(DesiredPrefix, StringComparison.Ordinal))
        {
            return false;
        }

        version = ParseVersion(ParseQuery(topic[DesiredPrefix.Length..]).GetValueOrDefault("$version"));
        return true;
    }

    /// <summary>Reads <c>k=v&amp;k2=v2</c> after an optional leading <c>?</c>; values are URL-decoded.</summary>
    public static Dictionary<string, string> ParseQuery(string text)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        var query = text.StartsWith('?') ? text[1..] : text;
        foreach (var pair in query.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = pair.IndexOf('=', StringComparison.Ordinal);
            var key = Uri.UnescapeDataString(eq < 0 ? pair : pair[..eq]);
            var value = eq < 0 ? string.Empty : Uri.UnescapeDataString(pair[(eq + 1)..]);
            result.TryAdd(key, value);
        }

        return result;
    }

    private static long? ParseVersion(string? text) =>
        long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : null;
}
