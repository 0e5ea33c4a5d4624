namespace TwinPS.Protocol;

/// <summary>
/// The query string of an IoT Hub MQTT topic (<c>…/?$rid=1&amp;$version=7</c>): <c>k=v</c> pairs joined by <c>&amp;</c>,
/// URL-encoded, after an optional leading <c>?</c>.
/// </summary>
public static class TopicQuery
{
    /// <summary>The request id property of the twin and method topics.</summary>
    public const string RequestId = "$rid";

    /// <summary>The version property of twin responses and desired notifications.</summary>
    public const string Version = "$version";

    /// <summary>Reads <c>k=v&amp;k2=v2</c> (optionally after <c>?</c>), URL-decoding (an invalid escape stays as written); the first occurrence of a key wins.</summary>
    public static Dictionary<string, string> Parse(string query)
    {
        ArgumentNullException.ThrowIfNull(query);
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
                // A pair that cannot be decoded is skipped.
            }
        }

        return result;
    }

    /// <summary><c>$rid=…</c> with the id URL-encoded.</summary>
    public static string WithRequestId(string requestId)
    {
        ArgumentNullException.ThrowIfNull(requestId);
        return RequestId + "=" + Uri.EscapeDataString(requestId);
    }
}
