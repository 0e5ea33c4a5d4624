using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using TwinPS.Client.Device;
using TwinPS.Protocol;

namespace TwinPS.Benchmarks;

/// <summary>
/// Device-side benchmark (not a test): latency from a back-end desired PATCH (HTTPS) to the device's receipt over MQTT,
/// and how many devices one emulator holds connected at once, each receiving a desired patch. Writes the "Device side"
/// section of docs/benchmarks.md.
/// Usage: dotnet run -c Release --project tests/TwinPS.Benchmarks -- device [--patches 300] [--devices 1000] [--output PATH] [--emulator DLL]
/// </summary>
internal static class DeviceBenchmark
{
    private const string Start = "<!-- device-benchmark:start -->";
    private const string End = "<!-- device-benchmark:end -->";

    public static async Task<int> RunAsync(string[] args)
    {
        int patches = 300, devices = 1000;
        string output = Path.Combine(Program.Metadata("RepositoryRoot"), "docs", "benchmarks.md");
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--patches": patches = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--devices": devices = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--output": output = args[++i]; break;
                case "--emulator": Emulator.DllPath = Path.GetFullPath(args[++i]); break;
                case "--module": i++; break; // passed by build.ps1 Bench; not used here
                default:
                    Console.Error.WriteLine($"Unknown option '{args[i]}'. Options: --patches N --devices N --output PATH --emulator DLL");
                    return 2;
            }
        }

        string data = Path.Combine(Path.GetTempPath(), "twinps-devbench-" + Guid.NewGuid().ToString("N"));
        using var emulator = Emulator.Start(data);
        var results = new List<(string Name, string Value, string Goal, bool? Met)>();
        var clients = new List<IoTHubDeviceClient>();
        try
        {
            var ca = X509Certificate2.CreateFromPem(File.ReadAllText((string)emulator.Ready["caCertificatePath"]!));
            int mqttPort = (int)emulator.Ready["mqttPort"]!;
            var devicePolicy = IoTHubConnectionString.Parse((string)emulator.Ready["policies"]!["device"]!);
            using var rest = new ClientSet(emulator, 16);
            long baselineKb = ResidentKb(emulator.ProcessId);

            // Devices, created in bulk; they authenticate with the hub's 'device' policy (DeviceConnect), one key for all.
            string[] ids = Enumerable.Range(0, devices).Select(i => $"devbench-{i:D5}").ToArray();
            for (int i = 0; i < ids.Length; i += 100)
            {
                var batch = new JsonArray(ids.Skip(i).Take(100).Select(id => (JsonNode)new JsonObject { ["id"] = id, ["importMode"] = "create" }).ToArray());
                int status = await rest[0].SendAsync(HttpMethod.Post, "devices", batch.ToJsonString());
                if (status >= 300) throw new InvalidOperationException($"bulk create failed with {status}");
            }

            IoTHubDeviceClient NewClient(string id) => IoTHubDeviceClient.Create(
                $"HostName=localhost;DeviceId={id};SharedAccessKeyName=device;SharedAccessKey={devicePolicy.SharedAccessKey}",
                new IoTHubDeviceClientOptions { TrustedCACertificate = ca, MqttPort = mqttPort, ConnectTimeout = TimeSpan.FromSeconds(60), OperationTimeout = TimeSpan.FromSeconds(60) });

            // 1. Latency, one device: PATCH sent -> patch event on the device.
            Console.Error.WriteLine($"Latency: {patches} desired PATCHes to one connected device…");
            var single = NewClient(ids[0]);
            clients.Add(single);
            var arrivals = new BlockingCollection<(long Version, long Ticks)>();
            single.DesiredPropertiesReceived += (_, e) => arrivals.Add((e.Version, Stopwatch.GetTimestamp()));
            await single.OpenAsync();
            for (int i = 0; i < 20; i++) await SendAndWait(rest[0], ids[0], i, arrivals); // warm-up
            var latencies = new List<double>();
            for (int i = 0; i < patches; i++) latencies.Add(await SendAndWait(rest[0], ids[0], 1000 + i, arrivals));
            latencies.Sort();
            results.Add(($"Desired PATCH (HTTPS) → device receives the patch (MQTT), one device, {patches} sequential patches: p50", $"{Percentile(latencies, 50):N1} ms", "—", null));
            results.Add(("… p99", $"{Percentile(latencies, 99):N1} ms", "—", null));
            results.Add(("… max", $"{latencies[^1]:N1} ms", "—", null));

            // 2. Many devices connected at once, each receiving one desired patch.
            Console.Error.WriteLine($"Connecting {devices} devices…");
            var received = new ConcurrentDictionary<string, long>(StringComparer.Ordinal);
            var connect = Stopwatch.StartNew();
            using var gate = new SemaphoreSlim(32);
            var many = new IoTHubDeviceClient[devices - 1];
            await Task.WhenAll(Enumerable.Range(1, devices - 1).Select(async i =>
            {
                await gate.WaitAsync();
                try
                {
                    var client = NewClient(ids[i]);
                    client.DesiredPropertiesReceived += (_, e) => received.TryAdd(client.DeviceId, Stopwatch.GetTimestamp());
                    await client.OpenAsync();
                    many[i - 1] = client;
                }
                finally
                {
                    gate.Release();
                }
            }));
            clients.AddRange(many);
            connect.Stop();
            single.DesiredPropertiesReceived += (_, e) => received.TryAdd(single.DeviceId, Stopwatch.GetTimestamp());
            int connected = clients.Count(c => c.Status == DeviceConnectionStatus.Connected);
            long connectedKb = ResidentKb(emulator.ProcessId);
            results.Add(($"Devices connected at once (MQTT/TLS, SAS, each subscribed and twin read)", $"{connected:N0} in {connect.Elapsed.TotalSeconds:N1} s (32 connecting at a time)", "1,000", connected >= 1000));
            results.Add(("Emulator memory (VmRSS) idle → with all devices connected", $"{baselineKb / 1024.0:N0} MB → {connectedKb / 1024.0:N0} MB ({(connectedKb - baselineKb) / Math.Max(1.0, connected):N0} KB per device)", "—", null));

            Console.Error.WriteLine($"One desired PATCH to each of {devices} devices…");
            var sent = new ConcurrentDictionary<string, long>(StringComparer.Ordinal);
            var fanOut = Stopwatch.StartNew();
            int next = -1;
            await Task.WhenAll(Enumerable.Range(0, rest.Count).Select(async worker =>
            {
                for (int i = Interlocked.Increment(ref next); i < devices; i = Interlocked.Increment(ref next))
                {
                    sent[ids[i]] = Stopwatch.GetTimestamp();
                    await rest[worker].SendAsync(HttpMethod.Patch, "twins/" + ids[i], "{\"properties\":{\"desired\":{\"fanOut\":1}}}");
                }
            }));
            var until = DateTime.UtcNow.AddSeconds(30);
            while (received.Count < devices && DateTime.UtcNow < until) await Task.Delay(50);
            fanOut.Stop();
            var perDevice = ids.Where(received.ContainsKey).Select(id => Stopwatch.GetElapsedTime(sent[id], received[id]).TotalMilliseconds).OrderBy(x => x).ToList();
            int withinOneSecond = perDevice.Count(ms => ms <= 1000);
            results.Add(($"Desired PATCH to each of {devices:N0} connected devices (16 HTTPS connections): received within 1 s of its PATCH", $"{withinOneSecond:N0} of {devices:N0} (all PATCHes sent and received in {fanOut.Elapsed.TotalSeconds:N1} s)", "all", withinOneSecond == devices));
            if (perDevice.Count > 0)
            {
                results.Add(("… per-device latency p50 / p99 / max", $"{Percentile(perDevice, 50):N1} / {Percentile(perDevice, 99):N1} / {perDevice[^1]:N1} ms", "≤ 1,000 ms", perDevice[^1] <= 1000));
            }

            results.Add(("Emulator peak memory (VmHWM)", $"{PeakKb(emulator.ProcessId) / 1024.0:N0} MB", "—", null));

            string section = Render(results, patches, devices);
            Console.WriteLine(section);
            WriteSection(output, section);
            Console.Error.WriteLine("Results written to " + output);
            return 0;
        }
        finally
        {
            await Task.WhenAll(clients.Where(c => c is not null).Select(c => c.CloseAsync()));
            emulator.Stop();
            try
            {
                Directory.Delete(data, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    private static async Task<double> SendAndWait(BenchClient rest, string id, int n, BlockingCollection<(long Version, long Ticks)> arrivals)
    {
        long started = Stopwatch.GetTimestamp();
        int status = await rest.SendAsync(HttpMethod.Patch, "twins/" + id, $"{{\"properties\":{{\"desired\":{{\"n\":{n}}}}}}}");
        if (status >= 300) throw new InvalidOperationException($"PATCH failed with {status}");
        if (!arrivals.TryTake(out var arrival, TimeSpan.FromSeconds(10))) throw new TimeoutException("no desired patch within 10 s");
        return Stopwatch.GetElapsedTime(started, arrival.Ticks).TotalMilliseconds;
    }

    private static double Percentile(List<double> sorted, int p) =>
        sorted[Math.Clamp((int)Math.Ceiling(p / 100.0 * sorted.Count) - 1, 0, sorted.Count - 1)];

    private static long ResidentKb(int pid) => Status(pid, "VmRSS:");

    private static long PeakKb(int pid) => Status(pid, "VmHWM:");

    private static long Status(int pid, string field)
    {
        foreach (string line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith(field, StringComparison.Ordinal))
                return long.Parse(line[field.Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
        }

        return -1;
    }

    private static string Render(List<(string Name, string Value, string Goal, bool? Met)> results, int patches, int devices)
    {
        string cpu = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown";
        string load = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : "unknown";
        var sb = new StringBuilder();
        sb.AppendLine("## Device side");
        sb.AppendLine();
        sb.AppendLine(string.Create(CultureInfo.InvariantCulture,
            $"Measured {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC by `dotnet run -c Release --project tests/TwinPS.Benchmarks -- device --patches {patches} --devices {devices}`. ") +
            "The emulator ran as its own process (durable data folder); the back end (HTTPS, 16 keep-alive connections signed with iothubowner) and the devices " +
            "(TwinPS's IoTHubDeviceClient on MQTTnet, MQTT 3.1.1 over TLS, QoS 0, trusting only the emulator's CA) ran in one process on the same machine, " +
            "so the figures include both ends' CPU on the same cores. Latency = from just before the back end sends the PATCH to the device's DesiredPropertiesReceived event.");
        sb.AppendLine();
        sb.AppendLine(CultureInfo.InvariantCulture, $"Machine: {Environment.ProcessorCount} CPUs ({cpu}), {RuntimeInformation.FrameworkDescription} on {RuntimeInformation.OSDescription}; load average at the end {load}.");
        sb.AppendLine();
        sb.AppendLine("| Measurement | Result | Goal | Met |");
        sb.AppendLine("|---|---|---|---|");
        foreach (var (name, value, goal, met) in results)
            sb.AppendLine(CultureInfo.InvariantCulture, $"| {name} | {value} | {goal} | {(met is null ? "—" : met.Value ? "yes" : "**no**")} |");
        return sb.ToString();
    }

    private static void WriteSection(string path, string section)
    {
        string block = Start + "\n" + section + End + "\n";
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        string text = File.Exists(path) ? File.ReadAllText(path) : "# Benchmarks\n\nBenchmarks are not tests: they measure and record. Each section is rewritten by its benchmark.\n\n";
        int a = text.IndexOf(Start, StringComparison.Ordinal), b = text.IndexOf(End, StringComparison.Ordinal);
        text = a >= 0 && b > a ? text[..a] + block + text[(b + End.Length)..].TrimStart('\n') : text.TrimEnd('\n') + "\n\n" + block;
        File.WriteAllText(path, text);
    }
}
