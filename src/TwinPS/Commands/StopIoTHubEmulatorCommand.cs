using System.Management.Automation;
using TwinPS.Internal;
using TwinPS.Models;

namespace TwinPS.Commands;

/// <summary>Stop-IoTHubEmulator: stops an emulator that Start-IoTHubEmulator started (gracefully, then by force).</summary>
[Cmdlet(VerbsLifecycle.Stop, "IoTHubEmulator", DefaultParameterSetName = InputObjectSet, SupportsShouldProcess = true)]
[OutputType(typeof(EmulatorInfo))]
public sealed class StopIoTHubEmulatorCommand : AsyncCmdlet
{
    private const string InputObjectSet = "InputObject";
    private const string ProcessIdSet = "ProcessId";

    /// <summary>The emulator (from Start-IoTHubEmulator).</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ParameterSetName = InputObjectSet)]
    [ValidateNotNull]
    public EmulatorInfo[] InputObject { get; set; } = [];

    /// <summary>Process ids of emulators started in this PowerShell process.</summary>
    [Parameter(Mandatory = true, ParameterSetName = ProcessIdSet, ValueFromPipelineByPropertyName = true)]
    [Alias("Id")]
    public int[] ProcessId { get; set; } = [];

    /// <summary>Seconds to wait for a graceful stop before the process is killed.</summary>
    [Parameter]
    [ValidateRange(0, 300)]
    public int TimeoutSeconds { get; set; } = 10;

    /// <summary>Returns the stopped emulator.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    /// <inheritdoc />
    protected override async Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        if (ParameterSetName == ProcessIdSet)
        {
            foreach (int id in ProcessId)
            {
                EmulatorInfo? info = EmulatorLauncher.Find(id);
                if (info is null)
                {
                    WriteErrorSafe(ErrorRecords.Create(
                        new ArgumentException($"No running emulator with process id {id} was started by Start-IoTHubEmulator in this PowerShell process."),
                        "EmulatorNotFound", ErrorCategory.ObjectNotFound, id,
                        $"No running emulator with process id {id} was started by Start-IoTHubEmulator in this PowerShell process.",
                        "Pass the object Start-IoTHubEmulator returned, or stop other processes with Stop-Process."));
                    continue;
                }

                await StopAsync(info, cancellationToken).ConfigureAwait(false);
            }

            return;
        }

        foreach (EmulatorInfo info in InputObject)
        {
            await StopAsync(info, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task StopAsync(EmulatorInfo info, CancellationToken cancellationToken)
    {
        if (!await ShouldProcessSafe($"IoT Hub emulator {info.HubName} (process {info.ProcessId}, https port {info.HttpsPort})", "Stop").ConfigureAwait(false))
        {
            return;
        }

        // Ctrl+C cancels the wait for a graceful stop.
        bool graceful = await EmulatorLauncher.StopAsync(info, TimeSpan.FromSeconds(TimeoutSeconds), cancellationToken).ConfigureAwait(false);
        WriteVerboseSafe(graceful
            ? $"Emulator (process {info.ProcessId}) stopped."
            : $"Emulator (process {info.ProcessId}) did not stop within {TimeoutSeconds} s and was killed.");
        if (PassThru)
        {
            WriteObjectSafe(info);
        }
    }
}
