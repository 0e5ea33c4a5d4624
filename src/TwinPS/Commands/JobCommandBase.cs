using System.Management.Automation;
using TwinPS.Client;
using TwinPS.Internal;
using TwinPS.Models;

namespace TwinPS.Commands;

/// <summary>Shared shape of the cmdlets that act on existing jobs: -JobId (from the pipeline by value or property name).</summary>
public abstract class JobCommandBase : TwinCommandBase
{
    /// <summary>Writes a job (type name TwinPS.Job) from any thread.</summary>
    internal void WriteJobSafe(IoTHubJob job) => WriteObjectSafe(new HubJob(job, HubConnection.HostName).ToPSObject());

    /// <summary>Checks a job id; writes a non-terminating error and returns false when invalid.</summary>
    internal bool ValidateJobId(string jobId)
    {
        try
        {
            TwinPS.Protocol.IdentityRules.ValidateJobId(jobId);
            return true;
        }
        catch (TwinPS.Protocol.IoTHubProtocolException ex)
        {
            WriteErrorSafe(ErrorRecords.FromException(ex, null, null).WithTarget(jobId));
            return false;
        }
    }

    /// <summary>Runs one job's work; a failure becomes a non-terminating error targeted at the job id.</summary>
    internal async Task RunJobAsync(string jobId, Func<Task> work)
    {
        try
        {
            await work().ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (CancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (IoTHubServiceException ex)
        {
            ErrorRecord record = ErrorRecords.FromException(ex, null, null).WithTarget(jobId);
            if (ex is { Status: 401 or 403 })
            {
                ThrowTerminatingErrorSafe(record);
            }
            else
            {
                WriteErrorSafe(record);
            }
        }
    }
}
