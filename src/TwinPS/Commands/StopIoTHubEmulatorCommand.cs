using System.Management.Automation;
using TwinPS.Internal;
using TwinPS.Models;

namespace TwinPS.Commands;

/// <summary>Stop-IoTHubEmulator: stops an emulator that Start-IoTHubEmulator started (gracefully, then by force).</summary>
[Cmdlet(VerbsLifecycle.Stop, "IoTHubEmulator", DefaultParameterSetName = InputObjectSet, SupportsShouldProcess = true)]
[OutputType(typeof(EmulatorInfo))]
public sealed class StopIoTHubEmulatorCommand : PSCmdlet, IDisposable
{
    private const string InputObjectSet = "InputObject";
    private const string ProcessIdSet = "ProcessId";
    private readonly CancellationTokenSource _stop = new();

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
    protected override void ProcessRecord()
    {
        if (ParameterSetName == ProcessIdSet)
        {
            foreach (int id in ProcessId)
            {
                EmulatorInfo? info = EmulatorLauncher.Find(id);
                if (info is null)
                {
                    WriteError(ErrorRecords.Create(
                        new ArgumentException($"No running emulator with process id {id} was started by Start-IoTHubEmulator in this PowerShell process."),
                        "EmulatorNotFound", ErrorCategory.ObjectNotFound, id,
                        $"No running emulator with process id {id} was started by Start-IoTHubEmulator in this PowerShell process.",
                        "Pass the object Start-IoTHubEmulator returned, or stop other processes with Stop-Process."));
                    continue;
                }

                Stop(info);
            }

            return;
        }

        foreach (EmulatorInfo info in InputObject)
        {
            Stop(info);
        }
    }

    /// <inheritdoc />
    protected override void StopProcessing() => _stop.Cancel();

    /// <inheritdoc />
    public void Dispose() => _stop.Dispose();

    private void Stop(EmulatorInfo info)
    {
        if (!ShouldProcess($"IoT Hub emulator {info.HubName} (process {info.ProcessId}, https port {info.HttpsPort})", "Stop"))
        {
            return;
        }

        bool graceful;
        try
        {
            graceful = EmulatorLauncher.StopAsync(info, TimeSpan.FromSeconds(TimeoutSeconds), _stop.Token).GetAwaiter().GetResult();
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            throw new PipelineStoppedException();
        }

        WriteVerbose(graceful
            ? $"Emulator (process {info.ProcessId}) stopped."
            : $"Emulator (process {info.ProcessId}) did not stop within {TimeoutSeconds} s and was killed.");
        if (PassThru)
        {
            WriteObject(info);
        }
    }
}
