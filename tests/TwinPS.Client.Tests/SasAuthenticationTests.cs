using TwinPS.Client.Tests.Infrastructure;
using TwinPS.Protocol;

namespace TwinPS.Client.Tests;

public sealed class SasAuthenticationTests : IAsyncLifetime
{
    private TestHttpsServer _server = null!;

    public async Task InitializeAsync()
    {
        _server = await TestHttpsServer.StartAsync();
        _server.Handler = (_, ctx) => TestHttpsServer.Reply(ctx, 200, TestClients.TwinJson("dev1"));
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Token_is_a_valid_service_signature_for_the_host_name_as_written()
    {
        using var client = TestClients.For(_server);
        var before = DateTimeOffset.UtcNow;

        await client.GetTwinAsync("dev1");

        var header = _server.Requests[0].Header("Authorization");
        Assert.NotNull(header);
        var token = SharedAccessSignature.Parse(header);
        Assert.True(token.IsSignatureValid(TestClients.Key));
        Assert.False(token.IsSignatureValid(Convert.ToBase64String(new byte[32])));
        Assert.Equal(_server.HostName, token.Resource);
        Assert.Equal("iothubowner", token.KeyName);
        Assert.InRange(token.ExpiresOn, before.AddMinutes(59), before.AddMinutes(61));
    }

    [Fact]
    public async Task Token_is_cached_between_requests()
    {
        using var client = TestClients.For(_server);

        await client.GetTwinAsync("dev1");
        await client.GetTwinAsync("dev1");

        Assert.Equal(_server.Requests[0].Header("Authorization"), _server.Requests[1].Header("Authorization"));
    }

    [Fact]
    public async Task Token_is_renewed_before_expiry()
    {
        var options = TestClients.FastOptions();
        options.SasTokenTimeToLive = TimeSpan.FromSeconds(2);
        options.SasTokenRenewalMargin = TimeSpan.FromSeconds(1);
        using var client = TestClients.For(_server, options);

        await client.GetTwinAsync("dev1");
        var first = SharedAccessSignature.Parse(_server.Requests[0].Header("Authorization")!);
        // Wait until the first token is inside its renewal margin (but not yet expired).
        var renewAt = first.ExpiresOn - TimeSpan.FromSeconds(1);
        var wait = renewAt - DateTimeOffset.UtcNow + TimeSpan.FromMilliseconds(50);
        if (wait > TimeSpan.Zero)
        {
            await Task.Delay(wait);
        }

        await client.GetTwinAsync("dev1");
        var second = SharedAccessSignature.Parse(_server.Requests[1].Header("Authorization")!);

        Assert.NotEqual(first.ExpiryText, second.ExpiryText);
        Assert.True(second.ExpiresOn > first.ExpiresOn);
        Assert.True(first.IsSignatureValid(TestClients.Key));
        Assert.True(second.IsSignatureValid(TestClients.Key));
    }

    [Fact]
    public async Task Many_concurrent_requests_share_one_client()
    {
        using var client = TestClients.For(_server);

        var twins = await Task.WhenAll(Enumerable.Range(0, 40).Select(_ => client.GetTwinAsync("dev1")));

        Assert.Equal(40, twins.Length);
        Assert.Equal(40, _server.Requests.Count);
        Assert.All(_server.Requests, r => Assert.True(SharedAccessSignature.Parse(r.Header("Authorization")!).IsSignatureValid(TestClients.Key)));
    }

    [Fact]
    public async Task User_agent_names_TwinPS_and_its_version()
    {
        using var client = TestClients.For(_server);

        await client.GetTwinAsync("dev1");

        var version = typeof(IoTHubServiceClient).Assembly
            .GetCustomAttributes(typeof(System.Reflection.AssemblyInformationalVersionAttribute), false)
            .Cast<System.Reflection.AssemblyInformationalVersionAttribute>().Single().InformationalVersion;
        var userAgent = _server.Requests[0].Header("User-Agent");
        Assert.StartsWith($"TwinPS/{version}", userAgent, StringComparison.Ordinal);
        Assert.Equal(IoTHubServiceClient.UserAgent, userAgent);
    }

    [Fact]
    public async Task Port_in_host_name_is_dialled_and_api_version_is_sent()
    {
        using var client = TestClients.For(_server);

        await client.GetTwinAsync("dev1");

        Assert.Equal(new Uri($"https://localhost:{_server.Port}/"), client.Endpoint);
        Assert.Equal("/twins/dev1?api-version=2021-04-12", _server.Requests[0].RawTarget);
    }

    [Fact]
    public void Device_connection_strings_are_refused()
    {
        var device = IoTHubConnectionString.Parse($"HostName=localhost;DeviceId=d1;SharedAccessKey={TestClients.Key}");

        var ex = Assert.Throws<ArgumentException>(() => new IoTHubServiceClient(device));

        Assert.Contains("service connection string", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(TestClients.Key, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Entra_credential_sends_a_bearer_token_for_the_iot_hub_scope()
    {
        var credential = new RecordingCredential();
        using var client = new IoTHubServiceClient(_server.HostName, credential, TestClients.FastOptions());

        await client.GetTwinAsync("dev1");

        Assert.Equal("Bearer test-access-token", _server.Requests[0].Header("Authorization"));
        Assert.Equal(["https://iothubs.azure.net/.default"], credential.Scopes);
    }

    [Fact]
    public async Task An_unavailable_entra_credential_is_an_authentication_error_without_any_request()
    {
        using var client = new IoTHubServiceClient(_server.HostName, new UnavailableCredential(), TestClients.FastOptions());

        var ex = await Assert.ThrowsAsync<IoTHubServiceException>(() => client.GetTwinAsync("dev1"));

        Assert.Equal(401, ex.Status);
        Assert.Equal(IoTHubServiceException.AuthenticationFailedErrorCode, ex.ErrorCode);
        Assert.False(ex.IsTransient);
        Assert.Empty(_server.Requests);
    }

    [Fact]
    public async Task A_disposed_client_refuses_work()
    {
        var client = TestClients.For(_server);
        client.Dispose();

        await Assert.ThrowsAsync<ObjectDisposedException>(() => client.GetTwinAsync("dev1"));
        Assert.Empty(_server.Requests);
    }

    private sealed class UnavailableCredential : Azure.Core.TokenCredential
    {
        public override Azure.Core.AccessToken GetToken(Azure.Core.TokenRequestContext requestContext, CancellationToken cancellationToken) =>
            throw new Azure.Identity.CredentialUnavailableException("no credential configured in this test");

        public override ValueTask<Azure.Core.AccessToken> GetTokenAsync(Azure.Core.TokenRequestContext requestContext, CancellationToken cancellationToken) =>
            throw new Azure.Identity.CredentialUnavailableException("no credential configured in this test");
    }

    private sealed class RecordingCredential : Azure.Core.TokenCredential
    {
        public string[] Scopes { get; private set; } = [];

        public override Azure.Core.AccessToken GetToken(Azure.Core.TokenRequestContext requestContext, CancellationToken cancellationToken)
        {
            Scopes = requestContext.Scopes;
            return new Azure.Core.AccessToken("test-access-token", DateTimeOffset.UtcNow.AddHours(1));
        }

        public override ValueTask<Azure.Core.AccessToken> GetTokenAsync(Azure.Core.TokenRequestContext requestContext, CancellationToken cancellationToken) =>
            ValueTask.FromResult(GetToken(requestContext, cancellationToken));
    }
}
