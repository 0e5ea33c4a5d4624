namespace TwinPS.Protocol;

/// <summary>ETag and <c>If-Match</c> helpers.</summary>
public static class ETags
{
    /// <summary>The wildcard, <c>*</c>.</summary>
    public const string Wildcard = "*";

    /// <summary>Removes one pair of surrounding double quotes (and a weak <c>W/</c> prefix) if present.</summary>
    public static string? Unquote(string? etag)
    {
        if (etag is null)
        {
            return null;
        }

        var text = etag.Trim();
        if (text.StartsWith("W/", StringComparison.Ordinal))
        {
            text = text[2..];
        }

        return text.Length >= 2 && text[0] == '"' && text[^1] == '"' ? text[1..^1] : text;
    }

    /// <summary>Wraps a value in double quotes unless it already is quoted.</summary>
    public static string Quote(string etag)
    {
        ArgumentNullException.ThrowIfNull(etag);
        return etag.Length >= 2 && etag[0] == '"' && etag[^1] == '"' ? etag : $"\"{etag}\"";
    }

    /// <summary>True for a missing/empty <c>If-Match</c> or <c>*</c> (quoted or not): an unconditional write.</summary>
    public static bool IsUnconditional(string? ifMatch)
    {
        var text = Unquote(ifMatch);
        return string.IsNullOrEmpty(text) || text == Wildcard;
    }

    /// <summary>True when the <c>If-Match</c> value (quoted or not, or <c>*</c>, or absent) allows a write to a resource with <paramref name="currentEtag"/>.</summary>
    public static bool Matches(string? ifMatch, string currentEtag) =>
        IsUnconditional(ifMatch) || string.Equals(Unquote(ifMatch), Unquote(currentEtag), StringComparison.Ordinal);
}
