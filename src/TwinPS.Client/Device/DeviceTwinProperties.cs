using System.Text.Json.Nodes;

namespace TwinPS.Client.Device;

/// <summary>A device's view of its twin: the desired and reported sections (without <c>$version</c>) and their versions.</summary>
public sealed class DeviceTwinProperties
{
    /// <summary>Creates the view.</summary>
    public DeviceTwinProperties(JsonObject desired, long desiredVersion, JsonObject reported, long reportedVersion)
    {
        Desired = desired ?? throw new ArgumentNullException(nameof(desired));
        Reported = reported ?? throw new ArgumentNullException(nameof(reported));
        DesiredVersion = desiredVersion;
        ReportedVersion = reportedVersion;
    }

    /// <summary>Desired properties (set by the back end).</summary>
    public JsonObject Desired { get; }

    /// <summary>The desired section's <c>$version</c>.</summary>
    public long DesiredVersion { get; }

    /// <summary>Reported properties (set by the device).</summary>
    public JsonObject Reported { get; }

    /// <summary>The reported section's <c>$version</c>.</summary>
    public long ReportedVersion { get; }

    /// <summary>The wire form: <c>{"desired":{…,"$version":n},"reported":{…,"$version":m}}</c>.</summary>
    public string ToJson()
    {
        var desired = (JsonObject)Desired.DeepClone();
        desired["$version"] = DesiredVersion;
        var reported = (JsonObject)Reported.DeepClone();
        reported["$version"] = ReportedVersion;
        return new JsonObject { ["desired"] = desired, ["reported"] = reported }.ToJsonString();
    }
}
