using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace TwinPS.Protocol;

/// <summary>
/// A device's answer to a direct method as the service sees it: <c>200 {"status": &lt;int&gt;, "payload": &lt;json&gt;}</c>
/// (jobs/methods reference §2.2). <see cref="Status"/> is whatever the device chose (the HTTP status is 200 even when
/// the device answers 404 or 500); the same object is a method job's <c>outcome.deviceMethodResponse</c>.
/// </summary>
public sealed class DirectMethodResponse
{
    public DirectMethodResponse(int status, JsonNode? payload)
    {
        Status = status;
        Payload = payload;
    }

    /// <summary>The status the device answered with.</summary>
    public int Status { get; }

    /// <summary>The device's payload (null when it sent an empty body).</summary>
    public JsonNode? Payload { get; }

    /// <summary>
    /// Builds the response from what the device published on <c>$iothub/methods/res/{status}/?$rid=…</c>: an empty
    /// body is a null payload, JSON is parsed, anything else is kept as a JSON string. A body over 128 KB is 413
    /// <c>MessageTooLarge</c>.
    /// </summary>
    public static DirectMethodResponse FromDeviceBody(int status, ReadOnlySpan<byte> body)
    {
        if (body.Length > DirectMethodRequest.MaxPayloadBytes)
            throw new IoTHubProtocolException(IoTHubErrorCode.MessageTooLarge, $"The device's method response is {body.Length} bytes; at most {DirectMethodRequest.MaxPayloadBytes} bytes (128 KB) are allowed.");
        if (body.IsEmpty || IsWhiteSpace(body)) return new DirectMethodResponse(status, null);
        try
        {
            // Strict: a body with invalid UTF-8, a lone surrogate or a repeated name is not JSON the service can
            // return; it is kept as a string like any other non-JSON body.
            return new DirectMethodResponse(status, StrictJson.Parse(body, 64));
        }
        catch (JsonException)
        {
            return new DirectMethodResponse(status, JsonValue.Create(Encoding.UTF8.GetString(body)));
        }
    }

    /// <summary>Reads the service response body; throws <see cref="IoTHubProtocolException"/> (IotHubFormatError) when it has no integer status.</summary>
    public static DirectMethodResponse Parse(JsonObject body)
    {
        ArgumentNullException.ThrowIfNull(body);
        if (body["status"] is not JsonValue v || !v.TryGetValue(out int status))
            throw new IoTHubProtocolException(IoTHubErrorCode.IotHubFormatError, "The method response has no integer 'status'.");
        return new DirectMethodResponse(status, body["payload"]?.DeepClone());
    }

    /// <summary><c>{"status":…,"payload":…}</c>.</summary>
    public JsonObject ToJson() => new()
    {
        ["status"] = Status,
        ["payload"] = Payload?.DeepClone(),
    };

    private static bool IsWhiteSpace(ReadOnlySpan<byte> body)
    {
        foreach (byte b in body)
        {
            if (b is not ((byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n')) return false;
        }

        return true;
    }
}
