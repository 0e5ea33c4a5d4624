using System.Globalization;
using System.Management.Automation;
using TwinPS.Client;
using TwinPS.Protocol;

namespace TwinPS.Internal;

public static partial class ErrorRecords
{
    static partial void MapKnownException(Exception exception, object? target, ref ErrorRecord? record)
    {
        record = exception switch
        {
            IoTHubServiceException service => FromServiceException(service, target),
            TwinValidationException invalid => Create(invalid, "ArgumentInvalid", ErrorCategory.InvalidArgument,
                target ?? invalid.Path, invalid.Message,
                "Correct the named key or value; nothing was sent to the hub."),
            IoTHubProtocolException protocol => Create(protocol, IoTHubErrors.NameOf(protocol.Code),
                CategoryOf(protocol.HttpStatus), target, SecretRedactor.Redact(protocol.Message),
                "Correct the input; nothing was sent to the hub."),
            PSObjectJsonException json => Create(json, "InvalidJson", ErrorCategory.InvalidData,
                target ?? json.Path, json.Message,
                "Pass a hashtable, an ordered dictionary, a PSCustomObject or well-formed JSON text; nothing was sent to the hub."),
            _ => null,
        };
    }

    private static ErrorRecord FromServiceException(IoTHubServiceException exception, object? target)
    {
        target ??= Target(exception.DeviceId, exception.ModuleId);
        string errorId = exception.ErrorCode switch
        {
            IoTHubServiceException.TimeoutErrorCode => "OperationTimeout",
            null or "" => "Unknown",
            _ => exception.ErrorCode,
        };
        ErrorCategory category = exception.ErrorCode switch
        {
            IoTHubServiceException.ConnectionErrorCode => ErrorCategory.ConnectionError,
            IoTHubServiceException.TimeoutErrorCode => ErrorCategory.OperationTimeout,
            "GatewayTimeout" => ErrorCategory.OperationTimeout,
            _ => CategoryOf(exception.Status),
        };

        string message = SecretRedactor.Redact(exception.Message);
        if (!string.IsNullOrEmpty(exception.TrackingId) && !message.Contains(exception.TrackingId, StringComparison.Ordinal))
        {
            message += " (tracking id " + exception.TrackingId + ")";
        }

        return Create(exception, errorId, category, target, message, RecommendedActionFor(exception));
    }

    /// <summary>The ErrorCategory for an HTTP status (ARCHITECTURE.md "Errors").</summary>
    public static ErrorCategory CategoryOf(int httpStatus) => httpStatus switch
    {
        400 => ErrorCategory.InvalidArgument,
        401 => ErrorCategory.AuthenticationError,
        403 => ErrorCategory.PermissionDenied,
        404 => ErrorCategory.ObjectNotFound,
        405 => ErrorCategory.InvalidOperation,
        408 => ErrorCategory.OperationTimeout,
        409 => ErrorCategory.ResourceExists,
        412 => ErrorCategory.ResourceBusy,
        413 => ErrorCategory.LimitsExceeded,
        429 => ErrorCategory.LimitsExceeded,
        0 => ErrorCategory.ConnectionError,
        >= 500 and < 600 => ErrorCategory.ResourceUnavailable,
        _ => ErrorCategory.NotSpecified,
    };

    private static string RecommendedActionFor(IoTHubServiceException exception) => exception.ErrorCode switch
    {
        "DeviceNotOnline" => "The device is not connected (or not subscribed to direct methods): check it is online, or give it time with -ConnectTimeout.",
        "GatewayTimeout" => "The device did not answer in time; the method may still have run on it. Check the device before calling again, or allow more time with -ResponseTimeout.",
        "JobNotFound" => "Check the job id (Get-IoTJob lists the jobs of the last 30 days).",
        "ThrottlingMaxActiveJobCountExceeded" => "The hub runs as many jobs as its tier allows (1 on F1/S1): wait for the running job (Wait-IoTJob) or cancel a scheduled one (Stop-IoTJob).",
        _ => RecommendedActionForStatus(exception),
    };

    private static string RecommendedActionForStatus(IoTHubServiceException exception) => exception.Status switch
    {
        400 when exception.QueryDiagnosis is not null => "Correct the query at the position shown and run it again.",
        400 => "Correct the request as the message says and retry.",
        401 => "Check the connection string or credential (key, policy name, expiry) and run Connect-IoTHub again.",
        403 => "Use a shared access policy or Entra role with the right permissions (e.g. 'service' or 'iothubowner'; 'IoT Hub Data Contributor').",
        404 => "Check the device and module id (ids are case-sensitive), e.g. with Get-IoTDevice or Search-IoTTwin.",
        409 => "The object already exists; use it, or remove it first.",
        412 => "The twin changed since it was read: read it again (Get-IoTTwin) and retry with its current ETag, or use -Force to overwrite.",
        413 => "Send less data in one request.",
        429 => "The hub is throttling requests: retry later or lower -ThrottleLimit.",
        0 when exception.ErrorCode == IoTHubServiceException.TimeoutErrorCode =>
            "Check the network path to the hub and retry; for bulk work lower -ThrottleLimit.",
        0 => "Check the host name, the network and (for a local emulator) -CACertificatePath, then retry.",
        >= 500 => "The hub had a transient failure: retry later.",
        _ => string.Create(CultureInfo.InvariantCulture, $"See the hub's error code '{exception.ErrorCode}'."),
    };
}
