// The raw C# baselines of tools/Bench-Cmdlets.ps1, compiled (Add-Type) into the same pwsh as the cmdlets they are
// compared with, so raw and cmdlet passes alternate in one process, moments apart: HttpClient only, no TwinPS code.
using System;
using System.Diagnostics;
using System.Linq;
using System.Net.Http;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

public static class TwinBenchRawLoop
{
    /// <summary>Sequential GETs of one twin, awaited in a loop on the thread pool as a C# program would; µs per call.</summary>
    public static double Get(HttpClient http, string uri, string authorization, int count) =>
        Task.Run(async () =>
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
        }).GetAwaiter().GetResult();

    /// <summary>One desired PATCH to each device, <paramref name="concurrency"/> in flight; patches per second.</summary>
    public static double Patch(HttpClient http, string baseUri, string authorization, string[] deviceIds, int concurrency, int value) =>
        Task.Run(async () =>
        {
            string body = "{\"properties\":{\"desired\":{\"bench\":" + value.ToString(System.Globalization.CultureInfo.InvariantCulture) + "}}}";
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
        }).GetAwaiter().GetResult();

    private static void Expect200(HttpResponseMessage response, string method)
    {
        if ((int)response.StatusCode != 200)
        {
            throw new InvalidOperationException($"The raw {method} answered {(int)response.StatusCode}.");
        }
    }
}
