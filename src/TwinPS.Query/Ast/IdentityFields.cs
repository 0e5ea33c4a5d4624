namespace TwinPS.Query;

/// <summary>Twin identity fields, whose projected keys always use the canonical camelCase spelling.</summary>
internal static class IdentityFields
{
    private static readonly Dictionary<string, string> TopLevel = new[]
    {
        "deviceId", "moduleId", "etag", "deviceEtag", "status", "statusReason", "statusUpdateTime",
        "connectionState", "lastActivityTime", "cloudToDeviceMessageCount", "authenticationType",
        "x509Thumbprint", "version", "capabilities", "modelId", "deviceScope", "parentScopes",
    }.ToDictionary(name => name, StringComparer.OrdinalIgnoreCase);

    private static readonly Dictionary<string, string[]> Nested = new(StringComparer.OrdinalIgnoreCase)
    {
        ["x509Thumbprint"] = ["primaryThumbprint", "secondaryThumbprint"],
        ["capabilities"] = ["iotEdge"],
    };

    public static string? CanonicalName(IReadOnlyList<string> segments)
    {
        if (segments.Count == 1)
        {
            return TopLevel.GetValueOrDefault(segments[0]);
        }

        if (segments.Count == 2 && Nested.TryGetValue(segments[0], out var children))
        {
            return Array.Find(children, c => string.Equals(c, segments[1], StringComparison.OrdinalIgnoreCase));
        }

        return null;
    }
}
