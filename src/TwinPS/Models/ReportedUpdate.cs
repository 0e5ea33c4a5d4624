using System.Management.Automation;
using System.Text.Json.Nodes;
using TwinPS.Internal;

namespace TwinPS.Models;

/// <summary>
/// What <c>Update-IoTTwinReported -PassThru</c> writes (PowerShell type name <c>TwinPS.ReportedUpdate</c>): which
/// device sent which reported patch, and the reported <c>$version</c> the hub acknowledged it with.
/// </summary>
public sealed class ReportedUpdate
{
    /// <summary>The PowerShell type name the views use.</summary>
    public const string TypeName = "TwinPS.ReportedUpdate";

    private readonly JsonObject _patch;

    internal ReportedUpdate(string deviceId, string? moduleId, long reportedVersion, JsonObject patch)
    {
        DeviceId = deviceId;
        ModuleId = moduleId;
        ReportedVersion = reportedVersion;
        _patch = (JsonObject)patch.DeepClone();
        Patch = PSObjectJson.ToSection(_patch)!;
    }

    /// <summary>The device id.</summary>
    public string DeviceId { get; }

    /// <summary>The module id, for a module identity.</summary>
    public string? ModuleId { get; }

    /// <summary>The reported properties' <c>$version</c> after the patch.</summary>
    public long ReportedVersion { get; }

    /// <summary>The patch that was sent, as a PSCustomObject.</summary>
    public object Patch { get; }

    /// <summary>The patch that was sent, as JSON text.</summary>
    public string ToJson() => _patch.ToJsonString();

    /// <inheritdoc/>
    public override string ToString() => (ModuleId is null ? DeviceId : DeviceId + "/" + ModuleId) + " reported v" +
        ReportedVersion.ToString(System.Globalization.CultureInfo.InvariantCulture);

    internal PSObject ToPSObject() => PSOutput.Typed(this, TypeName);
}
