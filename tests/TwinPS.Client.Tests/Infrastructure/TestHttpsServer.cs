using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace TwinPS.Client.Tests.Infrastructure;

/// <summary>A request as the test server received it.</summary>
public sealed record RecordedRequest(string Method, string RawTarget, string Path, IReadOnlyDictionary<string, string> Headers, string Body)
{
    /// <summary>A header value, or null.</summary>
    public string? Header(string name) => Headers.TryGetValue(name, out var v) ? v : null;
}

/// <summary>
/// A real Kestrel HTTPS server on 127.0.0.1 (port chosen by the OS) that records every request and answers with the
/// test's handler. Used to drive the client's retry, paging, auth and TLS code over real sockets.
/// </summary>
public sealed class TestHttpsServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<RecordedRequest> _requests = new();

    private TestHttpsServer(WebApplication app, int port)
    {
        _app = app;
        Port = port;
    }

    /// <summary>The handler answering each request (the request is already recorded).</summary>
    public Func<RecordedRequest, HttpContext, Task> Handler { get; set; } = (_, ctx) => Reply(ctx, 200, "{}");

    /// <summary>The port.</summary>
    public int Port { get; }

    /// <summary>Host name with port, as a connection string's HostName.</summary>
    public string HostName => $"localhost:{Port}";

    /// <summary>Requests received so far, in order.</summary>
    public IReadOnlyList<RecordedRequest> Requests => _requests.ToArray();

    /// <summary>Starts a server with the given certificate (default: localhost signed by the test CA).</summary>
    public static async Task<TestHttpsServer> StartAsync(X509Certificate2? certificate = null)
    {
        var cert = certificate ?? TestCertificates.Server;
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, listen => listen.UseHttps(cert)));
        var app = builder.Build();
        TestHttpsServer? server = null;
        app.Run(async ctx =>
        {
            using var reader = new StreamReader(ctx.Request.Body);
            var body = await reader.ReadToEndAsync();
            var headers = ctx.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
            var target = ctx.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpRequestFeature>()?.RawTarget ?? ctx.Request.Path.Value ?? string.Empty;
            var recorded = new RecordedRequest(ctx.Request.Method, target, ctx.Request.Path.Value ?? string.Empty, headers, body);
            server!._requests.Enqueue(recorded);
            await server.Handler(recorded, ctx);
        });
        await app.StartAsync();
        var address = app.Urls.First();
        var port = new Uri(address).Port;
        server = new TestHttpsServer(app, port);
        return server;
    }

    /// <summary>Writes a JSON response with optional extra headers.</summary>
    public static async Task Reply(HttpContext ctx, int status, string? json, params (string Name, string Value)[] headers)
    {
        ctx.Response.StatusCode = status;
        foreach (var (name, value) in headers)
        {
            ctx.Response.Headers[name] = value;
        }

        if (json is not null)
        {
            ctx.Response.ContentType = "application/json; charset=utf-8";
            await ctx.Response.WriteAsync(json);
        }
    }

    /// <summary>A classic-envelope error reply with the iothub-errorcode header.</summary>
    public static Task ReplyError(HttpContext ctx, int status, string code, string text = "test failure") =>
        Reply(ctx, status, $$"""{"Message":"ErrorCode:{{code}};{{text}}","ExceptionMessage":"Tracking ID:track-{{code}}-G:0-TimeStamp:11/27/2026 06:46:02"}""", ("iothub-errorcode", code));

    /// <summary>Stops the server.</summary>
    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
