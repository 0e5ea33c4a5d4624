using System.Management.Automation;
using TwinPS.Client;
using TwinPS.Completion;
using TwinPS.Models;

namespace TwinPS.Commands;

/// <summary>
/// <para type="synopsis">Gets the per-device results of a job.</para>
/// <para type="description">Streams one TwinPS.DeviceJob per device of the job (SELECT * FROM devices.jobs): its status,
/// times, and for a method job the device's answer, or the error when the device's part failed.</para>
/// </summary>
[Cmdlet(VerbsCommon.Get, "IoTJobDevice")]
[OutputType(typeof(DeviceJob))]
public sealed class GetIoTJobDeviceCommand : JobCommandBase
{
    /// <summary>The job id(s); binds from piped jobs.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(JobIdCompleter))]
    public string[] JobId { get; set; } = [];

    /// <summary>Only devices in this status.</summary>
    [Parameter]
    [ValidateSet("pending", "scheduled", "running", "completed", "failed", "canceled")]
    public string? Status { get; set; }

    /// <inheritdoc/>
    protected override async Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        foreach (string jobId in JobId)
        {
            if (!ValidateJobId(jobId))
            {
                continue;
            }

            await RunJobAsync(jobId, async () =>
            {
                var written = 0;
                await foreach (DeviceJobRecord record in Client.GetDeviceJobsAsync(jobId, Status?.ToLowerInvariant(), null, cancellationToken).ConfigureAwait(false))
                {
                    WriteObjectSafe(new DeviceJob(record).ToPSObject());
                    if (++written % QueryOptions.MaxPageSize == 0)
                    {
                        await FlushPipelineCallsAsync(cancellationToken).ConfigureAwait(false);
                    }
                }
            }).ConfigureAwait(false);
        }
    }
}
