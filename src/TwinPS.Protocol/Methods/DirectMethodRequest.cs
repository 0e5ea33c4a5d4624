using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace TwinPS.Protocol;

/// <summary>
/// The body of a direct-method invocation (<c>POST /twins/{id}/methods</c>) and of a method job's
/// <c>cloudToDeviceMethod</c>: <c>{"methodName","payload","responseTimeoutInSeconds","connectTimeoutInSeconds"}</c>
/// (jobs/methods reference §2.1). <see cref="Parse"/> and <see cref="Create"/> enforce the hub's rules, so a client
/// can refuse bad input before sending and the emulator answers exactly what the hub answers.
/// </summary>
public sealed class DirectMethodRequest
{
    /// <summary>Default response timeout (seconds) when the body has none.</summary>
    public const int DefaultResponseTimeoutSeconds = 30;

    /// <summary>Smallest response timeout the hub accepts.</summary>
    public const int MinResponseTimeoutSeconds = 5;

    /// <summary>Largest response timeout the hub accepts.</summary>
    public const int MaxResponseTimeoutSeconds = 300;

    /// <summary>Default connect timeout: the device must already be online.</summary>
    public const int DefaultConnectTimeoutSeconds = 0;

    /// <summary>Largest connect timeout the hub accepts.</summary>
    public const int MaxConnectTimeoutSeconds = 300;

    /// <summary>Largest request payload and largest device response payload (UTF-8 JSON bytes).</summary>
    public const int MaxPayloadBytes = 128 * 1024;

    /// <summary>The direct-method throttle meters payloads in blocks of this size (an empty payload costs one block).</summary>
    public const int ThrottleMeterBytes = 4 * 1024;

    /// <summary>Longest method name (the hub's own limit is unconfirmed; see the emulator's fidelity notes).</summary>
    public const int MaxMethodNameLength = 128;

    private DirectMethodRequest(string methodName, JsonNode? payload, int payloadBytes, int responseTimeout, int connectTimeout)
    {
        MethodName = methodName;
        Payload = payload;
        PayloadBytes = payloadBytes;
        ResponseTimeoutInSeconds = responseTimeout;
        ConnectTimeoutInSeconds = connectTimeout;
    }

    /// <summary>The method name (becomes a topic segment on the device side).</summary>
    public string MethodName { get; }

    /// <summary>The payload (any JSON value, or null). Do not modify.</summary>
    public JsonNode? Payload { get; }

    /// <summary>Size of the payload as UTF-8 JSON (what the 128 KB limit and the 4 KB throttle meter count).</summary>
    public int PayloadBytes { get; }

    /// <summary>How long the hub waits for the device's answer once the request is delivered.</summary>
    public int ResponseTimeoutInSeconds { get; }

    /// <summary>How long the hub waits for the device to be connected and subscribed before giving up with 404103.</summary>
    public int ConnectTimeoutInSeconds { get; }

    /// <summary>The number of 4 KB throttle meter units this call costs (at least one).</summary>
    public int ThrottleUnits => Math.Max(1, (PayloadBytes + ThrottleMeterBytes - 1) / ThrottleMeterBytes);

    /// <summary>Builds and validates a request (throws <see cref="IoTHubProtocolException"/> like the hub would answer).</summary>
    public static DirectMethodRequest Create(string methodName, JsonNode? payload, int responseTimeoutInSeconds = DefaultResponseTimeoutSeconds, int connectTimeoutInSeconds = DefaultConnectTimeoutSeconds)
    {
        ValidateMethodName(methodName);
        ValidateTimeouts(responseTimeoutInSeconds, connectTimeoutInSeconds);
        int size = PayloadSize(payload);
        return new DirectMethodRequest(methodName, payload?.DeepClone(), size, responseTimeoutInSeconds, connectTimeoutInSeconds);
    }

    /// <summary>
    /// Reads a request body. Missing timeouts take the defaults (a JSON null counts as missing); unknown fields are
    /// ignored, as the hub ignores them. Errors: 400 <c>ArgumentInvalid</c> for a missing or bad method name and for
    /// timeouts out of range, 413 <c>MessageTooLarge</c> for a payload over 128 KB.
    /// </summary>
    public static DirectMethodRequest Parse(JsonObject body)
    {
        ArgumentNullException.ThrowIfNull(body);
        string? name = body["methodName"] is JsonValue v && v.TryGetValue(out string? s) ? s : null;
        if (string.IsNullOrEmpty(name))
            throw new IoTHubProtocolException(IoTHubErrorCode.ArgumentInvalid, "The methodName is required.");
        int response = ReadTimeout(body, "responseTimeoutInSeconds", DefaultResponseTimeoutSeconds);
        int connect = ReadTimeout(body, "connectTimeoutInSeconds", DefaultConnectTimeoutSeconds);
        return Create(name, body["payload"], response, connect);
    }

    /// <summary>The wire body, always with all four fields.</summary>
    public JsonObject ToJson() => new()
    {
        ["methodName"] = MethodName,
        ["payload"] = Payload?.DeepClone(),
        ["responseTimeoutInSeconds"] = ResponseTimeoutInSeconds,
        ["connectTimeoutInSeconds"] = ConnectTimeoutInSeconds,
    };

    /// <summary>
    /// A method name must be 1–128 characters and must not contain what would break its MQTT topic segment
    /// (<c>/ ? # +</c>, <c>$</c> at the start, control characters).
    /// </summary>
    public static void ValidateMethodName(string? methodName)
    {
        if (string.IsNullOrEmpty(methodName))
            throw new IoTHubProtocolException(IoTHubErrorCode.ArgumentInvalid, "The methodName is required.");
        if (methodName.Length > MaxMethodNameLength)
            throw new IoTHubProtocolException(IoTHubErrorCode.ArgumentInvalid, $"The methodName is {methodName.Length} characters long; at most {MaxMethodNameLength} are allowed.");
        foreach (char c in methodName)
        {
            if (c is '/' or '?' or '#' or '+' || char.IsControl(c))
                throw new IoTHubProtocolException(IoTHubErrorCode.ArgumentInvalid, $"The methodName '{methodName}' contains a character that is not allowed ('/', '?', '#', '+' or a control character).");
        }

        if (methodName[0] == '$')
            throw new IoTHubProtocolException(IoTHubErrorCode.ArgumentInvalid, $"The methodName '{methodName}' must not start with '$'.");
    }

    /// <summary>The hub's timeout rules: response 5–300 s, connect 0–300 s and not longer than the response timeout.</summary>
    public static void ValidateTimeouts(int responseTimeoutInSeconds, int connectTimeoutInSeconds)
    {
        if (responseTimeoutInSeconds is < MinResponseTimeoutSeconds or > MaxResponseTimeoutSeconds)
            throw new IoTHubProtocolException(IoTHubErrorCode.ArgumentInvalid, $"responseTimeoutInSeconds must be within [{MinResponseTimeoutSeconds}; {MaxResponseTimeoutSeconds}].");
        if (connectTimeoutInSeconds is < 0 or > MaxConnectTimeoutSeconds)
            throw new IoTHubProtocolException(IoTHubErrorCode.ArgumentInvalid, $"connectTimeoutInSeconds must be within [0; {MaxConnectTimeoutSeconds}].");
        if (connectTimeoutInSeconds > responseTimeoutInSeconds)
            throw new IoTHubProtocolException(IoTHubErrorCode.ArgumentInvalid, "Device connection timeout (connectTimeoutInSeconds) cannot be longer than an overall call timeout (responseTimeoutInSeconds).");
    }

    /// <summary>UTF-8 JSON size of a payload; throws 413 <c>MessageTooLarge</c> over <see cref="MaxPayloadBytes"/>.</summary>
    public static int PayloadSize(JsonNode? payload)
    {
        int size = payload is null ? 4 : JsonSerializer.SerializeToUtf8Bytes(payload).Length;
        if (size > MaxPayloadBytes)
            throw new IoTHubProtocolException(IoTHubErrorCode.MessageTooLarge, $"The method payload is {size} bytes; at most {MaxPayloadBytes} bytes (128 KB) are allowed.");
        return size;
    }

    private static int ReadTimeout(JsonObject body, string name, int fallback)
    {
        JsonNode? node = body[name];
        if (node is null) return fallback;
        if (node is JsonValue value)
        {
            if (value.TryGetValue(out int i)) return i;
            if (value.TryGetValue(out long l)) return l > int.MaxValue ? int.MaxValue : l < int.MinValue ? int.MinValue : (int)l;
            if (value.TryGetValue(out double d) && d == Math.Floor(d) && !double.IsInfinity(d))
                return d > int.MaxValue ? int.MaxValue : d < int.MinValue ? int.MinValue : (int)d;
            if (value.TryGetValue(out JsonElement e) && e.ValueKind == JsonValueKind.Number && e.TryGetDouble(out double ed) && ed == Math.Floor(ed))
                return ed > int.MaxValue ? int.MaxValue : ed < int.MinValue ? int.MinValue : (int)ed;
        }

        throw new IoTHubProtocolException(IoTHubErrorCode.ArgumentInvalid, string.Create(CultureInfo.InvariantCulture, $"{name} must be a whole number of seconds."));
    }
}
