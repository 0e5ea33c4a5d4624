using System.Diagnostics;
using System.Globalization;
using System.Net.Security;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using TwinPS.Protocol;

namespace TwinPS.Benchmarks;

/// <summary>
/// Emulator benchmark (not a test): twin GET and durable PATCH throughput over HTTPS with 16 concurrent keep-alive
/// connections, first-page query latency over 100,000 twins, and the emulator's peak memory. Writes the
/// "Emulator" section of docs/benchmarks.md.
/// Usage: dotnet run -c Release --project tests/TwinPS.Benchmarks [-- --duration 10 --twins 100000 --output PATH --emulator DLL]
/// </summary>
internal static class Program
{
    private const int Connections = 16;

    public static async Task<int> Main(string[] args)
    {
        // The device-side benchmark (DeviceBenchmark.cs) runs with a leading 'device' argument.
        if (args is ["device", ..]) return await DeviceBenchmark.RunAsync(args[1..]);
        // Raw HttpClient baselines for the cmdlet benchmark (CmdletRawBaseline.cs, driven by tools/Bench-Cmdlets.ps1).
        if (args is ["cmdlet-raw", ..]) return await CmdletRawBaseline.RunAsync(args[1..]);

        int duration = 10, twins = 100_000;
        bool inMemory = false;
        string output = Path.Combine(Metadata("RepositoryRoot"), "docs", "benchmarks.md");
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--duration": duration = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--twins": twins = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--output": output = args[++i]; break;
                case "--in-memory": inMemory = true; break; // diagnostic: separates the cost of durability
                case "--emulator": Emulator.DllPath = Path.GetFullPath(args[++i]); break;
                case "--module":
                    i++;
                    Console.Error.WriteLine("Note: --module is not used by the emulator benchmark.");
                    break;
                case "--twins-only-throughput": twins = 0; break;
                default:
                    Console.Error.WriteLine($"Unknown option '{args[i]}'. Options: --duration SECONDS --twins N --output PATH --emulator DLL --in-memory --twins-only-throughput");
                    return 2;
            }
        }

        string data = Path.Combine(Path.GetTempPath(), "twinps-bench-" + Guid.NewGuid().ToString("N"));
        using var emulator = Emulator.Start(inMemory ? null : data);
        try
        {
            var results = new List<(string Name, string Value, string Goal, bool? Met)>();
            using var clients = new ClientSet(emulator, Connections);

            // Devices for the throughput runs: one per connection.
            string[] ids = Enumerable.Range(0, Connections).Select(i => $"bench-{i:D2}").ToArray();
            foreach (string id in ids) await clients[0].SendAsync(HttpMethod.Put, "devices/" + id, "{}");

            Console.Error.WriteLine($"GET /twins for {duration} s with {Connections} connections…");
            var (getRate, getCpu) = await Throughput(clients, emulator.ProcessId, duration, (c, worker, n) => c.SendAsync(HttpMethod.Get, "twins/" + ids[worker], null));
            results.Add(("Twin GET throughput (16 keep-alive HTTPS connections)", $"{getRate:N0} requests/s", "≥ 10,000/s", getRate >= 10_000));
            results.Add(("Emulator CPU time per twin GET (user + system, all threads)", $"{getCpu:N0} µs", "—", null));

            Console.Error.WriteLine($"PATCH /twins (durable) for {duration} s with {Connections} connections…");
            long transactionsBefore = await clients[0].StoreTransactionsAsync();
            var (patchRate, patchCpu) = await Throughput(clients, emulator.ProcessId, duration, (c, worker, n) =>
                c.SendAsync(HttpMethod.Patch, "twins/" + ids[worker], $"{{\"properties\":{{\"desired\":{{\"n\":{n}}}}}}}"));
            results.Add(("Twin PATCH throughput, durable (committed to SQLite before the answer)", $"{patchRate:N0} requests/s", "≥ 3,000/s", patchRate >= 3_000));
            results.Add(("Emulator CPU time per durable twin PATCH", $"{patchCpu:N0} µs", "—", null));
            long transactions = await clients[0].StoreTransactionsAsync() - transactionsBefore;
            results.Add(("SQLite transactions (fsyncs) during the PATCH run, incl. warm-up: group commit", $"{transactions:N0} ({patchRate * (duration + 2) / Math.Max(1, transactions):N1} writes per transaction)", "—", null));

            if (twins == 0)
            {
                Console.WriteLine(Render(results, duration, twins));
                return 0;
            }

            Console.Error.WriteLine($"Creating {twins:N0} twins with bulk POST /devices…");
            var create = Stopwatch.StartNew();
            await CreateTwins(clients, twins);
            create.Stop();
            results.Add(($"Bulk create of {twins:N0} devices with tags (100 per request, 16 concurrent)", $"{create.Elapsed.TotalSeconds:N1} s ({twins / create.Elapsed.TotalSeconds:N0} devices/s)", "—", null));

            string dense = "SELECT * FROM devices WHERE tags.plant = 'plant-3'";
            string sparse = $"SELECT * FROM devices WHERE tags.serial = 'S-{twins - 7}'";
            double denseMs = await QueryLatency(clients[0], dense, 20);
            double sparseMs = await QueryLatency(clients[0], sparse, 5);
            results.Add(($"Query first page (100 twins), equality filter matching 10% of {twins:N0}: `{dense}`", $"{denseMs:N1} ms (median of 20)", "≤ 100 ms", denseMs <= 100));
            results.Add(($"Query first page, equality filter matching 1 of {twins:N0} (full scan): `{sparse}`", $"{sparseMs:N1} ms (median of 5)", "—", null));

            long hwmKb = PeakMemoryKb(emulator.ProcessId);
            results.Add(("Emulator peak memory (VmHWM) after all of the above", $"{hwmKb / 1024.0:N0} MB", "≤ 1 GB", hwmKb <= 1024 * 1024));

            string section = Render(results, duration, twins);
            Console.WriteLine(section);
            WriteSection(output, section);
            Console.Error.WriteLine("Results written to " + output);
            return 0;
        }
        finally
        {
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

    /// <summary>Requests per second, and the emulator's CPU time per request in microseconds.</summary>
    private static async Task<(double Rate, double CpuMicroseconds)> Throughput(ClientSet clients, int pid, int seconds, Func<BenchClient, int, int, Task<int>> request)
    {
        // Warm-up.
        using (var warm = new CancellationTokenSource(TimeSpan.FromSeconds(2)))
            await Run(warm.Token);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(seconds));
        double cpuBefore = CpuSeconds(pid);
        var sw = Stopwatch.StartNew();
        long count = await Run(cts.Token);
        double elapsed = sw.Elapsed.TotalSeconds;
        double cpu = CpuSeconds(pid) - cpuBefore;
        return (count / elapsed, cpu / Math.Max(1, count) * 1e6);

        async Task<long> Run(CancellationToken token)
        {
            long total = 0;
            await Task.WhenAll(Enumerable.Range(0, clients.Count).Select(async worker =>
            {
                int n = 0;
                while (!token.IsCancellationRequested)
                {
                    int status = await request(clients[worker], worker, n++);
                    if (status != 200) throw new InvalidOperationException($"Unexpected HTTP {status}");
                    Interlocked.Increment(ref total);
                }
            }));
            return total;
        }
    }

    private static async Task CreateTwins(ClientSet clients, int twins)
    {
        int next = 0;
        await Task.WhenAll(Enumerable.Range(0, clients.Count).Select(async worker =>
        {
            int start;
            while ((start = Interlocked.Add(ref next, 100) - 100) < twins)
            {
                var sb = new StringBuilder("[");
                for (int i = start; i < Math.Min(twins, start + 100); i++)
                {
                    if (i > start) sb.Append(',');
                    sb.Append(CultureInfo.InvariantCulture, $"{{\"id\":\"twin-{i:D6}\",\"importMode\":\"create\",\"tags\":{{\"plant\":\"plant-{i % 10}\",\"serial\":\"S-{i}\",\"floor\":{i % 7}}},\"properties\":{{\"desired\":{{\"interval\":{i % 60}}}}}}}");
                }

                sb.Append(']');
                int status = await clients[worker].SendAsync(HttpMethod.Post, "devices", sb.ToString());
                if (status != 200) throw new InvalidOperationException($"bulk create answered {status}");
            }
        }));
    }

    private static async Task<double> QueryLatency(BenchClient client, string sql, int runs)
    {
        string body = new JsonObject { ["query"] = sql }.ToJsonString();
        await client.SendAsync(HttpMethod.Post, "devices/query", body); // warm-up
        var times = new List<double>();
        for (int i = 0; i < runs; i++)
        {
            var sw = Stopwatch.StartNew();
            int status = await client.SendAsync(HttpMethod.Post, "devices/query", body);
            times.Add(sw.Elapsed.TotalMilliseconds);
            if (status != 200) throw new InvalidOperationException($"query answered {status}");
        }

        times.Sort();
        return times[times.Count / 2];
    }

    /// <summary>utime + stime of a process from /proc/PID/stat, in seconds.</summary>
    private static double CpuSeconds(int pid)
    {
        string stat = File.ReadAllText($"/proc/{pid}/stat");
        string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        long ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        return ticks / 100.0; // USER_HZ is 100 on Linux
    }

    private static long PeakMemoryKb(int pid)
    {
        foreach (string line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                return long.Parse(line[6..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
        }

        return -1;
    }

    private static string Render(List<(string Name, string Value, string Goal, bool? Met)> results, int duration, int twins)
    {
        string cpu = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown";
        string mem = File.ReadLines("/proc/meminfo").FirstOrDefault(l => l.StartsWith("MemTotal", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown";
        string load = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : "unknown";
        var sb = new StringBuilder();
        sb.AppendLine("## Emulator");
        sb.AppendLine();
        sb.AppendLine(string.Create(CultureInfo.InvariantCulture,
            $"Measured {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC by `dotnet run -c Release --project tests/TwinPS.Benchmarks` ({duration} s per throughput run after a 2 s warm-up; {twins:N0} twins for the query run). ") +
            "The emulator ran as its own process on a fresh temporary data folder (durable: SQLite WAL, synchronous=FULL, group commit); " +
            "the load generator ran on the same machine, 16 HttpClient instances with one keep-alive HTTPS connection each, trusting only the emulator's CA.");
        sb.AppendLine();
        sb.AppendLine("| Machine | |");
        sb.AppendLine("|---|---|");
        sb.AppendLine(CultureInfo.InvariantCulture, $"| CPUs (nproc) | {Environment.ProcessorCount} |");
        sb.AppendLine(CultureInfo.InvariantCulture, $"| CPU model | {cpu} |");
        sb.AppendLine(CultureInfo.InvariantCulture, $"| Memory | {mem} |");
        sb.AppendLine(CultureInfo.InvariantCulture, $"| .NET | {RuntimeInformation.FrameworkDescription} on {RuntimeInformation.OSDescription} |");
        sb.AppendLine(CultureInfo.InvariantCulture, $"| Load average at the end (1/5/15 min, runnable/total) | {load} |");
        sb.AppendLine();
        sb.AppendLine("| Measurement | Result | Goal | Met |");
        sb.AppendLine("|---|---|---|---|");
        foreach (var (name, value, goal, met) in results)
            sb.AppendLine(CultureInfo.InvariantCulture, $"| {name} | {value} | {goal} | {(met is null ? "—" : met.Value ? "yes" : "**no**")} |");
        sb.AppendLine();
        sb.AppendLine("How to read these numbers:");
        sb.AppendLine();
        sb.AppendLine("- The load generator shares the CPUs with the emulator, so the emulator gets at most part of them; the CPU time per request " +
            "(the emulator's own user + system time divided by the requests served) is the steadier figure: 2 dedicated cores can serve at most about " +
            "2,000,000 µs/s divided by it.");
        sb.AppendLine("- A durable PATCH is acknowledged only after its group-commit transaction is on disk (one fsync of the SQLite WAL per transaction). " +
            "With 16 clients each waiting for its own answer, at most 16 writes share a transaction, so durable throughput is bounded by " +
            "16 ÷ the disk's fsync latency; the writes-per-transaction figure shows how well the batching worked.");
        sb.AppendLine("- Queries have no secondary indexes: the first page of a filter that matches many twins stops early, but a filter that matches " +
            "few twins evaluates every twin (the full-scan row), in deviceId order.");
        sb.AppendLine("- The load average above shows whether other work shared the machine; results on a shared machine vary from run to run.");
        return sb.ToString();
    }

    private static void WriteSection(string path, string section)
    {
        const string start = "<!-- emulator-benchmark:start -->", end = "<!-- emulator-benchmark:end -->";
        string block = start + "\n" + section + end + "\n";
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        string text = File.Exists(path) ? File.ReadAllText(path) : "# Benchmarks\n\nBenchmarks are not tests: they measure and record. Each section is rewritten by its benchmark.\n\n";
        int a = text.IndexOf(start, StringComparison.Ordinal), b = text.IndexOf(end, StringComparison.Ordinal);
        text = a >= 0 && b > a ? text[..a] + block + text[(b + end.Length)..].TrimStart('\n') : text.TrimEnd('\n') + "\n\n" + block;
        File.WriteAllText(path, text);
    }

    internal static string Metadata(string key) =>
        typeof(Program).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value!;
}

/// <summary>The emulator child process.</summary>
internal sealed class Emulator : IDisposable
{
    private readonly Process _process;

    private Emulator(Process process, JsonObject ready)
    {
        _process = process;
        Ready = ready;
    }

    public JsonObject Ready { get; }

    public int ProcessId => _process.Id;

    /// <summary>The emulator to run: the built one next to this project unless --emulator says otherwise.</summary>
    public static string DllPath { get; set; } = Path.GetFullPath(Program.Metadata("EmulatorDll"));

    public static Emulator Start(string? dataFolder)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = false, UseShellExecute = false };
        info.ArgumentList.Add(DllPath);
        string[] arguments = dataFolder is null
            ? ["--https-port", "0", "--mqtt-port", "0", "--in-memory"]
            : ["--https-port", "0", "--mqtt-port", "0", "--data", dataFolder];
        foreach (string a in arguments) info.ArgumentList.Add(a);
        Process process = Process.Start(info)!;
        string? line = process.StandardOutput.ReadLine();
        if (line is null) throw new InvalidOperationException("The emulator did not start.");
        return new Emulator(process, (JsonObject)JsonNode.Parse(line)!);
    }

    public void Stop()
    {
        if (_process.HasExited) return;
        using (Process kill = Process.Start("kill", ["-TERM", _process.Id.ToString(CultureInfo.InvariantCulture)])!) kill.WaitForExit();
        if (!_process.WaitForExit(30_000)) _process.Kill(entireProcessTree: true);
    }

    public void Dispose()
    {
        Stop();
        _process.Dispose();
    }
}

/// <summary>One HttpClient with one keep-alive connection, trusting only the emulator's CA.</summary>
internal sealed class BenchClient : IDisposable
{
    private readonly HttpClient _http;
    private readonly string _token;

    public BenchClient(Emulator emulator, X509Certificate2 ca)
    {
        var cs = IoTHubConnectionString.Parse((string)emulator.Ready["serviceConnectionString"]!);
        _token = SharedAccessSignature.Build(cs.HostName, cs.SharedAccessKey!, cs.SharedAccessKeyName, DateTimeOffset.UtcNow.AddHours(2));
        var handler = new SocketsHttpHandler
        {
            MaxConnectionsPerServer = 1,
            SslOptions = new SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = (_, cert, _, errors) =>
                {
                    if (cert is null || (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) != 0) return false;
                    using var chain = new X509Chain();
                    chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                    chain.ChainPolicy.CustomTrustStore.Add(ca);
                    chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                    using var leaf = new X509Certificate2(cert);
                    return chain.Build(leaf);
                },
            },
        };
        _http = new HttpClient(handler) { BaseAddress = new Uri($"https://localhost:{(int)emulator.Ready["httpsPort"]!}/"), Timeout = TimeSpan.FromMinutes(2) };
    }

    public async Task<int> SendAsync(HttpMethod method, string path, string? body)
    {
        using var request = new HttpRequestMessage(method, path + "?api-version=2021-04-12");
        request.Headers.TryAddWithoutValidation("Authorization", _token);
        if (body is not null) request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        using HttpResponseMessage response = await _http.SendAsync(request);
        await response.Content.ReadAsByteArrayAsync();
        return (int)response.StatusCode;
    }

    /// <summary>The emulator's committed transaction count (test-support endpoint).</summary>
    public async Task<long> StoreTransactionsAsync()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "$twinps/stats?api-version=2021-04-12");
        request.Headers.TryAddWithoutValidation("Authorization", _token);
        using HttpResponseMessage response = await _http.SendAsync(request);
        var json = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        return (long)json["storeTransactions"]!;
    }

    public void Dispose() => _http.Dispose();
}

/// <summary>N clients.</summary>
internal sealed class ClientSet : IDisposable
{
    private readonly X509Certificate2 _ca;
    private readonly BenchClient[] _clients;

    public ClientSet(Emulator emulator, int count)
    {
        _ca = X509Certificate2.CreateFromPem(File.ReadAllText((string)emulator.Ready["caCertificatePath"]!));
        _clients = Enumerable.Range(0, count).Select(_ => new BenchClient(emulator, _ca)).ToArray();
    }

    public int Count => _clients.Length;

    public BenchClient this[int index] => _clients[index];

    public void Dispose()
    {
        foreach (BenchClient c in _clients) c.Dispose();
        _ca.Dispose();
    }
}
