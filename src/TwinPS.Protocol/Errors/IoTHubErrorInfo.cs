namespace TwinPS.Protocol;

/// <summary>What could be read from an IoT Hub error response (best effort; any part may be missing).</summary>
public sealed class IoTHubErrorInfo
{
    /// <summary>The HTTP status of the response.</summary>
    public int HttpStatus { get; init; }

    /// <summary>Symbolic code, e.g. <c>DeviceNotFound</c> (from the <c>iothub-errorcode</c> header when present).</summary>
    public string? CodeName { get; init; }

    /// <summary>The 6-digit numeric code, when the body carried one or the name is a known code.</summary>
    public int? NumericCode { get; init; }

    /// <summary>The human text (for the classic envelope: the text after <c>ErrorCode:Name;</c>).</summary>
    public string Message { get; init; } = string.Empty;

    /// <summary>The hub's tracking id, when present.</summary>
    public string? TrackingId { get; init; }

    /// <summary>The code as an enum value; <see cref="IoTHubErrorCode.Unknown"/> when neither name nor number is known.</summary>
    public IoTHubErrorCode Code
    {
        get
        {
            if (IoTHubErrors.TryParseName(CodeName, out var byName))
            {
                return byName;
            }

            return NumericCode is int n && IoTHubErrors.TryFromNumber(n, out var byNumber) ? byNumber : IoTHubErrorCode.Unknown;
        }
    }

    /// <summary>Whether a retry may succeed (see <see cref="IoTHubErrors.IsTransient(IoTHubErrorCode, int)"/>).</summary>
    public bool IsTransient => IoTHubErrors.IsTransient(Code, HttpStatus);

    /// <inheritdoc/>
    public override string ToString() =>
        $"{HttpStatus} {CodeName ?? NumericCode?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "(no code)"}: {Message}"
        + (TrackingId is null ? string.Empty : $" (tracking id {TrackingId})");
}
