namespace TwinPS.Protocol;

/// <summary>
/// The names in an IoT Hub MQTT CONNECT (device reference A.1): the client id <c>{deviceId}</c> or
/// <c>{deviceId}/{moduleId}</c>, and the user name <c>{host}/{clientId}/?api-version=…&amp;DeviceClientType=…</c>.
/// </summary>
public static class DeviceMqttNames
{
    /// <summary>The CONNECT client id of a device or module identity.</summary>
    public static string ClientId(string deviceId, string? moduleId)
    {
        ArgumentNullException.ThrowIfNull(deviceId);
        return moduleId is null ? deviceId : $"{deviceId}/{moduleId}";
    }

    /// <summary>Splits <c>{deviceId}</c> or <c>{deviceId}/{moduleId}</c>, both valid ids; false otherwise.</summary>
    public static bool TrySplitClientId(string? clientId, out string deviceId, out string? moduleId)
    {
        deviceId = string.Empty;
        moduleId = null;
        if (string.IsNullOrEmpty(clientId))
        {
            return false;
        }

        var parts = clientId.Split('/');
        if (parts.Length > 2 || !IdentityRules.IsValidDeviceId(parts[0]))
        {
            return false;
        }

        deviceId = parts[0];
        if (parts.Length == 2)
        {
            if (!IdentityRules.IsValidDeviceId(parts[1]))
            {
                return false;
            }

            moduleId = parts[1];
        }

        return true;
    }

    /// <summary>
    /// The CONNECT user name the official SDKs send: <c>{hostName}/{clientId}/?api-version={IoTHubApiVersion.Current}</c>,
    /// followed by <c>&amp;DeviceClientType={userAgent}</c> (URL-encoded) when a user agent is given.
    /// </summary>
    public static string UserName(string hostName, string clientId, string? userAgent)
    {
        ArgumentNullException.ThrowIfNull(hostName);
        ArgumentNullException.ThrowIfNull(clientId);
        var name = $"{hostName}/{clientId}/?api-version={IoTHubApiVersion.Current}";
        return userAgent is null ? name : name + "&DeviceClientType=" + Uri.EscapeDataString(userAgent);
    }

    /// <summary>
    /// Reads a user name leniently: <c>{host}/{deviceId}[/{moduleId}]/?{query}</c>, also without the <c>?</c>
    /// (<c>…/{deviceId}/api-version=…</c>) or without any query; the query is not checked. True when the identity
    /// part equals <paramref name="deviceId"/> and <paramref name="moduleId"/>; otherwise <paramref name="problem"/> says why.
    /// </summary>
    public static bool UserNameNames(string? userName, string deviceId, string? moduleId, out string problem)
    {
        problem = string.Empty;
        if (string.IsNullOrEmpty(userName))
        {
            problem = "no user name ({host}/{deviceId}/?api-version=…)";
            return false;
        }

        var path = userName;
        var q = path.IndexOf('?', StringComparison.Ordinal);
        if (q >= 0)
        {
            path = path[..q];
        }
        else
        {
            var legacy = path.IndexOf("/api-version=", StringComparison.OrdinalIgnoreCase);
            if (legacy >= 0)
            {
                path = path[..(legacy + 1)];
            }
        }

        var segments = path.TrimEnd('/').Split('/');
        var expected = moduleId is null ? 2 : 3;
        if (segments.Length != expected
            || segments[0].Length == 0
            || !string.Equals(segments[1], deviceId, StringComparison.Ordinal)
            || (moduleId is not null && !string.Equals(segments[2], moduleId, StringComparison.Ordinal)))
        {
            problem = "the user name does not name the same identity as the client id";
            return false;
        }

        return true;
    }
}
