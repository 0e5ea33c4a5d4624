using TwinPS.Client.Tests.Infrastructure;

namespace TwinPS.Client.Tests;

public sealed class RetryTests : IAsyncLifetime
{
    private TestHttpsServer _server = null!;

    public async Task InitializeAsync() => _server = await TestHttpsServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Theory]
    [InlineData(429, "ThrottlingBacklogTimeout")]
    [InlineData(503, "ServiceUnavailable")]
    [InlineData(500, "ServerError")]
    [InlineData(504, "GatewayTimeout")]
    public async Task Transient_status_is_retried_until_success(int status, string code)
    {
        var attempts = 0;
        _server.Handler = (_, ctx) => Interlocked.Increment(ref attempts) <= 2
            ? TestHttpsServer.ReplyError(ctx, status, code)
            : TestHttpsServer.Reply(ctx, 200, TestClients.TwinJson("dev1"));
        using var client = TestClients.For(_server);

        var twin = await client.GetTwinAsync("dev1");

        Assert.Equal("dev1", twin.DeviceId);
        Assert.Equal(3, attempts);
        Assert.Equal(3, _server.Requests.Count);
    }

    [Theory]
    [InlineData(400, "ArgumentInvalid")]
    [InlineData(401, "IotHubUnauthorizedAccess")]
    [InlineData(404, "DeviceNotFound")]
    [InlineData(409, "DeviceAlreadyExists")]
    [InlineData(412, "PreconditionFailed")]
    [InlineData(502, "BadGateway")]
    public async Task Other_errors_are_not_retried(int status, string code)
    {
        _server.Handler = (_, ctx) => TestHttpsServer.ReplyError(ctx, status, code);
        using var client = TestClients.For(_server);

        var ex = await Assert.ThrowsAsync<IoTHubServiceException>(() => client.GetTwinAsync("dev1"));

        Assert.Equal(status, ex.Status);
        Assert.Equal(code, ex.ErrorCode);
        Assert.Equal("dev1", ex.DeviceId);
        Assert.Single(_server.Requests);
    }

    [Theory]
    [InlineData(500, "ServerError")]
    [InlineData(504, "GatewayTimeout")]
    public async Task Transient_faults_are_retried_a_bounded_number_of_times_and_the_last_error_is_thrown(int status, string code)
    {
        _server.Handler = (_, ctx) => TestHttpsServer.ReplyError(ctx, status, code);
        using var client = TestClients.For(_server, TestClients.FastOptions(maxRetries: 2));

        var ex = await Assert.ThrowsAsync<IoTHubServiceException>(() => client.GetTwinAsync("dev1"));

        Assert.Equal(3, _server.Requests.Count); // first try + 2 retries
        Assert.Equal(status, ex.Status);
        Assert.Equal(code, ex.ErrorCode);
        Assert.True(ex.IsTransient);
    }

    [Fact]
    public async Task Retried_writes_resend_the_same_body_and_headers()
    {
        var attempts = 0;
        _server.Handler = (_, ctx) => Interlocked.Increment(ref attempts) == 1
            ? TestHttpsServer.ReplyError(ctx, 503, "ServiceUnavailable")
            : TestHttpsServer.Reply(ctx, 200, TestClients.TwinJson("dev1", "AAAAAAAAAAI="));
        using var client = TestClients.For(_server);

        await client.UpdateTwinAsync("dev1", null, new TwinPatch { Tags = new() { ["a"] = 1 } }, "AAAAAAAAAAE=");

        var requests = _server.Requests;
        Assert.Equal(2, requests.Count);
        Assert.Equal(requests[0].Body, requests[1].Body);
        Assert.Equal("\"AAAAAAAAAAE=\"", requests[1].Header("If-Match"));
    }

    [Fact]
    public async Task Default_options_use_exponential_back_off_with_a_generous_timeout()
    {
        var options = new IoTHubServiceClientOptions();
        Assert.Equal(Azure.Core.RetryMode.Exponential, options.Retry.Mode);
        Assert.True(options.Retry.NetworkTimeout >= TimeSpan.FromSeconds(60));
        Assert.True(options.Retry.Delay >= TimeSpan.FromSeconds(1));
        Assert.True(options.Retry.MaxRetries >= 3);
        Assert.Equal(TimeSpan.FromSeconds(10), options.ThrottleRetryDelay);
        Assert.True(options.RetryTimeout >= TimeSpan.FromMinutes(1));
        Assert.True(options.AdaptiveRate);
        await Task.CompletedTask;
    }
}
