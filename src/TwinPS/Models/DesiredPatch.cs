using System.Management.Automation;
using System.Text.Json.Nodes;
using TwinPS.Client.Device;
using TwinPS.Internal;

namespace TwinPS.Models;

/// <summary>
/// A desired-properties patch a device session received (PowerShell type name <c>TwinPS.DesiredPatch</c>). It is also the
/// event data of <see cref="DeviceSession.DesiredPropertiesReceived"/>, so <c>$Event.SourceEventArgs.Properties</c> works.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1710", Justification = "Also the output object of Wait-IoTTwinDesired (TwinPS.DesiredPatch); one type for both keeps scripts simple.")]
public sealed class DesiredPatch : EventArgs
{
    /// <summary>The PowerShell type name the views use.</summary>
    public const string TypeName = "TwinPS.DesiredPatch";

    private readonly JsonObject _patch;
    private object? _properties;

    internal DesiredPatch(string deviceId, string? moduleId, DesiredPropertiesEventArgs args)
    {
        DeviceId = deviceId;
        ModuleId = moduleId;
        _patch = args.Patch;
        Version = args.Version;
        IsSynthetic = args.IsSynthetic;
        ReceivedAt = args.ReceivedAt.UtcDateTime;
    }

    /// <summary>The device that received the patch.</summary>
    public string DeviceId { get; }

    /// <summary>The module, for a module identity.</summary>
    public string? ModuleId { get; }

    /// <summary>The desired <c>$version</c> after the patch.</summary>
    public long Version { get; }

    /// <summary>The changed desired properties; a property whose value is <c>$null</c> was removed.</summary>
    public object Properties => _properties ??= PSObjectJson.ToSection(_patch)!;

    /// <summary>When the device received it (UTC).</summary>
    public DateTime ReceivedAt { get; }

    /// <summary>True when the hub did not send it: it is what changed while the session was disconnected (worked out after reconnecting).</summary>
    public bool IsSynthetic { get; }

    /// <summary>The patch as JSON (what the hub sent, without <c>$version</c>).</summary>
    public string ToJson() => _patch.ToJsonString();

    /// <summary><c>deviceId v{Version}: {json}</c>.</summary>
    public override string ToString() => $"{(ModuleId is null ? DeviceId : DeviceId + "/" + ModuleId)} v{Version}: {ToJson()}";

    internal PSObject ToPSObject() => PSOutput.Typed(this, TypeName);
}
