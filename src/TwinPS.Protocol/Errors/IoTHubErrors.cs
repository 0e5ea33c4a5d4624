using System.Globalization;
using System.Security.Cryptography;

namespace TwinPS.Protocol;

/// <summary>Facts about <see cref="IoTHubErrorCode"/> values: HTTP status, transience, names.</summary>
public static class IoTHubErrors
{
    /// <summary>The HTTP status of a code (its first three digits); 500 for <see cref="IoTHubErrorCode.Unknown"/>.</summary>
    public static int HttpStatusOf(IoTHubErrorCode code)
    {
        var status = (int)code / 1000;
        return status is >= 100 and <= 599 ? status : 500;
    }

    /// <summary>
    /// Whether the hub's code marks a transient failure, exactly as the C# v2 SDK decides: IotHubQuotaExceeded,
    /// DeviceNotOnline, every 429xxx, ServerError, ServiceUnavailable and RequestTimeout.
    /// </summary>
    public static bool IsTransient(IoTHubErrorCode code) =>
        code is IoTHubErrorCode.IotHubQuotaExceeded
            or IoTHubErrorCode.DeviceNotOnline
            or IoTHubErrorCode.ServerError
            or IoTHubErrorCode.ServiceUnavailable
            or IoTHubErrorCode.RequestTimeout
        || HttpStatusOf(code) == 429 && code != IoTHubErrorCode.Unknown;

    /// <summary>
    /// Transience when both code and status are known: <see cref="IsTransient(IoTHubErrorCode)"/>, plus (as the C# v2 SDK does)
    /// an unknown code with status 429, plus (the practical policy of the REST reference) any 429, 500, 503 or 504 status.
    /// </summary>
    public static bool IsTransient(IoTHubErrorCode code, int httpStatus) =>
        IsTransient(code) || httpStatus is 429 or 500 or 503 or 504;

    /// <summary>The symbolic name of a code (e.g. <c>DeviceNotFound</c>).</summary>
    public static string NameOf(IoTHubErrorCode code) =>
        Enum.IsDefined(code) ? code.ToString() : ((int)code).ToString(CultureInfo.InvariantCulture);

    /// <summary>Looks a symbolic name (case-insensitive) up; false when the name is not a known code.</summary>
    public static bool TryParseName(string? name, out IoTHubErrorCode code)
    {
        code = IoTHubErrorCode.Unknown;
        if (string.IsNullOrWhiteSpace(name) || !char.IsLetter(name.Trim()[0]))
        {
            return false;
        }

        return Enum.TryParse(name.Trim(), ignoreCase: true, out code) && Enum.IsDefined(code) && code != IoTHubErrorCode.Unknown;
    }

    /// <summary>Maps a numeric 6-digit code to the enum; false when it is not a known code.</summary>
    public static bool TryFromNumber(long number, out IoTHubErrorCode code)
    {
        code = IoTHubErrorCode.Unknown;
        if (number is < 100000 or > 999999)
        {
            return false;
        }

        var candidate = (IoTHubErrorCode)(int)number;
        if (!Enum.IsDefined(candidate))
        {
            return false;
        }

        code = candidate;
        return true;
    }

    /// <summary>A new tracking id in the hub's style (32 lower-case hex characters).</summary>
    public static string NewTrackingId() => Convert.ToHexString(RandomNumberGenerator.GetBytes(16)).ToLowerInvariant();
}
