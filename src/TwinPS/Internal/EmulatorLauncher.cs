using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using System.Runtime.InteropServices;
using System.Security;
using System.Text.Json;
using System.Text.Json.Nodes;
using TwinPS.Models;

namespace TwinPS.Internal;

/// <summary>
/// Starts the bundled emulator (<c>dotnet &lt;module&gt;/emulator/TwinPS.Emulator.dll</c>) as a child process, waits for its
/// JSON ready line, and keeps track of it so that it is stopped when its runspace closes, the module is removed, or
/// this process exits.
/// </summary>
internal static class EmulatorLauncher
{
    private const int StderrLinesKept = 40;
    private static readonly TimeSpan StderrDrainLimit = TimeSpan.FromSeconds(5);
    private static readonly ConcurrentDictionary<int, EmulatorInfo> Running = new();
    private static readonly ConcurrentDictionary<int, Runspace> Owners = new();
    private static int _exitHookInstalled;

    /// <summary>
    /// The emulator's entry assembly in the module folder: TwinPS.dll sits in the module's dependencies/ folder, the
    /// emulator in emulator/ beside it (a build's bin folder, with emulator/ directly under it, is the fallback).
    /// </summary>
    public static string EmulatorDllPath
    {
        get
        {
            string assemblyDirectory = Path.GetDirectoryName(typeof(EmulatorLauncher).Assembly.Location) ?? ".";
            string inModule = Path.Combine(Path.GetDirectoryName(assemblyDirectory) ?? assemblyDirectory, "emulator", "TwinPS.Emulator.dll");
            string besideAssembly = Path.Combine(assemblyDirectory, "emulator", "TwinPS.Emulator.dll");
            return File.Exists(inModule) || !File.Exists(besideAssembly) ? inModule : besideAssembly;
        }
    }

    /// <summary>Emulators started by this process that are still tracked.</summary>
    public static IEnumerable<EmulatorInfo> All => Running.Values;

    public static async Task<EmulatorInfo> StartAsync(EmulatorStartOptions options, Runspace? owner, CancellationToken cancellationToken)
    {
        string dll = EmulatorDllPath;
        if (!File.Exists(dll))
        {
            throw new EmulatorStartException($"The emulator is not installed beside the module: '{dll}' does not exist. Build the module with 'build.ps1 Build'.");
        }

        var psi = new ProcessStartInfo(FindDotnetHost())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            CreateNoWindow = true,
        };
        psi.ArgumentList.Add(dll);
        psi.ArgumentList.Add("--https-port");
        psi.ArgumentList.Add(options.HttpsPort.ToString(CultureInfo.InvariantCulture));
        psi.ArgumentList.Add("--mqtt-port");
        psi.ArgumentList.Add(options.MqttPort.ToString(CultureInfo.InvariantCulture));
        if (options.InMemory)
        {
            psi.ArgumentList.Add("--in-memory");
        }
        else if (options.DataPath is not null)
        {
            psi.ArgumentList.Add("--data");
            psi.ArgumentList.Add(options.DataPath);
        }

        if (options.HubName is not null)
        {
            psi.ArgumentList.Add("--hub-name");
            psi.ArgumentList.Add(options.HubName);
        }

        foreach (string argument in options.LimitArguments)
        {
            psi.ArgumentList.Add(argument);
        }

        foreach (string policy in options.Policies)
        {
            psi.ArgumentList.Add("--policy");
            psi.ArgumentList.Add(policy);
        }

        var ready = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var stderr = new ConcurrentQueue<string>();
        var stderrEnded = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var process = new Process { StartInfo = psi, EnableRaisingEvents = true };
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is { } line && line.TrimStart().StartsWith('{'))
            {
                ready.TrySetResult(line);
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                stderrEnded.TrySetResult();
                return;
            }

            stderr.Enqueue(TwinPS.Client.SecretRedactor.Redact(e.Data));
            while (stderr.Count > StderrLinesKept && stderr.TryDequeue(out string? _))
            {
            }
        };
        // The exit can be reported before the last stderr lines are read: the message waits (briefly) for their end.
        process.Exited += (_, _) => _ = stderrEnded.Task.WaitAsync(StderrDrainLimit).ContinueWith(
            _ => ready.TrySetException(new EmulatorStartException(
                $"The emulator exited with code {SafeExitCode(process)} before it was ready.{StderrTail(stderr)}")),
            CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);

        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            process.Dispose();
            throw new EmulatorStartException($"Could not start '{psi.FileName}': {ex.Message}");
        }

        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        string line;
        try
        {
            line = await ready.Task.WaitAsync(options.Timeout, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            Kill(process);
            throw new EmulatorStartException(string.Create(
                CultureInfo.InvariantCulture,
                $"The emulator did not report ready within {options.Timeout.TotalSeconds:0} s and was stopped.{StderrTail(stderr)}"));
        }
        catch
        {
            Kill(process);
            throw;
        }

        EmulatorInfo info;
        try
        {
            info = Parse(line, options, process);
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or FormatException)
        {
            Kill(process);
            throw new EmulatorStartException("The emulator's ready line could not be read: " + ex.GetType().Name + ".");
        }

        Track(info, owner);
        return info;
    }

    /// <summary>Stops an emulator: a graceful SIGTERM (Ctrl+C-like) where the OS has one, then a kill after <paramref name="grace"/>.</summary>
    /// <returns>True when it stopped gracefully within the grace period.</returns>
    public static async Task<bool> StopAsync(EmulatorInfo info, TimeSpan grace, CancellationToken cancellationToken)
    {
        Running.TryRemove(info.ProcessId, out _);
        Owners.TryRemove(info.ProcessId, out _);
        Process? process = info.Process;
        if (process is null || HasExited(process))
        {
            return true;
        }

        bool graceful = false;
        if (!OperatingSystem.IsWindows() && NativeMethods.kill(process.Id, NativeMethods.SIGTERM) == 0)
        {
            try
            {
                await process.WaitForExitAsync(cancellationToken).WaitAsync(grace, cancellationToken).ConfigureAwait(false);
                graceful = true;
            }
            catch (TimeoutException)
            {
                // Fall through to the kill.
            }
        }

        if (!graceful)
        {
            Kill(process);
            await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        }

        return graceful;
    }

    /// <summary>The tracked emulator with this process id, if this process started it.</summary>
    public static EmulatorInfo? Find(int processId) => Running.TryGetValue(processId, out EmulatorInfo? info) ? info : null;

    /// <summary>Kills every tracked emulator at once (process exit), or only those <paramref name="owner"/> started (module removal).</summary>
    public static void KillAll(Runspace? owner = null)
    {
        foreach (EmulatorInfo info in Running.Values)
        {
            if (owner is not null && Owners.TryGetValue(info.ProcessId, out Runspace? started) && !ReferenceEquals(started, owner))
            {
                continue;
            }

            Running.TryRemove(info.ProcessId, out _);
            Owners.TryRemove(info.ProcessId, out _);
            if (info.Process is { } p)
            {
                Kill(p);
            }
        }
    }

    private static void Track(EmulatorInfo info, Runspace? owner)
    {
        Running[info.ProcessId] = info;
        if (Interlocked.Exchange(ref _exitHookInstalled, 1) == 0)
        {
            AppDomain.CurrentDomain.ProcessExit += (_, _) => KillAll();
        }

        if (owner is not null)
        {
            Owners[info.ProcessId] = owner;
            void OnStateChanged(object? sender, RunspaceStateEventArgs e)
            {
                if (e.RunspaceStateInfo.State is RunspaceState.Closing or RunspaceState.Closed or RunspaceState.Broken)
                {
                    owner.StateChanged -= OnStateChanged;
                    if (Running.TryRemove(info.ProcessId, out _) && info.Process is { } p)
                    {
                        Kill(p);
                    }
                }
            }

            owner.StateChanged += OnStateChanged;
        }

        if (info.Process is { } process)
        {
            process.Exited += (_, _) =>
            {
                Running.TryRemove(info.ProcessId, out _);
                Owners.TryRemove(info.ProcessId, out _);
            };
        }
    }

    private static EmulatorInfo Parse(string line, EmulatorStartOptions options, Process process)
    {
        JsonObject json = JsonNode.Parse(line) as JsonObject ?? throw new FormatException("not a JSON object");
        string hostName = (string?)json["hostName"] ?? "localhost";
        int httpsPort = (int?)json["httpsPort"] ?? throw new FormatException("no httpsPort");
        int? mqttPort = (int?)json["mqttPort"];
        string hubName = (string?)json["hubName"] ?? options.HubName ?? "twinps-emulator";
        string service = (string?)json["serviceConnectionString"] ?? throw new FormatException("no serviceConnectionString");
        string ca = (string?)json["caCertificatePath"] ?? throw new FormatException("no caCertificatePath");
        var policies = new Dictionary<string, SecureString>(StringComparer.OrdinalIgnoreCase);
        if (json["policies"] is JsonObject policyJson)
        {
            foreach (KeyValuePair<string, JsonNode?> policy in policyJson)
            {
                if ((string?)policy.Value is { } connectionString)
                {
                    policies[policy.Key] = ToSecureString(connectionString);
                }
            }
        }

        return new EmulatorInfo(
            hostName, httpsPort, mqttPort, hubName, ToSecureString(service), policies, ca,
            (string?)json["dataPath"], (int?)json["processId"] ?? process.Id, process)
        {
            Throttle = EmulatorThrottleInfo.FromJson(json["throttle"]),
            Faults = EmulatorFaultInfo.FromJson(json["faults"]),
        };
    }

    private static SecureString ToSecureString(string value)
    {
        var secure = new SecureString();
        foreach (char c in value)
        {
            secure.AppendChar(c);
        }

        secure.MakeReadOnly();
        return secure;
    }

    // The host that runs framework-dependent .NET apps: this process when it is 'dotnet' (e.g. 'dotnet pwsh'),
    // else the dotnet beside the running shared runtime, else DOTNET_ROOT, else 'dotnet' on the PATH.
    private static string FindDotnetHost()
    {
        string exe = OperatingSystem.IsWindows() ? "dotnet.exe" : "dotnet";
        string? self = Environment.ProcessPath;
        if (self is not null && string.Equals(Path.GetFileName(self), exe, StringComparison.OrdinalIgnoreCase))
        {
            return self;
        }

        string runtimeDir = RuntimeEnvironment.GetRuntimeDirectory();
        string fromRuntime = Path.GetFullPath(Path.Combine(runtimeDir, "..", "..", "..", exe));
        if (File.Exists(fromRuntime))
        {
            return fromRuntime;
        }

        string? root = Environment.GetEnvironmentVariable("DOTNET_ROOT");
        if (!string.IsNullOrEmpty(root) && File.Exists(Path.Combine(root, exe)))
        {
            return Path.Combine(root, exe);
        }

        return exe;
    }

    private static bool HasExited(Process process)
    {
        try
        {
            return process.HasExited;
        }
        catch (InvalidOperationException)
        {
            return true;
        }
    }

    private static void Kill(Process process)
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
        catch (Exception ex) when (ex is InvalidOperationException or System.ComponentModel.Win32Exception or NotSupportedException)
        {
            // Already gone.
        }
    }

    private static string SafeExitCode(Process process)
    {
        try
        {
            return process.ExitCode.ToString(CultureInfo.InvariantCulture);
        }
        catch (InvalidOperationException)
        {
            return "?";
        }
    }

    private static string StderrTail(ConcurrentQueue<string> stderr) =>
        stderr.IsEmpty ? string.Empty : Environment.NewLine + "Emulator stderr:" + Environment.NewLine + string.Join(Environment.NewLine, stderr);

    private static class NativeMethods
    {
        public const int SIGTERM = 15;

        [DllImport("libc", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
#pragma warning disable SYSLIB1054 // LibraryImport would need AllowUnsafeBlocks for one trivial call.
        public static extern int kill(int pid, int sig);
#pragma warning restore SYSLIB1054
    }
}
