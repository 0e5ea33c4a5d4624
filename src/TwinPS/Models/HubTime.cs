using System.Globalization;

namespace TwinPS.Models;

/// <summary>The hub's timestamps as values PowerShell can compare and sort.</summary>
internal static class HubTime
{
    /// <summary>
    /// A hub timestamp (ISO 8601, UTC) as a <see cref="DateTimeOffset"/>; null when absent, unreadable, or the hub's
    /// "never" (<c>0001-01-01T00:00:00Z</c>, as for a device that has never connected).
    /// </summary>
    public static DateTimeOffset? Parse(string? text)
    {
        if (string.IsNullOrEmpty(text) ||
            !DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out DateTimeOffset value) ||
            value.UtcDateTime.Year <= 1)
        {
            return null;
        }

        return value;
    }
}
