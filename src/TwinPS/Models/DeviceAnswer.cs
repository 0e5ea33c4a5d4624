using System.Text.Json.Nodes;
using TwinPS.Internal;

namespace TwinPS.Models;

/// <summary>
/// What a device (or module) answered to a direct method, as the cmdlets write it: its ids and the answer's JSON payload,
/// shown as PowerShell objects (<see cref="MethodResult"/> from Invoke-IoTDeviceMethod, <see cref="DeviceJob"/> from
/// Get-IoTJobDevice).
/// </summary>
public abstract class DeviceAnswer
{
    private readonly JsonNode? _payloadJson;
    private object? _payload;

    private protected DeviceAnswer(string deviceId, string? moduleId, JsonNode? payload)
    {
        DeviceId = deviceId;
        ModuleId = moduleId;
        _payloadJson = payload;
    }

    /// <summary>The device id.</summary>
    public string DeviceId { get; }

    /// <summary>The module id, for a module.</summary>
    public string? ModuleId { get; }

    /// <summary>The payload the device answered with, as PowerShell objects (converted once, when first read).</summary>
    private protected object? AnswerPayload => _payload ??= PSObjectJson.ToPowerShell(_payloadJson);

    /// <summary><c>deviceId</c> or <c>deviceId/moduleId</c>.</summary>
    private protected string Target => ErrorRecords.Target(DeviceId, ModuleId)!;
}
