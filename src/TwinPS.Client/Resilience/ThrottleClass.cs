using Azure.Core;

namespace TwinPS.Client.Resilience;

/// <summary>
/// The IoT Hub throttle a request counts against (each has its own budget on a real hub, so each has its own learned
/// rate on a connection).
/// </summary>
public enum ThrottleClass
{
    /// <summary>Anything not metered by a known throttle (e.g. statistics).</summary>
    Other,

    /// <summary>Twin reads (device and module): 100/s on S1.</summary>
    TwinRead,

    /// <summary>Twin updates (device and module, PATCH and PUT): 50/s on S1.</summary>
    TwinUpdate,

    /// <summary>Queries (every page counts): 20/min/unit on S1.</summary>
    Query,

    /// <summary>Identity registry operations (each bulk entry counts): 100/min/unit on S1.</summary>
    Registry,

    /// <summary>Jobs operations (create, get, list, cancel): 100/min/unit on S1.</summary>
    JobOperation,

    /// <summary>Jobs device operations (metered by the hub's job runner).</summary>
    JobDevice,

    /// <summary>Direct methods (metered in 4 KB steps): 160 KB/s/unit on S1.</summary>
    Method,
}

/// <summary>Maps a request (method and path) to its throttle class.</summary>
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
