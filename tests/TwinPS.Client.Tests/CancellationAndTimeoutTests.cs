using System.Net;
using System.Net.Sockets;
using TwinPS.Client.Tests.Infrastructure;

namespace TwinPS.Client.Tests;

public sealed class CancellationAndTimeoutTests : IAsyncLifetime
{
    private TestHttpsServer _server = null!;

    public async Task InitializeAsync() => _server = await TestHttpsServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Cancellation_surfaces_as_OperationCanceledException_at_once()
    {
        // The server never answers on its own; the call can only end through the cancellation.
        var received = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _server.Handler = async (_, ctx) =>
        {
            received.TrySetResult();
            await Task.Delay(TimeBounds.Never, ctx.RequestAborted).ContinueWith(_ => { });
        };
        var options = TestClients.FastOptions();
        options.Retry.NetworkTimeout = TimeBounds.Never;
        using var client = TestClients.For(_server, options);
        using var cts = new CancellationTokenSource();

        var call = client.GetTwinAsync("d1", null, cts.Token);
        await received.Task.WaitAsync(TimeBounds.Eventually);
        Assert.False(call.IsCompleted);
        await cts.CancelAsync();
        var ex = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call.WaitAsync(TimeBounds.Eventually));

        Assert.IsNotType<IoTHubServiceException>(ex);
        Assert.Single(_server.Requests);
    }

    [Fact]
    public async Task Cancellation_stops_a_query_between_pages()
    {
        _server.Handler = (_, ctx) => TestHttpsServer.Reply(ctx, 200, "[]", ("x-ms-item-type", "Twin"), ("x-ms-continuation", "more"));
        using var client = TestClients.For(_server);
        using var cts = new CancellationTokenSource();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var _ in client.QueryAsync("SELECT * FROM devices", null, cts.Token))
            {
                await cts.CancelAsync();
            }
        });

        Assert.Single(_server.Requests);
    }

    [Fact]
    public async Task Per_try_timeout_is_retried_then_reported_as_Timeout()
    {
        var options = TestClients.FastOptions(maxRetries: 1);
        options.Retry.NetworkTimeout = TimeBounds.PerTryTimeout;
        using var client = TestClients.For(_server, options);
        _server.Handler = (_, ctx) => TestHttpsServer.Reply(ctx, 200, TestClients.TwinJson("d1"));
        await client.GetTwinAsync("d1"); // warm connection, so the timed try is not spent on the TLS handshake
        // Only the tries that reach the never-answering handler are counted (not the warm-up, whatever it took).
        var hung = 0;
        _server.Handler = async (_, ctx) =>
        {
            Interlocked.Increment(ref hung);
            await Task.Delay(TimeBounds.Never, ctx.RequestAborted).ContinueWith(_ => { });
        };

        var ex = await Assert.ThrowsAsync<IoTHubServiceException>(() => client.GetTwinAsync("d1"));

        Assert.Equal(0, ex.Status);
        Assert.Equal("Timeout", ex.ErrorCode);
        Assert.True(ex.IsTransient);
        Assert.NotNull(ex.InnerException);
        Assert.Equal(2, Volatile.Read(ref hung)); // the first try + one retry
    }

    [Fact]
    public async Task Network_failures_back_off_with_the_short_network_delay()
    {
        var cs = TwinPS.Protocol.IoTHubConnectionString.Parse($"HostName=127.0.0.1:{ClosedPort()};SharedAccessKeyName=iothubowner;SharedAccessKey={TestClients.Key}");
        var options = TestClients.FastOptions(maxRetries: 3);
        // The general retry delay is 'never': a call that ends within TimeBounds.Eventually did not use it.
        options.Retry.Delay = TimeBounds.Never;
        options.Retry.MaxDelay = TimeBounds.Never;
        options.NetworkRetryDelay = TimeSpan.FromMilliseconds(10);
        using var client = new IoTHubServiceClient(cs, options);

        var ex = await Assert.ThrowsAsync<IoTHubServiceException>(() => client.GetTwinAsync("d1").WaitAsync(TimeBounds.Eventually));

        Assert.Equal("ConnectionError", ex.ErrorCode);
    }

    [Fact]
    public async Task Throttling_backs_off_with_the_throttle_delay()
    {
        var attempts = 0;
        _server.Handler = (_, ctx) => Interlocked.Increment(ref attempts) == 1
            ? TestHttpsServer.ReplyError(ctx, 429, "ThrottlingBacklogTimeout")
            : TestHttpsServer.Reply(ctx, 200, TestClients.TwinJson("d1"));
        var options = TestClients.FastOptions(maxRetries: 1);
        options.ThrottleRetryDelay = TimeBounds.ThrottleDelay;
        options.ThrottleMaxRetryDelay = TimeBounds.Eventually;
        options.NetworkRetryDelay = TimeSpan.FromMilliseconds(1);
        using var client = TestClients.For(_server, options);
        var watch = System.Diagnostics.Stopwatch.StartNew();

        await client.GetTwinAsync("d1");

        Assert.Equal(2, attempts);
        Assert.True(watch.Elapsed >= TimeBounds.ThrottleDelayLowerBound, $"took only {watch.Elapsed}");
    }

    [Fact]
    public async Task An_unknown_host_fails_at_once_without_retries()
    {
        var cs = TwinPS.Protocol.IoTHubConnectionString.Parse($"HostName=no-such-hub.invalid;SharedAccessKeyName=iothubowner;SharedAccessKey={TestClients.Key}");
        var options = TestClients.FastOptions(maxRetries: 3);
        // Every retry delay is 'never': a call that ends within TimeBounds.Eventually was not retried.
        options.NetworkRetryDelay = TimeBounds.Never;
        options.Retry.Delay = TimeBounds.Never;
        options.Retry.MaxDelay = TimeBounds.Never;
        using var client = new IoTHubServiceClient(cs, options);

        var ex = await Assert.ThrowsAsync<IoTHubServiceException>(() => client.GetTwinAsync("d1").WaitAsync(TimeBounds.Eventually));

        Assert.Equal("ConnectionError", ex.ErrorCode);
        Assert.False(ex.IsTransient);
        Assert.Contains("no-such-hub.invalid", ex.Message, StringComparison.Ordinal);
    }

    private static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    [Fact]
    public async Task Refused_connection_is_retried_then_reported_as_ConnectionError()
    {
        int closedPort;
        using (var listener = new TcpListener(IPAddress.Loopback, 0))
        {
            listener.Start();
            closedPort = ((IPEndPoint)listener.LocalEndpoint).Port;
        }

        var cs = TwinPS.Protocol.IoTHubConnectionString.Parse($"HostName=127.0.0.1:{closedPort};SharedAccessKeyName=iothubowner;SharedAccessKey={TestClients.Key}");
        using var client = new IoTHubServiceClient(cs, TestClients.FastOptions(maxRetries: 2));

        var ex = await Assert.ThrowsAsync<IoTHubServiceException>(() => client.GetTwinAsync("d1"));

        Assert.Equal(0, ex.Status);
        Assert.Equal("ConnectionError", ex.ErrorCode);
        Assert.True(ex.IsTransient);
        Assert.DoesNotContain(TestClients.Key, ex.ToString(), StringComparison.Ordinal);
    }
}
