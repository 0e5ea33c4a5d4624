namespace TwinPS.Client;

/// <summary>
/// The one exception type for every IoT Hub service failure: an error response (any envelope), a network failure
/// (<see cref="Status"/> 0, <see cref="ErrorCode"/> <c>ConnectionError</c>) or a timeout (<c>Timeout</c>) after retries.
/// The message never contains keys, signatures or the Authorization header.
/// </summary>
public sealed class IoTHubServiceException : Exception
{
    /// <summary>ErrorCode of network failures (no HTTP response).</summary>
    public const string ConnectionErrorCode = "ConnectionError";

    /// <summary>ErrorCode of per-try timeouts that outlasted the retries.</summary>
    public const string TimeoutErrorCode = "Timeout";

    /// <summary>ErrorCode (with <see cref="Status"/> 401) when a Microsoft Entra ID token could not be obtained; no request reached the hub.</summary>
    public const string AuthenticationFailedErrorCode = "AuthenticationFailed";

    /// <summary>Creates an exception with a generic message.</summary>
    public IoTHubServiceException()
        : this("The IoT Hub request failed.")
    {
    }

    /// <summary>Creates an exception with a message (which must not contain secrets).</summary>
    public IoTHubServiceException(string message)
        : this(message, innerException: null)
    {
    }

    /// <summary>Creates an exception with a message (which must not contain secrets) and an inner exception.</summary>
    public IoTHubServiceException(string message, Exception? innerException)
        : base(SecretRedactor.Redact(message), innerException)
    {
        ErrorCode = "Unknown";
    }

    internal IoTHubServiceException(
        string message,
        int status,
        string errorCode,
        int? numericCode,
        string? trackingId,
        bool isTransient,
        Exception? innerException = null)
        : base(SecretRedactor.Redact(message), innerException)
    {
        Status = status;
        ErrorCode = errorCode;
        NumericCode = numericCode;
        TrackingId = trackingId;
        IsTransient = isTransient;
    }

    /// <summary>HTTP status of the hub's response; 0 when no response was received (network failure, timeout);
    /// 401 also when a Microsoft Entra ID token could not be obtained (<see cref="AuthenticationFailedErrorCode"/>).</summary>
    public int Status { get; }

    /// <summary>Symbolic error code, e.g. <c>DeviceNotFound</c>, <c>PreconditionFailed</c>, <c>ThrottlingBacklogTimeout</c>,
    /// <c>ConnectionError</c>, <c>Timeout</c>; <c>Unknown</c> when the hub gave none.</summary>
    public string ErrorCode { get; }

    /// <summary>The hub's 6-digit numeric code (e.g. 404001) when known.</summary>
    public int? NumericCode { get; }

    /// <summary>The hub's tracking id, for support requests.</summary>
    public string? TrackingId { get; }

    /// <summary>The device the failed operation addressed, if any.</summary>
    public string? DeviceId { get; internal set; }

    /// <summary>The module the failed operation addressed, if any.</summary>
    public string? ModuleId { get; internal set; }

    /// <summary>Whether retrying later may succeed (throttling, server errors, network failures, timeouts).</summary>
    public bool IsTransient { get; }

    /// <summary>True when an earlier attempt of the same request may have been applied without the client knowing (no
    /// answer, or a 5xx; the rule is <see cref="Resilience.LostAnswer"/>); used to judge a refused retry of a write by reading back.</summary>
    internal bool FollowsLostAttempt { get; set; }

    /// <summary>For a query the hub rejected: our parser's pointer at the offending token ("near 'X' at line L, column C"), if it found one.</summary>
    public string? QueryDiagnosis { get; internal set; }

    /// <inheritdoc />
    public override string Message
    {
        get
        {
            var message = base.Message;
            // A hub that already names the offending token (the emulator uses the same parser) is not repeated.
            return QueryDiagnosis is null || message.Contains(QueryDiagnosis, StringComparison.Ordinal)
                ? message
                : message + " Query error: " + QueryDiagnosis;
        }
    }

    /// <inheritdoc />
    public override string ToString() => SecretRedactor.Redact(base.ToString());
}
