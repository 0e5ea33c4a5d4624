using TwinPS.Protocol;

namespace TwinPS.Emulator.Domain;

/// <summary>The hub's answers when an identity or twin is missing, already there, or stale (codes and texts as a real hub sends them).</summary>
internal static class HubErrors
{
    public static IoTHubProtocolException DeviceNotFound(string deviceId) =>
        new(IoTHubErrorCode.DeviceNotFound, $"Device {deviceId} not registered");

    public static IoTHubProtocolException ModuleTwinNotFound(string deviceId, string moduleId) =>
        new(IoTHubErrorCode.DeviceNotFound, $"Module {moduleId} on device {deviceId} not registered");

    public static IoTHubProtocolException ModuleNotFound(string deviceId, string moduleId) =>
        new(IoTHubErrorCode.ModuleNotFound, $"Module {moduleId} on device {deviceId} not registered");

    public static IoTHubProtocolException DeviceAlreadyExists(string deviceId) =>
        new(IoTHubErrorCode.DeviceAlreadyExists, $"A device with ID '{deviceId}' is already registered.");

    public static IoTHubProtocolException ModuleAlreadyExists(string deviceId, string moduleId) =>
        new(IoTHubErrorCode.ModuleAlreadyExistsOnDevice, $"Device {deviceId} already contains Module {moduleId}.");

    public static IoTHubProtocolException PreconditionFailed() =>
        new(IoTHubErrorCode.PreconditionFailed, "PreconditionFailed, ETag may be invalid.");

    public static IoTHubProtocolException ETagMissing() =>
        new(IoTHubErrorCode.PreconditionFailed, "Etag missing");
}
