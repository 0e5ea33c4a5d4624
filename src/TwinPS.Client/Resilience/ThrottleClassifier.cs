using Azure.Core;
using TwinPS.Protocol;

namespace TwinPS.Client.Resilience;

/// <summary>Maps a service REST request (method and path) to the <see cref="ThrottleClass"/> it counts against.</summary>
public static class ThrottleClassifier
{
    /// <summary>The throttle class of <paramref name="method"/> on <paramref name="path"/> (path without query string).</summary>
    public static ThrottleClass Classify(string method, string path)
    {
        ArgumentNullException.ThrowIfNull(method);
        ArgumentNullException.ThrowIfNull(path);
        var p = path.TrimEnd('/');
        if (p.StartsWith("/twins/", StringComparison.OrdinalIgnoreCase))
        {
            if (p.EndsWith("/methods", StringComparison.OrdinalIgnoreCase))
            {
                return ThrottleClass.Method;
            }

            return string.Equals(method, "GET", StringComparison.OrdinalIgnoreCase) ? ThrottleClass.TwinRead : ThrottleClass.TwinUpdate;
        }

        if (p.Equals("/devices/query", StringComparison.OrdinalIgnoreCase) || p.StartsWith("/jobs/v2/query", StringComparison.OrdinalIgnoreCase))
        {
            return p.StartsWith("/jobs", StringComparison.OrdinalIgnoreCase) ? ThrottleClass.JobOperation : ThrottleClass.Query;
        }

        if (p.StartsWith("/jobs", StringComparison.OrdinalIgnoreCase))
        {
            return ThrottleClass.JobOperation;
        }

        if (p.Equals("/devices", StringComparison.OrdinalIgnoreCase) || p.StartsWith("/devices/", StringComparison.OrdinalIgnoreCase))
        {
            return p.EndsWith("/methods", StringComparison.OrdinalIgnoreCase) ? ThrottleClass.Method : ThrottleClass.Registry;
        }

        return ThrottleClass.Other;
    }

    internal static ThrottleClass Classify(HttpMessage message) =>
        Classify(message.Request.Method.Method, message.Request.Uri.Path);
}
