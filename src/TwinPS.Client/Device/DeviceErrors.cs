using System.Globalization;
using System.Text.Json;
using TwinPS.Protocol;

namespace TwinPS.Client.Device;

/// <summary>Builds the <see cref="IoTHubServiceException"/>s the device client throws (no secrets in any message).</summary>
internal static class DeviceErrors
{
    public static IoTHubServiceException Refused(string identity, string reasonCode, Exception? inner = null) =>
        With(identity, new IoTHubServiceException(
            $"IoT Hub refused the MQTT connection of '{identity}' ({reasonCode}): the key, token or certificate is wrong or expired, or the device is disabled or not registered.",
            401,
            IoTHubErrors.NameOf(IoTHubErrorCode.IotHubUnauthorizedAccess),
            (int)IoTHubErrorCode.IotHubUnauthorizedAccess,
            trackingId: null,
            isTransient: false,
            inner));

    public static IoTHubServiceException Unavailable(string identity, string reasonCode) =>
        With(identity, new IoTHubServiceException(
            $"IoT Hub did not accept the MQTT connection of '{identity}' ({reasonCode}); try again later.",
            503,
            IoTHubErrors.NameOf(IoTHubErrorCode.ServerBusy),
            (int)IoTHubErrorCode.ServerBusy,
            trackingId: null,
            isTransient: true));

    public static IoTHubServiceException ConnectionFailed(string identity, string endpoint, Exception? inner) =>
        With(identity, new IoTHubServiceException(
            $"Could not connect '{identity}' to IoT Hub over MQTT at {endpoint}: {Describe(inner)}",
            0,
            IoTHubServiceException.ConnectionErrorCode,
            null,
            null,
            isTransient: true,
            inner));

    public static IoTHubServiceException ConnectionLost(string identity, string operation, Exception? inner = null) =>
        With(identity, new IoTHubServiceException(
            $"The MQTT connection of '{identity}' dropped before the hub answered the {operation}; it was not confirmed (the client reconnects by itself).",
            0,
            IoTHubServiceException.ConnectionErrorCode,
            null,
            null,
            isTransient: true,
            inner));

    public static IoTHubServiceException NotConnected(string identity, DeviceConnectionStatus status, string operation) =>
        With(identity, new IoTHubServiceException(
            status == DeviceConnectionStatus.Reconnecting
                ? $"Cannot send the {operation}: '{identity}' is not connected to IoT Hub (the connection dropped; the client is reconnecting)."
                : $"Cannot send the {operation}: '{identity}' is not connected to IoT Hub (status {status}).",
            0,
            IoTHubServiceException.ConnectionErrorCode,
            null,
            null,
            isTransient: status == DeviceConnectionStatus.Reconnecting));

    public static IoTHubServiceException Timeout(string identity, string operation, TimeSpan timeout) =>
        With(identity, new IoTHubServiceException(
            $"IoT Hub did not answer the {operation} of '{identity}' within {timeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s.",
            0,
            IoTHubServiceException.TimeoutErrorCode,
            null,
            null,
            isTransient: true));

    /// <summary>An error answer on <c>$iothub/twin/res/{status}</c>: body <c>{"errorCode":400004,"trackingId":…,"message":…}</c>.</summary>
    public static IoTHubServiceException FromResponse(string identity, string operation, int status, ReadOnlySpan<byte> body)
    {
        string? message = null;
        string? trackingId = null;
        var code = IoTHubErrorCode.Unknown;
        try
        {
            if (!body.IsEmpty)
            {
                using var doc = JsonDocument.Parse(body.ToArray());
                if (doc.RootElement.ValueKind == JsonValueKind.Object)
                {
                    foreach (var p in doc.RootElement.EnumerateObject())
                    {
                        if (p.NameEquals("message") || p.NameEquals("Message"))
                        {
                            message = p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString() : p.Value.GetRawText();
                        }
                        else if (p.NameEquals("trackingId") || p.NameEquals("TrackingId"))
                        {
                            trackingId = p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString() : null;
                        }
                        else if (p.NameEquals("errorCode") || p.NameEquals("ErrorCode"))
                        {
                            code = ReadCode(p.Value);
                        }
                    }
                }
            }
        }
        catch (JsonException)
        {
            // A body that is not JSON still leaves the status to report.
        }

        if (code == IoTHubErrorCode.Unknown)
        {
            code = status switch
            {
                400 => IoTHubErrorCode.ArgumentInvalid,
                401 => IoTHubErrorCode.IotHubUnauthorizedAccess,
                404 => IoTHubErrorCode.DeviceNotFound,
                429 => IoTHubErrorCode.ThrottlingException,
                >= 500 => IoTHubErrorCode.ServerError,
                _ => IoTHubErrorCode.Unknown,
            };
        }

        var text = $"IoT Hub rejected the {operation} of '{identity}' (status {status.ToString(CultureInfo.InvariantCulture)}"
            + (code == IoTHubErrorCode.Unknown ? ")" : $", {IoTHubErrors.NameOf(code)})")
            + (string.IsNullOrWhiteSpace(message) ? "." : ": " + message)
            + (trackingId is null ? string.Empty : $" Tracking id: {trackingId}.");
        return With(identity, new IoTHubServiceException(
            text,
            status,
            code == IoTHubErrorCode.Unknown ? "Unknown" : IoTHubErrors.NameOf(code),
            code == IoTHubErrorCode.Unknown ? null : (int)code,
            trackingId,
            IoTHubErrors.IsTransient(code, status)));
    }

    private static IoTHubErrorCode ReadCode(JsonElement value)
    {
        if (value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var number) && IoTHubErrors.TryFromNumber(number, out var fromNumber))
        {
            return fromNumber;
        }

        if (value.ValueKind == JsonValueKind.String)
        {
            var s = value.GetString();
            if (long.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && IoTHubErrors.TryFromNumber(n, out var fromText))
            {
                return fromText;
            }

            if (IoTHubErrors.TryParseName(s, out var fromName))
            {
                return fromName;
            }
        }

        return IoTHubErrorCode.Unknown;
    }

    private static IoTHubServiceException With(string identity, IoTHubServiceException ex)
    {
        var slash = identity.IndexOf('/', StringComparison.Ordinal);
        ex.DeviceId = slash < 0 ? identity : identity[..slash];
        ex.ModuleId = slash < 0 ? null : identity[(slash + 1)..];
        return ex;
    }

    private static string Describe(Exception? ex)
    {
        // The innermost socket/TLS error says most ("Connection refused", "The remote certificate is invalid…").
        var inner = ex;
        while (inner?.InnerException is not null)
        {
            inner = inner.InnerException;
        }

        return SecretRedactor.Redact(inner?.Message ?? "unknown error");
    }
}
