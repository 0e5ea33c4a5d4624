using System.Management.Automation;
using TwinPS.Client;

namespace TwinPS.Models;

/// <summary>
/// One device's part in a job (PowerShell type name <c>TwinPS.DeviceJob</c>): the output of Get-IoTJobDevice.
/// </summary>
public sealed class DeviceJob : DeviceAnswer
{
    /// <summary>The PowerShell type name the views use.</summary>
    public const string TypeName = "TwinPS.DeviceJob";

    private readonly DeviceJobRecord _record;

    internal DeviceJob(DeviceJobRecord record)
        : base(record.DeviceId, record.ModuleId, record.MethodPayload)
    {
        _record = record;
    }

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
    public object? MethodPayload => AnswerPayload;

    /// <summary>The error code when the device's part failed (e.g. DeviceNotOnline).</summary>
    public string? ErrorCode => _record.ErrorCode;

    /// <summary>The error text when the device's part failed.</summary>
    public string? ErrorDescription => _record.ErrorDescription;

    /// <summary>The record as the hub sent it.</summary>
    public string ToJson() => _record.Json.ToJsonString();

    /// <inheritdoc/>
    public override string ToString() => $"{Target} {JobId}: {Status}";

    internal PSObject ToPSObject() => PSOutput.Typed(this, TypeName);
}
