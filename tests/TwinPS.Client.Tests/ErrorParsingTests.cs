using TwinPS.Client.Tests.Infrastructure;

namespace TwinPS.Client.Tests;

public sealed class ErrorParsingTests : IAsyncLifetime
{
    private TestHttpsServer _server = null!;

    public async Task InitializeAsync() => _server = await TestHttpsServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Classic_envelope_with_header()
    {
        _server.Handler = (_, ctx) => TestHttpsServer.Reply(
            ctx,
            404,
            """{"Message":"ErrorCode:DeviceNotFound;Device nosuch not registered","ExceptionMessage":"Tracking ID:18386fa42c2faf31520681c9b354e81a-G:0-TimeStamp:11/27/2026 06:46:02"}""",
            ("iothub-errorcode", "DeviceNotFound"));
        using var client = TestClients.For(_server);

        var ex = await Assert.ThrowsAsync<IoTHubServiceException>(() => client.GetDeviceAsync("nosuch"));

        Assert.Equal(404, ex.Status);
        Assert.Equal("DeviceNotFound", ex.ErrorCode);
        Assert.Equal(404001, ex.NumericCode);
        Assert.Equal("18386fa42c2faf31520681c9b354e81a", ex.TrackingId);
        Assert.Equal("nosuch", ex.DeviceId);
        Assert.False(ex.IsTransient);
        Assert.Contains("Device nosuch not registered", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Classic_envelope_without_header()
    {
        _server.Handler = (_, ctx) => TestHttpsServer.Reply(
            ctx, 412, """{"Message":"ErrorCode:PreconditionFailed;PreconditionFailed, ETag may be invalid.","ExceptionMessage":""}""");
        using var client = TestClients.For(_server);

        var ex = await Assert.ThrowsAsync<IoTHubServiceException>(() => client.UpdateTwinAsync("d1", "m1", new TwinPatch { Tags = new() { ["x"] = 1 } }, "stale"));

        Assert.Equal(412, ex.Status);
        Assert.Equal("PreconditionFailed", ex.ErrorCode);
        Assert.Null(ex.TrackingId);
        Assert.Equal("d1", ex.DeviceId);
        Assert.Equal("m1", ex.ModuleId);
    }

    [Fact]
    public async Task Numeric_envelope()
    {
        _server.Handler = (_, ctx) => TestHttpsServer.Reply(
            ctx, 409, """{"errorCode":409301,"message":"Device d1 already contains Module telemetry.","trackingId":"abc123","timestampUtc":"2026-11-27T06:46:02Z"}""");
        using var client = TestClients.For(_server);

        var ex = await Assert.ThrowsAsync<IoTHubServiceException>(() => client.GetTwinAsync("d1"));

        Assert.Equal(409, ex.Status);
        Assert.Equal("ModuleAlreadyExistsOnDevice", ex.ErrorCode);
        Assert.Equal(409301, ex.NumericCode);
        Assert.Equal("abc123", ex.TrackingId);
        Assert.Contains("already contains Module telemetry", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Nested_envelope()
    {
        _server.Handler = (_, ctx) => TestHttpsServer.Reply(
            ctx, 404, """{"Message":"{\"errorCode\":404103,\"message\":\"The operation failed because the requested device isn't online.\",\"trackingId\":\"nested-1\",\"timestampUtc\":\"2026-11-27T06:46:02Z\",\"info\":null}","ExceptionMessage":""}""");
        using var client = TestClients.For(_server);

        var ex = await Assert.ThrowsAsync<IoTHubServiceException>(() => client.GetTwinAsync("d1"));

        Assert.Equal("DeviceNotOnline", ex.ErrorCode);
        Assert.Equal(404103, ex.NumericCode);
        Assert.Equal("nested-1", ex.TrackingId);
        Assert.True(ex.IsTransient);
    }

    [Fact]
    public async Task Header_wins_over_body_and_garbage_bodies_do_not_crash()
    {
        _server.Handler = (_, ctx) => TestHttpsServer.Reply(ctx, 400, null, ("iothub-errorcode", "ArgumentInvalid"));
        using var client = TestClients.For(_server);

        var ex = await Assert.ThrowsAsync<IoTHubServiceException>(() => client.GetTwinAsync("d1"));
        Assert.Equal("ArgumentInvalid", ex.ErrorCode);

        _server.Handler = async (_, ctx) =>
        {
            ctx.Response.StatusCode = 403;
            await Microsoft.AspNetCore.Http.HttpResponseWritingExtensions.WriteAsync(ctx.Response, "<html>not json</html>");
        };
        var ex2 = await Assert.ThrowsAsync<IoTHubServiceException>(() => client.GetTwinAsync("d1"));
        Assert.Equal(403, ex2.Status);
        Assert.Equal("GenericForbidden", ex2.ErrorCode);
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("[1,2]")]
    [InlineData("{\"etag\":\"x\"}")]
    [InlineData("")]
    public async Task A_malformed_success_body_is_a_clear_service_error(string body)
    {
        _server.Handler = (_, ctx) => TestHttpsServer.Reply(ctx, 200, body);
        using var client = TestClients.For(_server);

        var ex = await Assert.ThrowsAsync<IoTHubServiceException>(() => client.GetTwinAsync("d1"));

        Assert.Equal("InvalidResponse", ex.ErrorCode);
        Assert.Equal(200, ex.Status);
        Assert.Equal("d1", ex.DeviceId);
    }

    [Fact]
    public async Task Bulk_failure_is_a_result_not_an_exception()
    {
        _server.Handler = (_, ctx) => TestHttpsServer.Reply(
            ctx,
            400,
            """{"isSuccessful":false,"errors":[{"deviceId":"b1","errorCode":"DeviceAlreadyExists","errorStatus":"A device with ID 'b1' is already registered."}],"warnings":[]}""",
            ("iothub-errorcode", "BulkRegistryOperationFailure"));
        using var client = TestClients.For(_server);

        var result = await client.BulkAsync([new ExportImportDevice("b1", ImportMode.Create), new ExportImportDevice("b2", ImportMode.Create)]);

        Assert.False(result.IsSuccessful);
        var error = Assert.Single(result.Errors);
        Assert.Equal("b1", error.DeviceId);
        Assert.Equal("DeviceAlreadyExists", error.ErrorCode);
        var sent = System.Text.Json.Nodes.JsonNode.Parse(_server.Requests[0].Body)!.AsArray();
        Assert.Equal(2, sent.Count);
        Assert.Equal("create", sent[0]!["importMode"]!.GetValue<string>());
        Assert.Equal("b1", sent[0]!["id"]!.GetValue<string>());
    }

    [Fact]
    public async Task Other_bulk_errors_throw()
    {
        _server.Handler = (_, ctx) => TestHttpsServer.ReplyError(ctx, 400, "DeviceDefinedMultipleTimes");
        using var client = TestClients.For(_server);

        var ex = await Assert.ThrowsAsync<IoTHubServiceException>(() => client.BulkAsync([new ExportImportDevice("b1", ImportMode.Delete)]));
        Assert.Equal("DeviceDefinedMultipleTimes", ex.ErrorCode);
    }

    [Theory]
    [InlineData("{\"deviceId\":\"d1\",", "not valid JSON")]
    [InlineData("{\"deviceId\":\"d1\"} {}", "not valid JSON")]
    [InlineData("[{\"deviceId\":\"d1\"}]", "without the expected JSON object (twin)")]
    [InlineData("", "without the expected JSON object (twin)")]
    [InlineData("{\"deviceId\":7,\"etag\":\"x\"}", "a twin without 'deviceId'")]
    [InlineData("{\"tags\":{\"deviceId\":\"nested\"}}", "a twin without 'deviceId'")]
    public async Task A_twin_answer_that_is_not_a_twin_is_an_invalid_response(string body, string expected)
    {
        _server.Handler = (_, ctx) => TestHttpsServer.Reply(ctx, 200, body);
        using var client = TestClients.For(_server);

        var read = await Assert.ThrowsAsync<IoTHubServiceException>(() => client.GetTwinAsync("d1"));
        var written = await Assert.ThrowsAsync<IoTHubServiceException>(
            () => client.UpdateTwinAsync("d1", null, new TwinPatch { Desired = new() { ["x"] = 1 } }));

        foreach (var ex in new[] { read, written })
        {
            Assert.Equal("InvalidResponse", ex.ErrorCode);
            Assert.Equal("d1", ex.DeviceId);
            Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_twin_answer_reads_the_whole_document_the_hub_sent()
    {
        const string body = """{"tags":{"deviceId":"not this one"},"deviceId":"d\u0031","etag":"AAAAAAAAAAE=","version":4,"properties":{"desired":{"x":{"y":[1,2]},"$version":3},"reported":{"$version":1}}}""";
        _server.Handler = (_, ctx) => TestHttpsServer.Reply(ctx, 200, body);
        using var client = TestClients.For(_server);

        var twin = await client.GetTwinAsync("d1");

        Assert.Equal("d1", twin.DeviceId);
        Assert.Equal("AAAAAAAAAAE=", twin.ETag);
        Assert.Equal(4, twin.Version);
        Assert.Equal(3, twin.DesiredVersion);
        Assert.Equal("not this one", twin.Tags["deviceId"]!.GetValue<string>());
        Assert.Equal(2, twin.Desired["x"]!["y"]!.AsArray()[1]!.GetValue<int>());
        Assert.Same(twin.Json, twin.Json);
        Assert.True(System.Text.Json.Nodes.JsonNode.DeepEquals(System.Text.Json.Nodes.JsonNode.Parse(body), twin.Json));
    }
}
