using System.Management.Automation;
using TwinPS.Client;
using TwinPS.Internal;

namespace TwinPS.Models;

/// <summary>
/// One device's part in a job (PowerShell type name <c>TwinPS.DeviceJob</c>): the output of Get-IoTJobDevice.
/// </summary>
public sealed class DeviceJob
{
    /// <summary>The PowerShell type name the views use.</summary>
    public const string TypeName = "TwinPS.DeviceJob";

    private readonly DeviceJobRecord _record;
    private object? _payload;

    internal DeviceJob(DeviceJobRecord record)
    {
        _record = record;
    }

    /// <summary>The device id.</summary>
    public string DeviceId => _record.DeviceId;

    /// <summary>The module id, for a module.</summary>
    public string? ModuleId => _record.ModuleId;

    /// <summary>The job id.</summary>
    public string JobId => _record.JobId;

    /// <summary><c>scheduleUpdateTwin</c> or <c>scheduleDeviceMethod</c>.</summary>
    public string JobType => _record.JobType;

    /// <summary>pending, scheduled, running, completed, failed or canceled.</summary>
    public string Status => _record.Status;

    /// <summary>When the device's part started.</summary>
    public DateTimeOffset? StartTime => _record.StartTime;

    /// <summary>When the device's part ended.</summary>
    public DateTimeOffset? EndTime => _record.EndTime;

    /// <summary>When the record was created.</summary>
    public DateTimeOffset? CreatedTime => _record.CreatedTime;

    /// <summary>When the record last changed.</summary>
    public DateTimeOffset? LastUpdatedTime => _record.LastUpdatedTime;

    /// <summary>Method jobs: the status the device answered with.</summary>
    public int? MethodStatus => _record.MethodStatus;

    /// <summary>Method jobs: the payload the device answered with, as PowerShell objects.</summary>
    public object? MethodPayload => _payload ??= PSObjectJson.ToPowerShell(_record.MethodPayload);

    /// <summary>The error code when the device's part failed (e.g. DeviceNotOnline).</summary>
    public string? ErrorCode => _record.ErrorCode;

    /// <summary>The error text when the device's part failed.</summary>
    public string? ErrorDescription => _record.ErrorDescription;

    /// <summary>The record as the hub sent it.</summary>
    public string ToJson() => _record.Json.ToJsonString();

    /// <inheritdoc/>
    public override string ToString() => $"{ErrorRecords.Target(DeviceId, ModuleId)} {JobId}: {Status}";

    internal PSObject ToPSObject()
    {
        var wrapped = new PSObject(this);
        wrapped.TypeNames.Insert(0, TypeName);
        return wrapped;
    }
}
