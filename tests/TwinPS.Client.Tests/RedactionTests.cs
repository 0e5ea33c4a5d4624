using System.Diagnostics.Tracing;
using System.Text;
using Azure.Core.Diagnostics;
using TwinPS.Client.Tests.Infrastructure;
using TwinPS.Protocol;

namespace TwinPS.Client.Tests;

public sealed class RedactionTests : IAsyncLifetime
{
    private TestHttpsServer _server = null!;

    public async Task InitializeAsync() => _server = await TestHttpsServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Azure_core_logs_contain_no_signature_or_key()
    {
        var device = new DeviceIdentity("logged");
        device.SetSymmetricKeys(TestClients.Key, TestClients.Key);
        _server.Handler = (request, ctx) => request.Path.StartsWith("/devices/", StringComparison.Ordinal)
            ? TestHttpsServer.Reply(ctx, 200, $$$$"""{"deviceId":"logged","etag":"MQ==","status":"enabled","authentication":{"type":"sas","symmetricKey":{"primaryKey":"{{{{TestClients.Key}}}}","secondaryKey":"{{{{TestClients.Key}}}}"}}}""")
            : TestHttpsServer.ReplyError(ctx, 429, "ThrottlingBacklogTimeout");
        var log = new StringBuilder();
        using (new AzureEventSourceListener((e, message) => { lock (log) { log.AppendLine(message); } }, EventLevel.Verbose))
        {
            var options = TestClients.FastOptions(maxRetries: 1);
            // Throttling is retried until the time budget runs out (not by count): keep the budget short here.
            options.RetryTimeout = TimeSpan.FromSeconds(1);
            options.Diagnostics.IsLoggingContentEnabled = true; // asked for, but bodies carry keys: the client refuses
            options.Diagnostics.LoggedHeaderNames.Add("Authorization");
            options.Diagnostics.LoggedHeaderNames.Add("authorization");
            using var client = TestClients.For(_server, options);
            await client.CreateDeviceAsync(device);
            await Assert.ThrowsAsync<IoTHubServiceException>(() => client.GetTwinAsync("logged"));
        }

        var text = log.ToString();
        Assert.Contains("/twins/logged", text, StringComparison.Ordinal); // the listener did capture the requests
        Assert.DoesNotContain("sig=", text, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("SharedAccessKey=", text, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(TestClients.Key, text, StringComparison.Ordinal);
        Assert.DoesNotContain(Uri.EscapeDataString(TestClients.Key), text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Exception_text_never_carries_secrets_even_when_the_server_echoes_them()
    {
        string? echoed = null;
        _server.Handler = (request, ctx) =>
        {
            echoed = request.Header("Authorization");
            var text = $"Unauthorized: {echoed} SharedAccessKey={TestClients.Key}";
            return TestHttpsServer.Reply(
                ctx,
                401,
                System.Text.Json.JsonSerializer.Serialize(new { Message = "ErrorCode:IotHubUnauthorizedAccess;" + text, ExceptionMessage = "Tracking ID:t1-G:0-TimeStamp:x" }),
                ("iothub-errorcode", "IotHubUnauthorizedAccess"));
        };
        using var client = TestClients.For(_server);

        var ex = await Assert.ThrowsAsync<IoTHubServiceException>(() => client.GetTwinAsync("d1"));

        Assert.NotNull(echoed);
        var signature = echoed!.Split('&').Single(p => p.StartsWith("SharedAccessSignature sr=", StringComparison.Ordinal) is false && p.StartsWith("sig=", StringComparison.Ordinal))[4..];
        foreach (var text in new[] { ex.Message, ex.ToString() })
        {
            Assert.Contains("IotHubUnauthorizedAccess", text, StringComparison.Ordinal);
            Assert.DoesNotContain(signature, text, StringComparison.Ordinal);
            Assert.DoesNotContain(TestClients.Key, text, StringComparison.Ordinal);
            Assert.DoesNotContain("sig=" + signature[..4], text, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Device_keys_stay_out_of_ToString_and_Json_but_are_available_on_request()
    {
        _server.Handler = (_, ctx) => TestHttpsServer.Reply(
            ctx, 200, $$$$"""{"deviceId":"k1","etag":"MQ==","status":"enabled","authentication":{"type":"sas","symmetricKey":{"primaryKey":"{{{{TestClients.Key}}}}","secondaryKey":"{{{{TestClients.Key}}}}"},"x509Thumbprint":{"primaryThumbprint":null,"secondaryThumbprint":null}}}""");
        using var client = TestClients.For(_server);

        var device = await client.GetDeviceAsync("k1");

        Assert.DoesNotContain(TestClients.Key, device.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(TestClients.Key, device.Json.ToJsonString(), StringComparison.Ordinal);
        Assert.Equal(TestClients.Key, device.GetPrimaryKey());
        Assert.Equal($"HostName={_server.HostName};DeviceId=k1;SharedAccessKey={TestClients.Key}", client.GetConnectionStringForDevice(device));
    }

    [Fact]
    public void Redactor_removes_every_secret_form()
    {
        var token = SharedAccessSignature.Build("hub.azure-devices.net", TestClients.Key, "iothubowner", DateTimeOffset.UtcNow.AddHours(1));
        var text = $"a {token} b HostName=h;SharedAccessKeyName=p;SharedAccessKey={TestClients.Key} c sig=abc%2Bdef&se=1 \"primaryKey\":\"{TestClients.Key}\", \"sharedAccessKey\": \"{TestClients.Key}\"";

        var redacted = SecretRedactor.Redact(text);

        Assert.DoesNotContain(TestClients.Key, redacted, StringComparison.Ordinal);
        Assert.DoesNotContain("abc%2Bdef", redacted, StringComparison.Ordinal);
        Assert.DoesNotContain(token, redacted, StringComparison.Ordinal);
        Assert.Contains("HostName=h", redacted, StringComparison.Ordinal);
    }
}
