using System.Management.Automation;
using TwinPS.Client.Device;
using TwinPS.Internal;

namespace TwinPS.Models;

/// <summary>A device's own view of its twin (PowerShell type name <c>TwinPS.DeviceTwin</c>): desired and reported with their versions, no tags.</summary>
public sealed class DeviceSessionTwin
{
    /// <summary>The PowerShell type name the views use.</summary>
    public const string TypeName = "TwinPS.DeviceTwin";

    private readonly DeviceTwinProperties _twin;

    internal DeviceSessionTwin(string deviceId, string? moduleId, DeviceTwinProperties twin)
    {
        DeviceId = deviceId;
        ModuleId = moduleId;
        _twin = twin;
        Desired = PSObjectJson.ToSection(twin.Desired)!;
        Reported = PSObjectJson.ToSection(twin.Reported)!;
    }

    /// <summary>The device id.</summary>
    public string DeviceId { get; }

    /// <summary>The module id, for a module identity.</summary>
    public string? ModuleId { get; }

    /// <summary>Desired properties (without <c>$version</c>).</summary>
    public object Desired { get; }

    /// <summary>Reported properties (without <c>$version</c>).</summary>
    public object Reported { get; }

    /// <summary>The desired section's <c>$version</c>.</summary>
    public long DesiredVersion => _twin.DesiredVersion;

    /// <summary>The reported section's <c>$version</c>.</summary>
    public long ReportedVersion => _twin.ReportedVersion;

    /// <summary>The twin as the hub sent it to the device: <c>{"desired":{…},"reported":{…}}</c> with <c>$version</c>s.</summary>
    public string ToJson() => _twin.ToJson();

    /// <inheritdoc/>
    public override string ToString() => ModuleId is null ? DeviceId : DeviceId + "/" + ModuleId;

    internal PSObject ToPSObject() => PSOutput.Typed(this, TypeName);
}
