using System.Net;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using TwinPS.Protocol;

namespace TwinPS.Emulator.Tests.Infrastructure;

/// <summary>A response as the tests see it.</summary>
public sealed record HubResponse(HttpStatusCode Status, string Body, HttpResponseHeaders Headers, HttpContentHeaders? ContentHeaders)
{
    public JsonNode? Json => string.IsNullOrEmpty(Body) ? null : JsonNode.Parse(Body);

    public JsonObject Obj => (JsonObject)Json!;

    public string? Header(string name) =>
        Headers.TryGetValues(name, out var values) ? string.Join(",", values) : null;

    /// <summary>The symbolic error code of the classic envelope's Message ("ErrorCode:Name;text").</summary>
    public string? EnvelopeCode
    {
        get
        {
            string? message = (Json as JsonObject)?["Message"]?.GetValue<string>();
            if (message is null || !message.StartsWith("ErrorCode:", StringComparison.Ordinal)) return null;
            int semi = message.IndexOf(';', StringComparison.Ordinal);
            return message[10..(semi < 0 ? message.Length : semi)];
        }
    }

    public string? EnvelopeMessage => (Json as JsonObject)?["Message"]?.GetValue<string>();
}

/// <summary>
/// HttpClient for the emulator: trusts ONLY the emulator's CA (chain built with it as the custom root), signs a fresh
/// SAS token per request with TwinPS.Protocol, and adds api-version.
/// </summary>
public sealed class HubClient : IDisposable
{
    public const string ApiVersion = "2021-04-12";
    private readonly HttpClient _http;
    private readonly X509Certificate2 _ca;

    public HubClient(EmulatorProcess emulator, string policy = "iothubowner")
    {
        ArgumentNullException.ThrowIfNull(emulator);
        Port = emulator.HttpsPort;
        _ca = X509Certificate2.CreateFromPem(File.ReadAllText(emulator.CaCertificatePath));
        var cs = IoTHubConnectionString.Parse((string)emulator.Ready["policies"]![policy]!);
        HostName = cs.HostName;
        KeyName = cs.SharedAccessKeyName!;
        Key = cs.SharedAccessKey!;
        var handler = new SocketsHttpHandler
        {
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            MaxConnectionsPerServer = 32,
            SslOptions = new SslClientAuthenticationOptions { RemoteCertificateValidationCallback = ValidateServerCertificate },
        };
        _http = new HttpClient(handler) { BaseAddress = new Uri($"https://localhost:{Port}/"), Timeout = TimeBounds.Eventually };
    }

    public int Port { get; }

    public string HostName { get; }

    public string KeyName { get; }

    public string Key { get; }

    /// <summary>A valid token for this client's policy.</summary>
    public string Token(DateTimeOffset? expires = null) =>
        SharedAccessSignature.Build(HostName, Key, KeyName, expires ?? DateTimeOffset.UtcNow.AddHours(1));

    public Task<HubResponse> GetAsync(string path, Action<HttpRequestMessage>? configure = null) => SendAsync(HttpMethod.Get, path, null, configure);

    public Task<HubResponse> DeleteAsync(string path, string? ifMatch = "*") =>
        SendAsync(HttpMethod.Delete, path, null, r =>
        {
            if (ifMatch is not null) r.Headers.TryAddWithoutValidation("If-Match", ifMatch);
        });

    public Task<HubResponse> PutAsync(string path, string body, string? ifMatch = null) =>
        SendAsync(HttpMethod.Put, path, body, r =>
        {
            if (ifMatch is not null) r.Headers.TryAddWithoutValidation("If-Match", ifMatch);
        });

    public Task<HubResponse> PatchAsync(string path, string body, string? ifMatch = null) =>
        SendAsync(HttpMethod.Patch, path, body, r =>
        {
            if (ifMatch is not null) r.Headers.TryAddWithoutValidation("If-Match", ifMatch);
        });

    public Task<HubResponse> PostAsync(string path, string body, Action<HttpRequestMessage>? configure = null) => SendAsync(HttpMethod.Post, path, body, configure);

    /// <summary>Sends a request with api-version and a fresh token unless <paramref name="configure"/> changes them.</summary>
    public Task<HubResponse> SendAsync(HttpMethod method, string path, string? body, Action<HttpRequestMessage>? configure = null, bool addApiVersion = true, bool addToken = true) =>
        SendContentAsync(method, path, body is null ? null : new StringContent(body, Encoding.UTF8, "application/json"), configure, addApiVersion, addToken);

    /// <summary>Sends raw bytes as the body (for bodies that are not valid UTF-8).</summary>
    public Task<HubResponse> SendBytesAsync(HttpMethod method, string path, byte[] body, Action<HttpRequestMessage>? configure = null)
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        return SendContentAsync(method, path, content, configure, addApiVersion: true, addToken: true);
    }

    private async Task<HubResponse> SendContentAsync(HttpMethod method, string path, HttpContent? content, Action<HttpRequestMessage>? configure, bool addApiVersion, bool addToken)
    {
        ArgumentNullException.ThrowIfNull(path);
        string uri = addApiVersion ? path + (path.Contains('?', StringComparison.Ordinal) ? "&" : "?") + "api-version=" + ApiVersion : path;
        using var request = new HttpRequestMessage(method, uri);
        if (addToken) request.Headers.TryAddWithoutValidation("Authorization", Token());
        request.Content = content;
        configure?.Invoke(request);
        using HttpResponseMessage response = await _http.SendAsync(request).ConfigureAwait(false);
        string text = await response.Content.ReadAsStringAsync().ConfigureAwait(false);
        return new HubResponse(response.StatusCode, text, response.Headers, response.Content.Headers);
    }

    /// <summary>Creates a device with generated keys and returns its JSON.</summary>
    public async Task<JsonObject> CreateDeviceAsync(string id)
    {
        HubResponse r = await PutAsync("devices/" + Uri.EscapeDataString(id), $"{{\"deviceId\":\"{id}\"}}").ConfigureAwait(false);
        if (r.Status != HttpStatusCode.OK) throw new InvalidOperationException($"create {id}: {(int)r.Status} {r.Body}");
        return r.Obj;
    }

    public async Task<JsonObject> GetTwinAsync(string id)
    {
        HubResponse r = await GetAsync("twins/" + Uri.EscapeDataString(id)).ConfigureAwait(false);
        if (r.Status != HttpStatusCode.OK) throw new InvalidOperationException($"get twin {id}: {(int)r.Status} {r.Body}");
        return r.Obj;
    }

    public async Task<long> RequestCountAsync()
    {
        HubResponse r = await GetAsync("$twinps/stats").ConfigureAwait(false);
        return (long)r.Obj["requests"]!;
    }

    private bool ValidateServerCertificate(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (certificate is null) return false;
        if ((errors & ~SslPolicyErrors.RemoteCertificateChainErrors) != SslPolicyErrors.None) return false; // name mismatch etc.
        using var custom = new X509Chain();
        custom.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        custom.ChainPolicy.CustomTrustStore.Add(_ca);
        custom.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        using var leaf = new X509Certificate2(certificate);
        return custom.Build(leaf);
    }

    public void Dispose()
    {
        _http.Dispose();
        _ca.Dispose();
    }
}

/// <summary>One in-memory emulator shared by a test class.</summary>
public sealed class EmulatorFixture : IDisposable
{
    public EmulatorFixture()
        : this([])
    {
    }

    /// <summary>An in-memory emulator with extra command-line arguments (for fixtures that wrap this one).</summary>
    internal EmulatorFixture(string[] extraArguments)
    {
        Emulator = EmulatorProcess.Start(["--https-port", "0", "--mqtt-port", "0", "--in-memory", .. extraArguments]);
        Owner = new HubClient(Emulator);
    }

    public EmulatorProcess Emulator { get; }

    public HubClient Owner { get; }

    public HubClient Client(string policy) => new(Emulator, policy);

    public void Dispose()
    {
        Owner.Dispose();
        Emulator.Dispose();
    }
}

/// <summary>Unique ids per test.</summary>
public static class Ids
{
    private static int _n;

    public static string New(string prefix = "d") => $"{prefix}-{Guid.NewGuid().ToString("N")[..8]}-{Interlocked.Increment(ref _n)}";
}
