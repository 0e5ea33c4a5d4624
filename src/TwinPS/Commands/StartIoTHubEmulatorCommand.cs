using System.Globalization;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using TwinPS.Internal;
using TwinPS.Models;

namespace TwinPS.Commands;

/// <summary>Start-IoTHubEmulator: starts the bundled local IoT Hub emulator and returns its details.</summary>
[Cmdlet(VerbsLifecycle.Start, "IoTHubEmulator", DefaultParameterSetName = DataSet)]
[OutputType(typeof(EmulatorInfo))]
public sealed class StartIoTHubEmulatorCommand : AsyncCmdlet
{
    private const string DataSet = "Data";
    private const string InMemorySet = "InMemory";

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

    /// <summary>Throttle like a hub of this tier (F1, S1, S2, S3): its published rates, shaping by default.</summary>
    [Parameter]
    [ValidateSet("F1", "S1", "S2", "S3")]
    public string? Tier { get; set; }

    /// <summary>Units of the tier (F1: 1; S1, S2: 1-200; S3: 1-10).</summary>
    [Parameter]
    [ValidateRange(1, 200)]
    public int Units { get; set; } = 1;

    /// <summary>Rates of single throttle classes: strings such as 'twinUpdate=50/s' or a hashtable @{ query = '20/min' }.</summary>
    [Parameter]
    [EmulatorRateTransformation]
    [ValidateEmulatorRate]
    public string[]? Rate { get; set; }

    /// <summary>Shape (queue over-rate requests, then 429002/429003) or Strict (429001 at once).</summary>
    [Parameter]
    [ValidateSet("Shape", "Strict")]
    public string? ThrottleMode { get; set; }

    /// <summary>Seconds of each class's rate a client may use at once before throttling starts.</summary>
    [Parameter]
    [ValidateRange(0.001, 3600.0)]
    public double Burst { get; set; }

    /// <summary>Requests that may wait per throttle class when shaping.</summary>
    [Parameter]
    [ValidateRange(0, 100000)]
    public int Backlog { get; set; }

    /// <summary>Longest wait in the shaping backlog, in seconds.</summary>
    [Parameter]
    [ValidateRange(0.001, 600.0)]
    public double BacklogTimeout { get; set; }

    /// <summary>Probability (0 to 1) that a request meets an injected fault.</summary>
    [Parameter]
    [ValidateRange(0.0, 1.0)]
    public double FaultRate { get; set; }

    /// <summary>Seed of the fault sequence, to meet the same faults again.</summary>
    [Parameter]
    public int FaultSeed { get; set; }

    /// <summary>The fault kinds to inject (all by default).</summary>
    [Parameter]
    [ValidateSet("ServiceUnavailable", "ServerError", "ResetBeforeProcessing", "ResetAfterCommit", "ServiceUnavailableAfterCommit", "SlowResponse", "MqttDisconnect")]
    public string[]? FaultKind { get; set; }

    /// <summary>Delay of a SlowResponse fault, in seconds.</summary>
    [Parameter]
    [ValidateRange(0.001, 300.0)]
    public double FaultDelay { get; set; }

    /// <summary>
    /// Shared access policies of your own, each <c>NAME=Right,Right</c> with the rights RegistryRead, RegistryWrite,
    /// ServiceConnect and DeviceConnect (e.g. <c>'backend=ServiceConnect,RegistryRead'</c>); their keys are generated
    /// once per data folder, like the default policies'. Get a connection string with <c>GetPolicyConnectionString</c>.
    /// </summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    [ValidatePattern(@"^[A-Za-z0-9._-]{1,64}=[A-Za-z]+(\s*,\s*[A-Za-z]+)*$")]
    public string[]? Policy { get; set; }

    /// <inheritdoc />
    protected override async Task EndProcessingAsync(CancellationToken cancellationToken)
    {
        (string? dataPath, Runspace owner) = await InvokeOnPipelineThreadAsync(
            () => (DataPath is null ? null : GetUnresolvedProviderPathFromPSPath(DataPath), Runspace.DefaultRunspace)).ConfigureAwait(false);
        List<string> limits = LimitArguments();
        var options = new EmulatorStartOptions(HttpsPort, MqttPort, dataPath, InMemory, HubName, TimeSpan.FromSeconds(TimeoutSeconds))
        {
            LimitArguments = limits,
            Policies = Policy ?? [],
        };
        WriteVerboseSafe($"Starting {EmulatorLauncher.EmulatorDllPath}.");
        EmulatorInfo info;
        try
        {
            // Waits for the ready line; Ctrl+C cancels the wait and kills the process.
            info = await EmulatorLauncher.StartAsync(options, owner, cancellationToken).ConfigureAwait(false);
        }
        catch (EmulatorStartException ex)
        {
            throw new TerminatingErrorException(ErrorRecords.Create(
                ex, "EmulatorStartFailed", ErrorCategory.OpenError, EmulatorLauncher.EmulatorDllPath, ex.Message,
                "Check that the ports are free and the data folder is writable; the emulator's own messages are above."));
        }

        WriteVerboseSafe($"Emulator ready: {info}.");
        WriteVerboseSafe(info.Throttle is null ? "Throttling: none (an ideal hub)." : $"Throttling: {info.Throttle}.");
        WriteVerboseSafe(info.Faults is null ? "Fault injection: none." : $"Fault injection: {info.Faults}.");
        WriteObjectSafe(info);
    }

    /// <summary>
    /// The emulator's throttle and fault options from the bound parameters. Combinations that make no sense are refused
    /// here, with the parameters' names, before anything starts; the emulator checks the values again.
    /// </summary>
    private List<string> LimitArguments()
    {
        bool Bound(string name) => MyInvocation.BoundParameters.ContainsKey(name);
        bool throttled = Tier is not null || Rate is { Length: > 0 };
        if (Bound(nameof(Units)) && Tier is null)
            Refuse("-Units needs -Tier.", nameof(Units));
        if (!throttled && (ThrottleMode is not null || Bound(nameof(Burst)) || Bound(nameof(Backlog)) || Bound(nameof(BacklogTimeout))))
            Refuse("-ThrottleMode, -Burst, -Backlog and -BacklogTimeout need -Tier or -Rate.", nameof(ThrottleMode));
        if (string.Equals(ThrottleMode, "Strict", StringComparison.OrdinalIgnoreCase) && (Bound(nameof(Backlog)) || Bound(nameof(BacklogTimeout))))
            Refuse("-Backlog and -BacklogTimeout apply to -ThrottleMode Shape only.", nameof(Backlog));
        if (!Bound(nameof(FaultRate)) && (Bound(nameof(FaultSeed)) || FaultKind is { Length: > 0 } || Bound(nameof(FaultDelay))))
            Refuse("-FaultSeed, -FaultKind and -FaultDelay need -FaultRate.", nameof(FaultRate));

        var args = new List<string>();
        void Add(string option, string value)
        {
            args.Add(option);
            args.Add(value);
        }

        if (Tier is not null)
        {
            Add("--tier", Tier);
            Add("--units", Units.ToString(CultureInfo.InvariantCulture));
        }

        foreach (string rate in Rate ?? [])
            Add("--rate", rate.Replace(" ", string.Empty, StringComparison.Ordinal));
        foreach ((string parameter, string option) in BoundOptions)
        {
            if (MyInvocation.BoundParameters.TryGetValue(parameter, out object? bound) && OptionValue(bound) is { Length: > 0 } value)
                Add(option, value);
        }

        return args;
    }

    // Parameter -> emulator option, for the options passed exactly when the parameter is given.
    private static readonly (string Parameter, string Option)[] BoundOptions =
    [
        (nameof(ThrottleMode), "--throttle"), (nameof(Burst), "--burst"), (nameof(Backlog), "--backlog"),
        (nameof(BacklogTimeout), "--backlog-timeout"), (nameof(FaultRate), "--fault-rate"), (nameof(FaultSeed), "--fault-seed"),
        (nameof(FaultKind), "--fault-kind"), (nameof(FaultDelay), "--fault-delay"),
    ];

    // The option's text: numbers invariant and round-trippable, words lowercase, lists comma-separated (empty: no option).
    private static string? OptionValue(object? bound) => (bound is PSObject wrapped ? wrapped.BaseObject : bound) switch
    {
        double number => number.ToString("R", CultureInfo.InvariantCulture),
        int number => number.ToString(CultureInfo.InvariantCulture),
        string word => word.ToLowerInvariant(),
        string[] list => string.Join(",", list),
        _ => null,
    };

    private static void Refuse(string message, string parameter) =>
        throw new TerminatingErrorException(new ErrorRecord(new ArgumentException(message, parameter), "InvalidEmulatorSettings", ErrorCategory.InvalidArgument, parameter));
}
