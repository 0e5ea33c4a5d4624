using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using TwinPS.Client;
using TwinPS.Client.Device;
using TwinPS.Protocol;

namespace TwinPS.Benchmarks;

/// <summary>
/// Device-side benchmark (not a test): latency from a back-end desired PATCH (HTTPS) to the device's receipt over MQTT,
/// and how many devices one emulator holds connected at once, each receiving a desired patch. Every arrival is matched
/// to the patch that was sent by its desired $version (the PATCH answer carries it); failed PATCHes and patches that
/// never arrived are counted, and percentiles are over all attempts, misses included. Writes the "Device side" section
/// of docs/benchmarks.md.
/// Usage: dotnet run -c Release --project tests/TwinPS.Benchmarks -- device [--patches 300] [--devices 1000] [--output PATH] [--emulator DLL]
/// </summary>
internal static class DeviceBenchmark
{
    private const string Marker = "device-benchmark";
    private static readonly TimeSpan ArrivalWait = TimeSpan.FromSeconds(10);

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
        var results = new List<BenchRow>();
        var notes = new List<string>();
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

            // Every arrival of every device: (desired $version, timestamp).
            var arrivals = new ConcurrentDictionary<string, BlockingCollection<(long Version, long Ticks)>>(StringComparer.Ordinal);
            void Listen(IoTHubDeviceClient client)
            {
                var queue = arrivals.GetOrAdd(client.DeviceId, _ => []);
                client.DesiredPropertiesReceived += (_, e) => queue.Add((e.Version, Stopwatch.GetTimestamp()));
            }

            // 1. Latency, one device: PATCH sent -> the patch with the $version the PATCH answered, on the device.
            Console.Error.WriteLine($"Latency: {patches} desired PATCHes to one connected device…");
            string load = BenchDoc.LoadAverage();
            var single = NewClient(ids[0]);
            clients.Add(single);
            Listen(single);
            await single.OpenAsync();
            var singleArrivals = arrivals[ids[0]];
            var warm = new Tally();
            for (int i = 0; i < 20; i++) warm.Add(await SendAndMatch(rest[0], ids[0], i, singleArrivals));
            var tally = new Tally();
            for (int i = 0; i < patches; i++) tally.Add(await SendAndMatch(rest[0], ids[0], 1000 + i, singleArrivals));
            results.Add(new($"Desired PATCH (HTTPS) → the device receives that patch (MQTT, matched by $version), one device, {patches} sequential patches after 20 warm-up: p50 / p99 / max over all {patches} attempts", $"{tally.Percentiles()} ms", "—", null, load));
            results.Add(new("… attempts: arrived / PATCH failed / never arrived (within 10 s) / earlier patches skipped", tally.Counts(), "all arrive", tally.Arrived == patches, load));

            // 2. Many devices connected at once, each receiving one desired patch.
            Console.Error.WriteLine($"Connecting {devices} devices…");
            load = BenchDoc.LoadAverage();
            var connect = Stopwatch.StartNew();
            using var gate = new SemaphoreSlim(32);
            var many = new IoTHubDeviceClient[devices - 1];
            int connectFailures = 0;
            await Task.WhenAll(Enumerable.Range(1, devices - 1).Select(async i =>
            {
                await gate.WaitAsync();
                try
                {
                    var client = NewClient(ids[i]);
                    Listen(client);
                    many[i - 1] = client;
                    await client.OpenAsync();
                }
                catch (IoTHubServiceException)
                {
                    Interlocked.Increment(ref connectFailures);
                }
                finally
                {
                    gate.Release();
                }
            }));
            clients.AddRange(many.Where(c => c is not null));
            connect.Stop();
            int connected = clients.Count(c => c.Status == DeviceConnectionStatus.Connected);
            long connectedKb = ResidentKb(emulator.ProcessId);
            results.Add(new("Devices connected at once (MQTT/TLS, SAS, each subscribed and twin read)", $"{connected:N0} of {devices:N0} in {connect.Elapsed.TotalSeconds:N1} s (32 connecting at a time; {connectFailures:N0} connects failed)", "1,000", connected >= 1000, load));
            results.Add(new("Emulator memory (VmRSS) idle → with all devices connected", $"{baselineKb / 1024.0:N0} MB → {connectedKb / 1024.0:N0} MB ({(connectedKb - baselineKb) / Math.Max(1.0, connected):N0} KB per device)", "—", null, load));

            Console.Error.WriteLine($"One desired PATCH to each of {devices} devices…");
            load = BenchDoc.LoadAverage();
            var sent = new ConcurrentDictionary<string, long>(StringComparer.Ordinal);
            var expected = new ConcurrentDictionary<string, long>(StringComparer.Ordinal);
            int patchFailures = 0;
            var fanOut = Stopwatch.StartNew();
            int next = -1;
            await Task.WhenAll(Enumerable.Range(0, rest.Count).Select(async worker =>
            {
                for (int i = Interlocked.Increment(ref next); i < devices; i = Interlocked.Increment(ref next))
                {
                    sent[ids[i]] = Stopwatch.GetTimestamp();
                    var (status, version) = await rest[worker].PatchDesiredAsync(ids[i], "{\"properties\":{\"desired\":{\"fanOut\":1}}}");
                    if (status is >= 200 and < 300 && version is not null) expected[ids[i]] = version.Value;
                    else Interlocked.Increment(ref patchFailures);
                }
            }));
            long? Matched(string id)
            {
                if (!expected.TryGetValue(id, out long version) || !arrivals.TryGetValue(id, out var queue)) return null;
                foreach (var (v, ticks) in queue.ToArray()) if (v == version) return ticks;
                return null;
            }

            var until = DateTime.UtcNow.AddSeconds(30);
            while (expected.Keys.Any(id => Matched(id) is null) && DateTime.UtcNow < until) await Task.Delay(50);
            fanOut.Stop();
            var perDevice = ids.Select(id => Matched(id) is long ticks ? Stopwatch.GetElapsedTime(sent[id], ticks).TotalMilliseconds : (double?)null).ToList();
            int arrived = perDevice.Count(ms => ms is not null);
            int withinOneSecond = perDevice.Count(ms => ms <= 1000);
            results.Add(new($"Desired PATCH to each of {devices:N0} devices (16 HTTPS connections): received within 1 s of its PATCH (matched by $version)", $"{withinOneSecond:N0} of {devices:N0} (PATCH failed: {patchFailures:N0}; never arrived within 30 s: {devices - patchFailures - arrived:N0}; all sent and matched in {fanOut.Elapsed.TotalSeconds:N1} s)", "all", withinOneSecond == devices, load));
            results.Add(new($"… per-device latency p50 / p99 / max over all {devices:N0} devices (a failed or lost patch counts as a miss)", $"{BenchDoc.Percentile(perDevice, 50)} / {BenchDoc.Percentile(perDevice, 99)} / {BenchDoc.Percentile(perDevice, 100)} ms", "≤ 1,000 ms", perDevice.All(ms => ms <= 1000), load));

            results.Add(new("Emulator peak memory (VmHWM)", $"{PeakKb(emulator.ProcessId) / 1024.0:N0} MB", "—", null, BenchDoc.LoadAverage()));

            notes.Add($"One device: {tally.Arrived:N0} of {patches:N0} patches arrived with the $version their PATCH answered; the median was {BenchDoc.Percentile(tally.Attempts, 50)} ms and the slowest {BenchDoc.Percentile(tally.Attempts, 100)} ms ({BenchDoc.Describe(results[0].Load)}).");
            notes.Add($"Fan-out: {arrived:N0} of {devices:N0} devices received their patch; p99 {BenchDoc.Percentile(perDevice, 99)} ms against the 1,000 ms goal ({BenchDoc.Describe(results[^2].Load)}).");
            string section = Render(results, notes, patches, devices);
            Console.WriteLine(section);
            BenchDoc.WriteSection(output, Marker, section);
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

    /// <summary>One attempt: the PATCH, then the arrival whose $version is the one the PATCH answered (earlier ones are skipped).</summary>
    private static async Task<Attempt> SendAndMatch(BenchClient rest, string id, int n, BlockingCollection<(long Version, long Ticks)> arrivals)
    {
        long started = Stopwatch.GetTimestamp();
        var (status, version) = await rest.PatchDesiredAsync(id, $"{{\"properties\":{{\"desired\":{{\"n\":{n}}}}}}}");
        if (status is < 200 or >= 300 || version is null) return new(null, Failed: true, Skipped: 0);
        int skipped = 0;
        var deadline = Stopwatch.GetTimestamp() + (long)(ArrivalWait.TotalSeconds * Stopwatch.Frequency);
        while (true)
        {
            var left = TimeSpan.FromSeconds(Math.Max(0, (deadline - Stopwatch.GetTimestamp()) / (double)Stopwatch.Frequency));
            if (!arrivals.TryTake(out var arrival, left)) return new(null, Failed: false, skipped);
            if (arrival.Version == version) return new(Stopwatch.GetElapsedTime(started, arrival.Ticks).TotalMilliseconds, Failed: false, skipped);
            skipped++; // an earlier patch (or the warm-up's), not this one
        }
    }

    private sealed record Attempt(double? Milliseconds, bool Failed, int Skipped);

    private sealed class Tally
    {
        private readonly List<double?> _attempts = [];
        private int _failed, _skipped;

        public IReadOnlyList<double?> Attempts => _attempts;

        public int Arrived => _attempts.Count(a => a is not null);

        public void Add(Attempt a)
        {
            _attempts.Add(a.Milliseconds);
            if (a.Failed) _failed++;
            _skipped += a.Skipped;
        }

        public string Percentiles() => $"{BenchDoc.Percentile(_attempts, 50)} / {BenchDoc.Percentile(_attempts, 99)} / {BenchDoc.Percentile(_attempts, 100)}";

        public string Counts() => string.Create(CultureInfo.InvariantCulture, $"{Arrived:N0} / {_failed:N0} / {_attempts.Count - Arrived - _failed:N0} / {_skipped:N0}");
    }

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

    private static string Render(List<BenchRow> results, List<string> notes, int patches, int devices)
    {
        var sb = new StringBuilder();
        sb.AppendLine("## Device side");
        sb.AppendLine();
        sb.AppendLine(string.Create(CultureInfo.InvariantCulture,
            $"Measured {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC by `dotnet run -c Release --project tests/TwinPS.Benchmarks -- device --patches {patches} --devices {devices}`. ") +
            "The emulator ran as its own process on a fresh data folder (durable: every desired PATCH is committed to SQLite before the hub answers and notifies the device); " +
            "the back end (HTTPS, 16 keep-alive connections signed with iothubowner) and the devices (TwinPS's IoTHubDeviceClient on MQTTnet, MQTT 3.1.1 over TLS, QoS 0, trusting only the emulator's CA) " +
            "ran in one process on the same machine, so the figures include both ends' CPU on the same cores. Latency = from just before the back end sends the PATCH to the device's " +
            "DesiredPropertiesReceived event for the patch with the desired $version that PATCH answered.");
        sb.AppendLine();
        sb.AppendLine(CultureInfo.InvariantCulture, $"Machine: {BenchDoc.Machine()}.");
        sb.AppendLine();
        BenchDoc.AppendTable(sb, results);
        sb.AppendLine();
        foreach (string note in notes) sb.AppendLine("- " + note);
        return sb.ToString();
    }
}
