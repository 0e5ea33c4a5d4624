using System.Diagnostics;
using System.Globalization;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using TwinPS.Protocol;

namespace TwinPS.Benchmarks;

/// <summary>
/// Raw HttpClient baselines and bulk set-up for the cmdlet benchmark (tools/Bench-Cmdlets.ps1), against an emulator
/// the script started. Prints one JSON result line on stdout.
/// Usage: TwinPS.Benchmarks cmdlet-raw (bulk|get|client-get|patch) --ready READY.json [--prefix P] [--from F] [--count N] [--concurrency C] [--device D] [--warmup W]
/// --warmup W is the size of one warm-up pass (calls, or PATCHes); passes repeat until the JIT has settled and for at
/// least --warmup-seconds S (JitWarmUp).
/// 'client-get' is the breakdown row: the same sequential GETs through TwinPS.Client's IoTHubServiceClient (its Azure.Core
/// pipeline and twin parsing, no PowerShell), trusting the emulator's CA the way Connect-IoTHub does.
/// </summary>
internal static class CmdletRawBaseline
{
    /// <summary>Timed passes of a 'patch' run (the median is reported; tools/Bench-Cmdlets.ps1 times the cmdlets alike).</summary>
    private const int TimedPasses = 3;

    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Length == 0) return Usage();
        string op = args[0], prefix = "dev-", device = "";
        string? readyPath = null;
        int count = 1000, concurrency = 16, warmup = 200, from = 0;
        for (int i = 1; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--ready": readyPath = args[++i]; break;
                case "--prefix": prefix = args[++i]; break;
                case "--device": device = args[++i]; break;
                case "--count": count = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--from": from = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--concurrency": concurrency = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--warmup": warmup = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--warmup-seconds": JitWarmUp.MinimumSeconds = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                default: return Usage();
            }
        }

        if (readyPath is null) return Usage();
        var ready = (JsonObject)JsonNode.Parse(File.ReadAllText(readyPath))!;
        if (op == "client-get")
        {
            Console.WriteLine((await ClientGet(ready, device, count, warmup)).ToJsonString());
            return 0;
        }

        using var client = new RawHubClient(ready);
        JsonObject result = op switch
        {
            "bulk" => await BulkCreate(client, prefix, from, count, concurrency),
            "get" => await SequentialGet(client, device, count, warmup),
            "patch" => await ConcurrentPatch(client, prefix, count, concurrency, warmup),
            _ => throw new ArgumentException($"Unknown operation '{op}'."),
        };
        Console.WriteLine(result.ToJsonString());
        return 0;
    }

    private static int Usage()
    {
        Console.Error.WriteLine("Usage: cmdlet-raw (bulk|get|client-get|patch) --ready READY.json [--prefix P] [--from F] [--count N] [--concurrency C] [--device D] [--warmup W] [--warmup-seconds S]");
        return 2;
    }

    /// <summary>Devices {prefix}{i:D6}, from &lt;= i &lt; count, with tags set = prefix, n = i and plant, 100 per bulk POST /devices, several requests at once.</summary>
    private static async Task<JsonObject> BulkCreate(RawHubClient client, string prefix, int from, int count, int concurrency)
    {
        var sw = Stopwatch.StartNew();
        int next = 0;
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
        {
            int start;
            while ((start = from + Interlocked.Add(ref next, 100) - 100) < count)
            {
                var sb = new StringBuilder("[");
                for (int i = start; i < Math.Min(count, start + 100); i++)
                {
                    if (i > start) sb.Append(',');
                    sb.Append(CultureInfo.InvariantCulture, $"{{\"id\":\"{prefix}{i:D6}\",\"importMode\":\"create\",\"tags\":{{\"set\":\"{prefix}\",\"n\":{i},\"plant\":\"plant-{i % 10}\"}}}}");
                }

                sb.Append(']');
                int status = await client.SendAsync(HttpMethod.Post, "devices", sb.ToString());
                if (status != 200) throw new InvalidOperationException($"bulk create answered {status}");
            }
        }));
        return new JsonObject { ["devices"] = count - from, ["seconds"] = sw.Elapsed.TotalSeconds };
    }

    /// <summary>One GET after another on one keep-alive connection, reading each body (tools/BenchRawLoop.cs).</summary>
    private static async Task<JsonObject> SequentialGet(RawHubClient client, string device, int count, int warmup)
    {
        string uri = client.BaseUri + "twins/" + Uri.EscapeDataString(device) + "?api-version=2021-04-12";
        await JitWarmUp.UntilSettledAsync(() => RawLoop.GetAsync(client.Http, uri, client.Authorization, warmup));
        double perCall = await RawLoop.GetAsync(client.Http, uri, client.Authorization, count);
        return new JsonObject { ["calls"] = count, ["seconds"] = perCall * count / 1e6, ["perCallMicroseconds"] = perCall };
    }

    /// <summary>The same sequential GETs through the module's own service client (Azure.Core pipeline, twin parsing).</summary>
    private static async Task<JsonObject> ClientGet(JsonObject ready, string device, int count, int warmup)
    {
        var options = new TwinPS.Client.IoTHubServiceClientOptions { TrustedCACertificatePath = (string)ready["caCertificatePath"]! };
        using var client = new TwinPS.Client.IoTHubServiceClient(IoTHubConnectionString.Parse((string)ready["serviceConnectionString"]!), options);
        await JitWarmUp.UntilSettledAsync(async () =>
        {
            for (int i = 0; i < warmup; i++) await client.GetTwinAsync(device);
        });
        var sw = Stopwatch.StartNew();
        for (int i = 0; i < count; i++) await client.GetTwinAsync(device);
        double seconds = sw.Elapsed.TotalSeconds;
        return new JsonObject { ["calls"] = count, ["seconds"] = seconds, ["perCallMicroseconds"] = seconds / count * 1e6 };
    }

    /// <summary>
    /// One desired PATCH per device {prefix}{i:D6}, i &lt; count, with at most 'concurrency' requests in flight
    /// (tools/BenchRawLoop.cs); the median of three timed passes (one pass of 1,000 PATCHes lasts well under a second).
    /// </summary>
    private static async Task<JsonObject> ConcurrentPatch(RawHubClient client, string prefix, int count, int concurrency, int warmup)
    {
        string[] ids = Enumerable.Range(0, count).Select(i => prefix + i.ToString("D6", CultureInfo.InvariantCulture)).ToArray();
        string[] warmIds = ids[..Math.Min(warmup, count)];
        await JitWarmUp.UntilSettledAsync(() => RawLoop.PatchAsync(client.Http, client.BaseUri, client.Authorization, warmIds, concurrency, 0));
        var rates = new List<double>();
        for (int pass = 1; pass <= TimedPasses; pass++)
        {
            rates.Add(await RawLoop.PatchAsync(client.Http, client.BaseUri, client.Authorization, ids, concurrency, pass));
        }

        double median = rates.Order().ElementAt(TimedPasses / 2);
        return new JsonObject { ["patches"] = count, ["concurrency"] = concurrency, ["seconds"] = count / median, ["rate"] = median };
    }
}

/// <summary>
/// Warm-up until the process has settled: passes run for at least <see cref="MinimumSeconds"/> and until three in a row
/// compile fewer than 20 methods (at most 60 s). A fixed count of warm-up calls is not enough for a fair comparison: a
/// small C# loop reaches its optimized code within a few hundred calls, a PowerShell session only after many thousands
/// (tools/Bench-Cmdlets.ps1 warms its child pwsh with the same rule).
/// </summary>
internal static class JitWarmUp
{
    /// <summary>The shortest warm-up (--warmup-seconds).</summary>
    public static int MinimumSeconds { get; set; } = 5;

    public static async Task UntilSettledAsync(Func<Task> pass)
    {
        var sw = Stopwatch.StartNew();
        int quietPasses = 0;
        while ((quietPasses < 3 || sw.Elapsed < TimeSpan.FromSeconds(MinimumSeconds)) && sw.Elapsed < TimeSpan.FromSeconds(60))
        {
            long before = System.Runtime.JitInfo.GetCompiledMethodCount();
            await pass();
            quietPasses = System.Runtime.JitInfo.GetCompiledMethodCount() - before < 20 ? quietPasses + 1 : 0;
        }
    }
}

/// <summary>One HttpClient (keep-alive connections as needed) signing its own SAS and trusting only the emulator's CA.</summary>
internal sealed class RawHubClient : IDisposable
{
    private readonly HttpClient _http;
    private readonly X509Certificate2 _ca;
    private readonly string _token;

    /// <summary>The client, for the loops of tools/BenchRawLoop.cs.</summary>
    public HttpClient Http => _http;

    /// <summary>The Authorization header value (the SAS).</summary>
    public string Authorization => _token;

    /// <summary>https://localhost:port/ of the emulator.</summary>
    public string BaseUri => _http.BaseAddress!.ToString();

    public RawHubClient(JsonObject ready)
    {
        var cs = IoTHubConnectionString.Parse((string)ready["serviceConnectionString"]!);
        _token = SharedAccessSignature.Build(cs.HostName, cs.SharedAccessKey!, cs.SharedAccessKeyName, DateTimeOffset.UtcNow.AddHours(2));
        _ca = X509Certificate2.CreateFromPem(File.ReadAllText((string)ready["caCertificatePath"]!));
        var handler = new SocketsHttpHandler
        {
            SslOptions = new SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = (_, cert, _, errors) =>
                {
                    if (cert is null || (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) != 0) return false;
                    using var chain = new X509Chain();
                    chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                    chain.ChainPolicy.CustomTrustStore.Add(_ca);
                    chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                    using var leaf = new X509Certificate2(cert);
                    return chain.Build(leaf);
                },
            },
        };
        _http = new HttpClient(handler) { BaseAddress = new Uri($"https://localhost:{(int)ready["httpsPort"]!}/"), Timeout = TimeSpan.FromMinutes(2) };
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

    public void Dispose()
    {
        _http.Dispose();
        _ca.Dispose();
    }
}
