using System.Diagnostics;
using System.Reflection;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using TwinPS.Client.Device;
using TwinPS.Protocol;

namespace TwinPS.Client.Tests.Device;

/// <summary>
/// A real emulator process for device tests, with a data folder so that it can be stopped (killed, or frozen) and
/// started again on the same ports with the same devices. Also a REST client (iothubowner) to set up devices and twins.
/// </summary>
public sealed class DeviceHub : IAsyncDisposable, IDisposable
{
    private static readonly TimeSpan StartTimeout = TimeBounds.ProcessStart;
    private readonly string _dataFolder = Path.Combine(Path.GetTempPath(), "twinps-devtest-" + Guid.NewGuid().ToString("N"));
    private readonly StringBuilder _stderr = new();
    private readonly string[] _extraArguments;
    private Process? _process;
    private IoTHubServiceClient? _service;

    private DeviceHub(string[] extraArguments)
    {
        _extraArguments = extraArguments;
    }

    public int HttpsPort { get; private set; }

    public int MqttPort { get; private set; }

    public string CaCertificatePath { get; private set; } = string.Empty;

    public X509Certificate2 CaCertificate { get; private set; } = null!;

    public IoTHubConnectionString ServiceConnectionString { get; private set; } = null!;

    public JsonObject Ready { get; private set; } = null!;

    public IoTHubServiceClient Service => _service ?? throw new InvalidOperationException("The emulator is not running.");

    public string Stderr
    {
        get
        {
            lock (_stderr)
            {
                return _stderr.ToString();
            }
        }
    }

    /// <summary>Starts an emulator on free ports with a new data folder.</summary>
    public static DeviceHub Start(params string[] extraArguments)
    {
        var hub = new DeviceHub(extraArguments);
        hub.Launch(0, 0);
        return hub;
    }

    /// <summary>Starts the emulator again with the same data folder; same ports unless given.</summary>
    public void Restart(int? mqttPort = null)
    {
        Kill();
        Launch(HttpsPort, mqttPort ?? MqttPort);
    }

    /// <summary>Kills the emulator process (as a crash or a stop would: every socket closes).</summary>
    public void Kill()
    {
        _service?.Dispose();
        _service = null;
        if (_process is null)
        {
            return;
        }

        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(10_000);
            }
        }
        catch (InvalidOperationException)
        {
        }

        _process.Dispose();
        _process = null;
    }

    /// <summary>Freezes the emulator (SIGSTOP): connections stay open but nothing answers.</summary>
    public void Freeze() => Signal("STOP");

    /// <summary>Options for a device client that trusts this emulator and dials its MQTT port.</summary>
    public IoTHubDeviceClientOptions DeviceOptions(bool autoReconnect = true) => new()
    {
        TrustedCACertificate = CaCertificate,
        MqttPort = MqttPort,
        // Generous: a test that needs an operation to fail says so with its own error, never with these timeouts.
        OperationTimeout = TimeBounds.Eventually,
        ConnectTimeout = TimeBounds.Eventually,
        AutoReconnect = autoReconnect,
        ReconnectInitialDelay = TimeSpan.FromMilliseconds(200),
        ReconnectMaxDelay = TimeSpan.FromSeconds(1),
    };

    /// <summary>Creates a device (SAS, hub-generated keys) and returns its connection string (<c>HostName=localhost</c>, no port).</summary>
    public async Task<string> CreateDeviceAsync(string? deviceId = null)
    {
        var created = await Service.CreateDeviceAsync(new DeviceIdentity(deviceId ?? NewId())).ConfigureAwait(false);
        return $"HostName=localhost;DeviceId={created.DeviceId};SharedAccessKey={created.GetPrimaryKey()}";
    }

    public static string NewId() => "dev-" + Guid.NewGuid().ToString("N")[..12];

    /// <summary>The policy connection string (e.g. <c>device</c>) from the ready line.</summary>
    public IoTHubConnectionString Policy(string name) => IoTHubConnectionString.Parse((string)Ready["policies"]![name]!);

    public async ValueTask DisposeAsync()
    {
        Dispose();
        await Task.CompletedTask.ConfigureAwait(false);
    }

    public void Dispose()
    {
        Kill();
        try
        {
            Directory.Delete(_dataFolder, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    private void Launch(int httpsPort, int mqttPort)
    {
        var dll = typeof(DeviceHub).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "EmulatorDll").Value!;
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(Path.GetFullPath(dll));
        foreach (var arg in new[] { "--https-port", httpsPort.ToString(System.Globalization.CultureInfo.InvariantCulture), "--mqtt-port", mqttPort.ToString(System.Globalization.CultureInfo.InvariantCulture), "--data", _dataFolder }.Concat(_extraArguments))
        {
            info.ArgumentList.Add(arg);
        }

        var process = Process.Start(info) ?? throw new InvalidOperationException("dotnet did not start");
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (_stderr)
                {
                    _stderr.AppendLine(e.Data);
                }
            }
        };
        process.BeginErrorReadLine();
        var line = process.StandardOutput.ReadLineAsync();
        if (!line.Wait(StartTimeout) || line.Result is null)
        {
            process.Kill(entireProcessTree: true);
            throw new InvalidOperationException("The emulator did not print its ready line. stderr: " + Stderr);
        }

        _ = process.StandardOutput.ReadToEndAsync();
        _process = process;
        Ready = (JsonObject)JsonNode.Parse(line.Result)!;
        HttpsPort = (int)Ready["httpsPort"]!;
        MqttPort = (int)Ready["mqttPort"]!;
        CaCertificatePath = (string)Ready["caCertificatePath"]!;
        CaCertificate = X509Certificate2.CreateFromPem(File.ReadAllText(CaCertificatePath));
        ServiceConnectionString = IoTHubConnectionString.Parse((string)Ready["serviceConnectionString"]!);
        var options = new IoTHubServiceClientOptions { TrustedCACertificatePath = CaCertificatePath };
        options.Retry.Delay = TimeSpan.FromMilliseconds(20);
        options.Retry.MaxDelay = TimeSpan.FromMilliseconds(100);
        options.Retry.MaxRetries = 2;
        _service = new IoTHubServiceClient(ServiceConnectionString, options);
    }

    private void Signal(string signal)
    {
        if (_process is null || OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException("Freezing the emulator needs a POSIX kill.");
        }

        using var kill = Process.Start("kill", ["-" + signal, _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        // Wait for the signal to be sent (starting 'kill' can take seconds on a loaded machine), and for a STOP to
        // take effect: the process state in /proc turns to 'T'. Events, not a fixed delay.
        if (!kill.WaitForExit(TimeBounds.Eventually) || kill.ExitCode != 0)
        {
            throw new InvalidOperationException($"kill -{signal} {_process.Id} did not succeed.");
        }

        if (signal == "STOP")
        {
            var until = DateTime.UtcNow + TimeBounds.Eventually;
            while (StateOf(_process.Id) != 'T')
            {
                if (DateTime.UtcNow > until)
                {
                    throw new InvalidOperationException($"the emulator (process {_process.Id}) did not stop after SIGSTOP.");
                }

                Thread.Sleep(10);
            }
        }
    }

    /// <summary>The one-letter state of a process from /proc/PID/stat (R, S, T, ...).</summary>
    private static char StateOf(int pid)
    {
        string stat = File.ReadAllText($"/proc/{pid}/stat");
        return stat[stat.LastIndexOf(')') + 2];
    }
}

/// <summary>One emulator shared by the tests of a class.</summary>
public sealed class DeviceHubFixture : IDisposable
{
    public DeviceHubFixture() => Hub = DeviceHub.Start();

    public DeviceHub Hub { get; }

    public void Dispose() => Hub.Dispose();
}
