using System.Management.Automation;
using TwinPS.Client;
using TwinPS.Internal;

namespace TwinPS.Models;

/// <summary>
/// A job run by the hub's job engine (PowerShell type name <c>TwinPS.Job</c>): the output of Start-IoTTwinUpdateJob,
/// Start-IoTDeviceMethodJob, Get-IoTJob, Wait-IoTJob and Stop-IoTJob. Times are <see cref="DateTimeOffset"/>, $null
/// when not set (EndTime until the job has finished).
/// </summary>
public sealed class HubJob
{
    /// <summary>The PowerShell type name the views use.</summary>
    public const string TypeName = "TwinPS.Job";

    private readonly IoTHubJob _job;
    private object? _updateTwin;
    private object? _method;

    internal HubJob(IoTHubJob job, string hostName)
    {
        _job = job;
        HostName = hostName;
    }

    /// <summary>The job id.</summary>
    public string JobId => _job.JobId;

    /// <summary><c>scheduleUpdateTwin</c> or <c>scheduleDeviceMethod</c> (or what the hub reports for other jobs).</summary>
    public string Type => _job.Type;

    /// <summary>queued, scheduled, running, completed, failed or cancelled.</summary>
    public string Status => _job.Status;

    /// <summary>The condition that selects the devices (<c>*</c>: all).</summary>
    public string? QueryCondition => _job.QueryCondition;

    /// <summary>When the job was created.</summary>
    public DateTimeOffset? CreatedTime => _job.CreatedTime;

    /// <summary>When the job starts or started.</summary>
    public DateTimeOffset? StartTime => _job.StartTime;

    /// <summary>When the job finished ($null until it has).</summary>
    public DateTimeOffset? EndTime => _job.EndTime;

    /// <summary>The job's time limit ($null when the hub did not report one).</summary>
    public TimeSpan? MaxExecutionTime => _job.MaxExecutionTimeInSeconds is long s ? TimeSpan.FromSeconds(s) : null;

    /// <summary>Why the job failed.</summary>
    public string? FailureReason => _job.FailureReason;

    /// <summary>The hub's status message.</summary>
    public string? StatusMessage => _job.StatusMessage;

    /// <summary>Devices the job selected.</summary>
    public int DeviceCount => _job.Statistics.DeviceCount;

    /// <summary>Devices done successfully.</summary>
    public int SucceededCount => _job.Statistics.SucceededCount;

    /// <summary>Devices that failed (e.g. offline for a method job).</summary>
    public int FailedCount => _job.Statistics.FailedCount;

    /// <summary>Devices in progress.</summary>
    public int RunningCount => _job.Statistics.RunningCount;

    /// <summary>Devices not started yet.</summary>
    public int PendingCount => _job.Statistics.PendingCount;

    /// <summary>True once the job is completed, failed or cancelled.</summary>
    public bool IsFinished => _job.IsTerminal;

    /// <summary>The twin patch of a twin-update job, as PowerShell objects.</summary>
    public object? UpdateTwin => _updateTwin ??= PSObjectJson.ToPowerShell(_job.UpdateTwin);

    /// <summary>The method call of a method job, as PowerShell objects.</summary>
    public object? CloudToDeviceMethod => _method ??= PSObjectJson.ToPowerShell(_job.CloudToDeviceMethod);

    /// <summary>The hub that runs the job.</summary>
    public string HostName { get; }

    /// <summary>The job document as the hub sent it.</summary>
    public string ToJson() => _job.Json.ToJsonString();

    /// <inheritdoc/>
    public override string ToString() => _job.ToString();

    internal IoTHubJob Inner => _job;

    internal PSObject ToPSObject() => PSOutput.Typed(this, TypeName);
}
