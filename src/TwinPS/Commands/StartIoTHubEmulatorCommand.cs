using System.Management.Automation;
using System.Management.Automation.Runspaces;
using TwinPS.Internal;
using TwinPS.Models;

namespace TwinPS.Commands;

/// <summary>Start-IoTHubEmulator: starts the bundled local IoT Hub emulator and returns its details.</summary>
[Cmdlet(VerbsLifecycle.Start, "IoTHubEmulator", DefaultParameterSetName = DataSet)]
[OutputType(typeof(EmulatorInfo))]
public sealed class StartIoTHubEmulatorCommand : PSCmdlet, IDisposable
{
    private const string DataSet = "Data";
    private const string InMemorySet = "InMemory";
    private readonly CancellationTokenSource _stop = new();

    /// <summary>HTTPS (REST) port; 0 picks a free port.</summary>
    [Parameter]
    [ValidateRange(0, 65535)]
    public int HttpsPort { get; set; }

    /// <summary>MQTT/TLS port; 0 picks a free port.</summary>
    [Parameter]
    [ValidateRange(0, 65535)]
    public int MqttPort { get; set; }

    /// <summary>Data folder (SQLite store, certificates, keys); the emulator's default folder when omitted.</summary>
    [Parameter(ParameterSetName = DataSet)]
    [ValidateNotNullOrEmpty]
    public string? DataPath { get; set; }

    /// <summary>Keeps nothing on disk.</summary>
    [Parameter(Mandatory = true, ParameterSetName = InMemorySet)]
    public SwitchParameter InMemory { get; set; }

    /// <summary>The hub name the emulator reports (3-50 letters, digits or '-').</summary>
    [Parameter]
    [ValidatePattern("^[A-Za-z0-9-]{3,50}$")]
    public string? HubName { get; set; }

    /// <summary>How long to wait for the emulator to report ready.</summary>
    [Parameter]
    [ValidateRange(1, 600)]
    public int TimeoutSeconds { get; set; } = 60;

    /// <inheritdoc />
    protected override void EndProcessing()
    {
        string? dataPath = DataPath is null ? null : GetUnresolvedProviderPathFromPSPath(DataPath);
        var options = new EmulatorStartOptions(HttpsPort, MqttPort, dataPath, InMemory, HubName, TimeSpan.FromSeconds(TimeoutSeconds));
        WriteVerbose($"Starting {EmulatorLauncher.EmulatorDllPath}.");
        EmulatorInfo info;
        try
        {
            // The pipeline thread waits for the ready line; Ctrl+C (StopProcessing) cancels the wait and kills the process.
            info = EmulatorLauncher.StartAsync(options, Runspace.DefaultRunspace, _stop.Token).GetAwaiter().GetResult();
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            throw new PipelineStoppedException();
        }
        catch (EmulatorStartException ex)
        {
            ThrowTerminatingError(ErrorRecords.Create(
                ex, "EmulatorStartFailed", ErrorCategory.OpenError, EmulatorLauncher.EmulatorDllPath, ex.Message,
                "Check that the ports are free and the data folder is writable; the emulator's own messages are above."));
            return;
        }

        WriteVerbose($"Emulator ready: {info}.");
        WriteObject(info);
    }

    /// <inheritdoc />
    protected override void StopProcessing() => _stop.Cancel();

    /// <inheritdoc />
    public void Dispose() => _stop.Dispose();
}
