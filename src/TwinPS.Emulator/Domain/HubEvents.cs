using System.Text.Json.Nodes;

namespace TwinPS.Emulator.Domain;

/// <summary>A desired-properties change committed by a backend PATCH or PUT (for the device endpoint).</summary>
internal sealed class DesiredPropertiesChangedEventArgs(string deviceId, string? moduleId, JsonObject patch, long desiredVersion) : EventArgs
{
    public string DeviceId { get; } = deviceId;

    public string? ModuleId { get; } = moduleId;

    /// <summary>The notification body (changed keys plus <c>$version</c>). Shared between handlers: do not modify.</summary>
    public JsonObject Patch { get; } = patch;

    public long DesiredVersion { get; } = desiredVersion;
}

/// <summary>An identity was updated (keys, status) or deleted (for the device endpoint to drop sessions).</summary>
internal sealed class IdentityChangedEventArgs(string deviceId, string? moduleId, bool deleted) : EventArgs
{
    public string DeviceId { get; } = deviceId;

    public string? ModuleId { get; } = moduleId;

    public bool Deleted { get; } = deleted;
}

/// <summary>
/// What the domain tells the endpoints after a commit: desired-property changes (sent to connected devices) and
/// identity changes (which end a device's session). Raised after the change is committed and visible.
/// </summary>
internal sealed class HubEvents
{
    /// <summary>Raised after a backend PATCH/PUT (or a bulk or job write) that touched desired properties is committed.</summary>
    public event EventHandler<DesiredPropertiesChangedEventArgs>? DesiredPropertiesChanged;

    /// <summary>Raised after an identity update or deletion is committed.</summary>
    public event EventHandler<IdentityChangedEventArgs>? IdentityChanged;

    public void RaiseDesiredPropertiesChanged(DesiredPropertiesChangedEventArgs e) => DesiredPropertiesChanged?.Invoke(this, e);

    public void RaiseIdentityChanged(IdentityChangedEventArgs e) => IdentityChanged?.Invoke(this, e);
}
