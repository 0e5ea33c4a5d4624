using System.Text.Json.Nodes;

namespace TwinPS.Client.Device;

/// <summary>
/// A direct-method call that reached the device. Answer it with
/// <see cref="IoTHubDeviceClient.SendMethodResponseAsync"/> (same <see cref="RequestId"/>) before the caller's response
/// timeout; an unanswered call fails at the hub with 504 <c>GatewayTimeout</c>.
/// </summary>
public sealed class DirectMethodCallEventArgs : EventArgs
{
    /// <summary>Creates the event data.</summary>
    public DirectMethodCallEventArgs(string requestId, string methodName, JsonNode? payload, bool payloadIsJson, DateTimeOffset receivedAt)
    {
        RequestId = requestId ?? throw new ArgumentNullException(nameof(requestId));
        MethodName = methodName ?? throw new ArgumentNullException(nameof(methodName));
        Payload = payload;
        PayloadIsJson = payloadIsJson;
        ReceivedAt = receivedAt;
    }

    /// <summary>The hub's request id (<c>$rid</c>) to answer with.</summary>
    public string RequestId { get; }

    /// <summary>The method name.</summary>
    public string MethodName { get; }

    /// <summary>The payload (null when the caller sent none or JSON null).</summary>
    public JsonNode? Payload { get; }

    /// <summary>False when the body was not JSON (then <see cref="Payload"/> holds it as a string).</summary>
    public bool PayloadIsJson { get; }

    /// <summary>When the call arrived.</summary>
    public DateTimeOffset ReceivedAt { get; }
}
