using System.Diagnostics;
using System.Reflection;
using System.Text;
using System.Text.Json.Nodes;

namespace TwinPS.Emulator.Tests.Infrastructure;

/// <summary>A real emulator child process (<c>dotnet TwinPS.Emulator.dll …</c>) and its ready line.</summary>
public sealed class EmulatorProcess : IDisposable
{
    private static readonly TimeSpan StartTimeout = TimeBounds.ProcessStart;
    private readonly Process _process;
    private readonly StringBuilder _stderr = new();
    private readonly StringBuilder _extraStdout = new();

    private EmulatorProcess(Process process, JsonObject ready)
    {
        _process = process;
        Ready = ready;
    }

    /// <summary>The parsed ready line.</summary>
    public JsonObject Ready { get; }

    public int HttpsPort => (int)Ready["httpsPort"]!;

    public int MqttPort => (int)Ready["mqttPort"]!;

    public string CaCertificatePath => (string)Ready["caCertificatePath"]!;

    public string ServiceConnectionString => (string)Ready["serviceConnectionString"]!;

    public int ProcessId => _process.Id;

    public bool HasExited => _process.HasExited;

    public string StandardError
    {
        get
        {
            lock (_stderr) return _stderr.ToString();
        }
    }

    /// <summary>Whatever the process wrote on stdout after the ready line (must stay empty).</summary>
    public string ExtraStandardOutput
    {
        get
        {
            lock (_extraStdout) return _extraStdout.ToString();
        }
    }

    public static string EmulatorDll =>
        typeof(EmulatorProcess).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "EmulatorDll").Value!;

    /// <summary>Starts a process with the given arguments (not waiting for anything).</summary>
    public static Process StartRaw(params string[] args)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(Path.GetFullPath(EmulatorDll));
        foreach (string a in args) info.ArgumentList.Add(a);
        return Process.Start(info) ?? throw new InvalidOperationException("dotnet did not start");
    }

    /// <summary>Starts an emulator and waits for its ready line.</summary>
    public static EmulatorProcess Start(params string[] args)
    {
        Process process = StartRaw(args);
        var stderr = new StringBuilder();
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (stderr) stderr.AppendLine(e.Data);
        };
        process.BeginErrorReadLine();

        Task<string?> readLine = process.StandardOutput.ReadLineAsync();
        if (!readLine.Wait(StartTimeout) || readLine.Result is null)
        {
            try
            {
                process.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException)
            {
            }

            string err;
            lock (stderr) err = stderr.ToString();
            throw new InvalidOperationException("The emulator did not print its ready line. stderr: " + err);
        }

        var ready = (JsonObject)JsonNode.Parse(readLine.Result)!;
        var emulator = new EmulatorProcess(process, ready);
        lock (stderr) emulator._stderr.Append(stderr);
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (emulator._stderr) emulator._stderr.AppendLine(e.Data);
        };
        _ = Task.Run(async () =>
        {
            string? line;
            while ((line = await process.StandardOutput.ReadLineAsync().ConfigureAwait(false)) is not null)
            {
                lock (emulator._extraStdout) emulator._extraStdout.AppendLine(line);
            }
        });
        return emulator;
    }

    /// <summary>Sends SIGTERM and waits for the exit code.</summary>
    public int Stop(TimeSpan timeout)
    {
        if (!_process.HasExited)
        {
            using Process kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!;
            kill.WaitForExit();
        }

        if (!_process.WaitForExit(timeout)) throw new TimeoutException("The emulator did not stop after SIGTERM.");
        _process.WaitForExit();
        return _process.ExitCode;
    }

    /// <summary>kill -9 (SIGKILL on Linux).</summary>
    public void KillHard()
    {
        _process.Kill(entireProcessTree: true);
        _process.WaitForExit();
    }

    public void Dispose()
    {
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
