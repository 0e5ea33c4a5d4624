using System.Text.Json.Nodes;

namespace TwinPS.Client;

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
