// The raw C# baselines of the cmdlet benchmark: HttpClient only, no TwinPS code. tools/Bench-Cmdlets.ps1 compiles this
// file into the same pwsh as the cmdlets (Add-Type), so raw and cmdlet passes alternate moments apart; the console
// baseline (tests/TwinPS.Benchmarks, cmdlet-raw) compiles the same file, so its context rows time the same loops.
using System;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using System.Net.Http;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace TwinPS.Benchmarks;

public static class RawLoop
{
    /// <summary>Sequential GETs of one twin, each awaited as a C# program would; µs per call.</summary>
    public static async Task<double> GetAsync(HttpClient http, string uri, string authorization, int count)
    {
        var watch = Stopwatch.StartNew();
        for (int i = 0; i < count; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, uri);
            request.Headers.TryAddWithoutValidation("Authorization", authorization);
            using HttpResponseMessage response = await http.SendAsync(request).ConfigureAwait(false);
            await response.Content.ReadAsByteArrayAsync().ConfigureAwait(false);
            Expect200(response, "GET");
        }

        return watch.Elapsed.TotalMilliseconds * 1000 / count;
    }

    /// <summary>One desired PATCH <c>{"bench": value}</c> to each device, <paramref name="concurrency"/> in flight; patches per second.</summary>
    public static async Task<double> PatchAsync(HttpClient http, string baseUri, string authorization, string[] deviceIds, int concurrency, int value)
    {
        string body = "{\"properties\":{\"desired\":{\"bench\":" + value.ToString(CultureInfo.InvariantCulture) + "}}}";
        int next = -1;
        var watch = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < deviceIds.Length)
            {
                using var request = new HttpRequestMessage(HttpMethod.Patch, baseUri + "twins/" + Uri.EscapeDataString(deviceIds[i]) + "?api-version=2021-04-12");
                request.Headers.TryAddWithoutValidation("Authorization", authorization);
                request.Content = new StringContent(body, Encoding.UTF8, "application/json");
                using HttpResponseMessage response = await http.SendAsync(request).ConfigureAwait(false);
                await response.Content.ReadAsByteArrayAsync().ConfigureAwait(false);
                Expect200(response, "PATCH");
            }
        })).ConfigureAwait(false);
        return deviceIds.Length / watch.Elapsed.TotalSeconds;
    }

    /// <summary><see cref="GetAsync"/> on the thread pool, for PowerShell's pipeline thread to wait on.</summary>
    public static double Get(HttpClient http, string uri, string authorization, int count) =>
        Task.Run(() => GetAsync(http, uri, authorization, count)).GetAwaiter().GetResult();

    /// <summary><see cref="PatchAsync"/> on the thread pool, for PowerShell's pipeline thread to wait on.</summary>
    public static double Patch(HttpClient http, string baseUri, string authorization, string[] deviceIds, int concurrency, int value) =>
        Task.Run(() => PatchAsync(http, baseUri, authorization, deviceIds, concurrency, value)).GetAwaiter().GetResult();

    private static void Expect200(HttpResponseMessage response, string method)
    {
        if ((int)response.StatusCode != 200)
        {
            throw new InvalidOperationException($"The raw {method} answered {(int)response.StatusCode}.");
        }
    }
}
