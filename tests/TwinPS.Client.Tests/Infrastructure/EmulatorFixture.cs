using System.Diagnostics;
using System.Reflection;
using System.Text;
using System.Text.Json.Nodes;
using TwinPS.Protocol;

namespace TwinPS.Client.Tests.Infrastructure;

/// <summary>
/// One real emulator process (<c>dotnet TwinPS.Emulator.dll --https-port 0 --mqtt-port 0 --in-memory</c>) per test class,
/// started like the emulator's own tests start it, and a client that trusts its CA.
/// </summary>
public sealed class EmulatorFixture : IDisposable
{
    private static readonly TimeSpan StartTimeout = TimeBounds.ProcessStart;
    private static readonly string[] BaseArguments = ["--https-port", "0", "--mqtt-port", "0", "--in-memory"];
    private readonly Process _process;
    private readonly StringBuilder _stderr = new();

    public EmulatorFixture()
        : this([])
    {
    }

    private EmulatorFixture(string[] extraArguments)
    {
        var dll = typeof(EmulatorFixture).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "EmulatorDll").Value!;
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(Path.GetFullPath(dll));
        foreach (var arg in BaseArguments.Concat(extraArguments))
        {
            info.ArgumentList.Add(arg);
        }

        _process = Process.Start(info) ?? throw new InvalidOperationException("dotnet did not start");
        _process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (_stderr)
                {
                    _stderr.AppendLine(e.Data);
                }
            }
        };
        _process.BeginErrorReadLine();
        var line = _process.StandardOutput.ReadLineAsync();
        if (!line.Wait(StartTimeout) || line.Result is null)
        {
            Dispose();
            string err;
            lock (_stderr)
            {
                err = _stderr.ToString();
            }

            throw new InvalidOperationException("The emulator did not print its ready line. stderr: " + err);
        }

        Ready = (JsonObject)JsonNode.Parse(line.Result)!;
        // Keep draining stdout so the child never blocks on a full pipe.
        _ = _process.StandardOutput.ReadToEndAsync();
        ConnectionString = IoTHubConnectionString.Parse((string)Ready["serviceConnectionString"]!);
        CaCertificatePath = (string)Ready["caCertificatePath"]!;
        Client = NewClient(ConnectionString);
    }

    /// <summary>An emulator process of its own with extra options (e.g. <c>--fault-rate</c>); dispose it.</summary>
    public static EmulatorFixture Start(params string[] extraArguments) => new(extraArguments);

    /// <summary>The ready line.</summary>
    public JsonObject Ready { get; }

    /// <summary>The iothubowner connection string.</summary>
    public IoTHubConnectionString ConnectionString { get; }

    /// <summary>The emulator's CA certificate (PEM).</summary>
    public string CaCertificatePath { get; }

    /// <summary>A shared iothubowner client.</summary>
    public IoTHubServiceClient Client { get; }

    /// <summary>The connection string of another policy.</summary>
    public IoTHubConnectionString Policy(string name) => IoTHubConnectionString.Parse((string)Ready["policies"]![name]!);

    /// <summary>A client trusting the emulator's CA, with short retry delays.</summary>
    public IoTHubServiceClient NewClient(IoTHubConnectionString connectionString)
    {
        var options = new IoTHubServiceClientOptions { TrustedCACertificatePath = CaCertificatePath };
        options.Retry.Delay = TimeSpan.FromMilliseconds(20);
        options.Retry.MaxDelay = TimeSpan.FromMilliseconds(100);
        options.Retry.MaxRetries = 2;
        return new IoTHubServiceClient(connectionString, options);
    }

    public void Dispose()
    {
        Client?.Dispose();
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
    }
}
