using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace TwinPS.Client;

/// <summary>
/// A direct-method call as the service sends it (<c>POST /twins/{id}[/modules/{mid}]/methods</c>, also the
/// <c>cloudToDeviceMethod</c> of a method job): name, JSON payload and the two timeouts. Validated when built, so a bad
/// value is refused before any request.
/// </summary>
public sealed class DirectMethodRequest
{
    /// <summary>Largest request (and response) payload IoT Hub carries: 128 KB of JSON.</summary>
    public const int MaxPayloadBytes = 128 * 1024;

    /// <summary>The hub's default response timeout.</summary>
    public const int DefaultResponseTimeoutSeconds = 30;

    /// <summary>Smallest response timeout the hub accepts.</summary>
    public const int MinResponseTimeoutSeconds = 5;

    /// <summary>Largest response timeout the hub accepts.</summary>
    public const int MaxResponseTimeoutSeconds = 300;

    /// <summary>Largest connect timeout the hub accepts (0, the default, means "the device must be online now").</summary>
    public const int MaxConnectTimeoutSeconds = 300;

    /// <summary>What the client adds to the two timeouts for its own network timeout of one invoke (as the C# SDK does).</summary>
    public static readonly TimeSpan WireTimeAllowance = TimeSpan.FromSeconds(15);

    /// <summary>Builds and validates a call.</summary>
    /// <param name="methodName">The method name (not empty; no <c>/</c>, <c>#</c>, <c>+</c>, <c>?</c> or control characters).</param>
    /// <param name="payload">Any JSON value; null sends JSON <c>null</c>.</param>
    /// <param name="responseTimeoutSeconds">5–300 s the hub waits for the device's answer.</param>
    /// <param name="connectTimeoutSeconds">0–300 s the hub waits for an offline device to connect; not longer than the response timeout.</param>
    /// <exception cref="ArgumentException">A value outside the hub's rules (nothing is sent).</exception>
    public DirectMethodRequest(string methodName, JsonNode? payload = null, int responseTimeoutSeconds = DefaultResponseTimeoutSeconds, int connectTimeoutSeconds = 0)
    {
        ValidateMethodName(methodName);
        if (responseTimeoutSeconds is < MinResponseTimeoutSeconds or > MaxResponseTimeoutSeconds)
        {
            throw new ArgumentOutOfRangeException(nameof(responseTimeoutSeconds), responseTimeoutSeconds,
                string.Create(CultureInfo.InvariantCulture, $"The response timeout must be {MinResponseTimeoutSeconds} to {MaxResponseTimeoutSeconds} seconds (IoT Hub's range); got {responseTimeoutSeconds}."));
        }

        if (connectTimeoutSeconds is < 0 or > MaxConnectTimeoutSeconds)
        {
            throw new ArgumentOutOfRangeException(nameof(connectTimeoutSeconds), connectTimeoutSeconds,
                string.Create(CultureInfo.InvariantCulture, $"The connect timeout must be 0 to {MaxConnectTimeoutSeconds} seconds (IoT Hub's range); got {connectTimeoutSeconds}."));
        }

        if (connectTimeoutSeconds > responseTimeoutSeconds)
        {
            throw new ArgumentException(
                string.Create(CultureInfo.InvariantCulture, $"The connect timeout ({connectTimeoutSeconds} s) cannot be longer than the response timeout ({responseTimeoutSeconds} s); IoT Hub refuses such a call."),
                nameof(connectTimeoutSeconds));
        }

        var size = PayloadSize(payload);
        if (size > MaxPayloadBytes)
        {
            throw new ArgumentException(
                string.Create(CultureInfo.InvariantCulture, $"The method payload is {size} bytes of JSON; IoT Hub carries at most {MaxPayloadBytes} bytes (128 KB)."),
                nameof(payload));
        }

        MethodName = methodName;
        Payload = payload?.DeepClone();
        ResponseTimeoutSeconds = responseTimeoutSeconds;
        ConnectTimeoutSeconds = connectTimeoutSeconds;
    }

    /// <summary>The method name.</summary>
    public string MethodName { get; }

    /// <summary>The payload (a private copy).</summary>
    public JsonNode? Payload { get; }

    /// <summary>Seconds the hub waits for the device's answer.</summary>
    public int ResponseTimeoutSeconds { get; }

    /// <summary>Seconds the hub waits for an offline device to connect.</summary>
    public int ConnectTimeoutSeconds { get; }

    /// <summary>The client's network timeout for one invoke: both timeouts plus <see cref="WireTimeAllowance"/>.</summary>
    public TimeSpan NetworkTimeout => TimeSpan.FromSeconds(ResponseTimeoutSeconds + ConnectTimeoutSeconds) + WireTimeAllowance;

    /// <summary>The wire form: <c>{"methodName","payload","responseTimeoutInSeconds","connectTimeoutInSeconds"}</c>.</summary>
    public JsonObject ToJson() => new()
    {
        ["methodName"] = MethodName,
        ["payload"] = Payload?.DeepClone(),
        ["responseTimeoutInSeconds"] = ResponseTimeoutSeconds,
        ["connectTimeoutInSeconds"] = ConnectTimeoutSeconds,
    };

    /// <summary>UTF-8 size of the payload's JSON text (<c>null</c> counts 4).</summary>
    public static int PayloadSize(JsonNode? payload) => payload is null ? 4 : Encoding.UTF8.GetByteCount(payload.ToJsonString());

    /// <summary>Checks a method name (also used by the device side).</summary>
    /// <exception cref="ArgumentException">Empty, or a character that cannot stand in an MQTT topic level.</exception>
    public static void ValidateMethodName(string? methodName)
    {
        if (string.IsNullOrWhiteSpace(methodName))
        {
            throw new ArgumentException("The method name must not be empty.", nameof(methodName));
        }

        foreach (var c in methodName)
        {
            if (c is '/' or '#' or '+' or '?' || char.IsControl(c))
            {
                throw new ArgumentException($"The method name '{methodName}' contains '{(char.IsControl(c) ? "\\u" + ((int)c).ToString("x4", CultureInfo.InvariantCulture) : c.ToString())}', which cannot be used in a method name.", nameof(methodName));
            }
        }
    }
}

/// <summary>The device's answer to a direct method: the status and payload it sent (the HTTP call itself succeeded).</summary>
public sealed class DirectMethodResult
{
    /// <summary>Creates a result.</summary>
    public DirectMethodResult(string deviceId, string? moduleId, string methodName, int status, JsonNode? payload)
    {
        DeviceId = deviceId ?? throw new ArgumentNullException(nameof(deviceId));
        ModuleId = moduleId;
        MethodName = methodName ?? throw new ArgumentNullException(nameof(methodName));
        Status = status;
        Payload = payload;
    }

    /// <summary>The device id.</summary>
    public string DeviceId { get; }

    /// <summary>The module id, for a module target.</summary>
    public string? ModuleId { get; }

    /// <summary>The method that was called.</summary>
    public string MethodName { get; }

    /// <summary>The status the device answered with (any integer the device chose, e.g. 200).</summary>
    public int Status { get; }

    /// <summary>The payload the device answered with (null when it sent none).</summary>
    public JsonNode? Payload { get; }
}
