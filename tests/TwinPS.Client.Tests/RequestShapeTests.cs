using System.Text.Json.Nodes;
using TwinPS.Client.Tests.Infrastructure;
using TwinPS.Protocol;

namespace TwinPS.Client.Tests;

public sealed class RequestShapeTests : IAsyncLifetime
{
    private TestHttpsServer _server = null!;

    public async Task InitializeAsync()
    {
        _server = await TestHttpsServer.StartAsync();
        _server.Handler = (request, ctx) => request.Path.StartsWith("/devices", StringComparison.Ordinal)
            ? TestHttpsServer.Reply(ctx, request.Method == "DELETE" ? 204 : 200, request.Method == "DELETE" ? null : """{"deviceId":"d1","etag":"MQ==","status":"enabled","authentication":{"type":"sas","symmetricKey":{"primaryKey":"","secondaryKey":""}}}""")
            : TestHttpsServer.Reply(ctx, 200, TestClients.TwinJson("d1"));
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Theory]
    [InlineData(null, null)]
    [InlineData("*", "\"*\"")]
    [InlineData("AAAAAAAAAAE=", "\"AAAAAAAAAAE=\"")]
    [InlineData("\"AAAAAAAAAAE=\"", "\"AAAAAAAAAAE=\"")]
    public async Task If_match_is_sent_quoted_or_not_at_all(string? ifMatch, string? expected)
    {
        using var client = TestClients.For(_server);

        await client.UpdateTwinAsync("d1", null, new TwinPatch { Desired = new() { ["a"] = 1 } }, ifMatch);

        Assert.Equal(expected, _server.Requests[0].Header("If-Match"));
        Assert.Equal("PATCH", _server.Requests[0].Method);
    }

    [Fact]
    public async Task Patch_body_carries_tags_desired_and_nulls_that_delete()
    {
        using var client = TestClients.For(_server);
        var patch = new TwinPatch
        {
            Tags = new() { ["location"] = new JsonObject { ["plant"] = "Redmond43" }, ["old"] = null },
            Desired = new() { ["telemetryInterval"] = 30 },
        };

        var twin = await client.UpdateTwinAsync("d1", null, patch);

        Assert.Equal("""{"tags":{"location":{"plant":"Redmond43"},"old":null},"properties":{"desired":{"telemetryInterval":30}}}""", _server.Requests[0].Body);
        Assert.Equal("d1", twin.DeviceId);
        Assert.Equal(1, twin.DesiredVersion);
    }

    [Fact]
    public async Task Clearing_desired_sends_null()
    {
        using var client = TestClients.For(_server);

        await client.UpdateTwinAsync("d1", null, new TwinPatch { ClearDesired = true });

        Assert.Equal("""{"properties":{"desired":null}}""", _server.Requests[0].Body);
    }

    [Fact]
    public async Task Replace_sends_both_sections_and_drops_read_only_metadata()
    {
        using var client = TestClients.For(_server);
        var twin = IoTHubTwin.Parse(TestClients.TwinJson("d1"));
        twin.Desired["mode"] = "eco";

        await client.ReplaceTwinAsync("d1", null, null, twin.Desired, twin.ETag);

        var request = _server.Requests[0];
        Assert.Equal("PUT", request.Method);
        Assert.Equal("""{"tags":{},"properties":{"desired":{"mode":"eco"}}}""", request.Body);
        Assert.Equal("\"AAAAAAAAAAE=\"", request.Header("If-Match"));
    }

    [Fact]
    public async Task Ids_are_url_encoded_in_paths()
    {
        using var client = TestClients.For(_server);

        await client.GetTwinAsync("a#b$c", "$edgeAgent");

        Assert.Equal("/twins/a%23b%24c/modules/%24edgeAgent?api-version=2021-04-12", _server.Requests[0].RawTarget);
    }

    [Fact]
    public async Task Invalid_input_is_refused_before_any_request()
    {
        using var client = TestClients.For(_server);

        var bad = await Assert.ThrowsAsync<TwinValidationException>(() =>
            client.UpdateTwinAsync("d1", null, new TwinPatch { Desired = new() { ["bad.key"] = 1 } }));
        Assert.Contains("bad.key", bad.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<TwinValidationException>(() =>
            client.ReplaceTwinAsync("d1", null, new() { ["x"] = null }, null));
        var deep = new JsonObject();
        var cursor = deep;
        for (var i = 0; i < 12; i++)
        {
            var next = new JsonObject();
            cursor["l" + i] = next;
            cursor = next;
        }

        await Assert.ThrowsAsync<TwinValidationException>(() => client.UpdateTwinAsync("d1", null, new TwinPatch { Tags = deep }));
        // Refused locally with the hub's own code for bad input (exactly this type: not a subtype, not a service error).
        var badId = await Assert.ThrowsAsync<IoTHubProtocolException>(() => client.GetTwinAsync("bad/id"));
        Assert.Equal(IoTHubErrorCode.ArgumentInvalid, badId.Code);
        var longId = await Assert.ThrowsAsync<IoTHubProtocolException>(() => client.GetDeviceAsync(new string('x', 129)));
        Assert.Equal(IoTHubErrorCode.ArgumentInvalid, longId.Code);
        var badKey = new DeviceIdentity("d1");
        badKey.SetSymmetricKeys("dG9vc2hvcnQ=", "dG9vc2hvcnQ=");
        var shortKey = await Assert.ThrowsAsync<IoTHubProtocolException>(() => client.CreateDeviceAsync(badKey));
        Assert.Equal(IoTHubErrorCode.ArgumentInvalid, shortKey.Code);
        var badThumb = new DeviceIdentity("d1") { AuthenticationType = DeviceAuthenticationType.SelfSigned, PrimaryThumbprint = "AB:CD" };
        var thumb = await Assert.ThrowsAsync<IoTHubProtocolException>(() => client.CreateDeviceAsync(badThumb));
        Assert.Equal(IoTHubErrorCode.ArgumentInvalid, thumb.Code);
        await Assert.ThrowsAsync<ArgumentException>(() => client.BulkAsync(Enumerable.Range(0, 101).Select(i => new ExportImportDevice($"d{i}", ImportMode.Create))));

        Assert.Empty(_server.Requests);
    }

    [Fact]
    public async Task Create_device_asks_the_hub_for_keys_and_sends_no_if_match()
    {
        using var client = TestClients.For(_server);

        await client.CreateDeviceAsync(new DeviceIdentity("d1") { IsEdge = true, Status = "disabled", StatusReason = "new" });

        var request = _server.Requests[0];
        Assert.Equal("PUT", request.Method);
        Assert.Null(request.Header("If-Match"));
        var body = JsonNode.Parse(request.Body)!;
        Assert.Equal("d1", body["deviceId"]!.GetValue<string>());
        Assert.Equal("disabled", body["status"]!.GetValue<string>());
        Assert.Equal("sas", body["authentication"]!["type"]!.GetValue<string>());
        Assert.Equal(string.Empty, body["authentication"]!["symmetricKey"]!["primaryKey"]!.GetValue<string>());
        Assert.True(body["capabilities"]!["iotEdge"]!.GetValue<bool>());
    }

    [Fact]
    public async Task Create_x509_device_sends_thumbprints()
    {
        using var client = TestClients.For(_server);
        var thumb = new string('A', 40);

        await client.CreateDeviceAsync(new DeviceIdentity("d1") { AuthenticationType = DeviceAuthenticationType.SelfSigned, PrimaryThumbprint = thumb, SecondaryThumbprint = thumb });

        var auth = JsonNode.Parse(_server.Requests[0].Body)!["authentication"]!;
        Assert.Equal("selfSigned", auth["type"]!.GetValue<string>());
        Assert.Equal(thumb, auth["x509Thumbprint"]!["primaryThumbprint"]!.GetValue<string>());
        Assert.Null(auth["symmetricKey"]);
    }

    [Fact]
    public async Task Delete_and_update_send_if_match()
    {
        using var client = TestClients.For(_server);
        var device = new DeviceIdentity("d1") { ETag = "MQ==" };
        device.SetSymmetricKeys(TestClients.Key, TestClients.Key);

        await client.UpdateDeviceAsync(device);
        await client.DeleteDeviceAsync("d1", "*");

        Assert.Equal("\"MQ==\"", _server.Requests[0].Header("If-Match"));
        Assert.Equal("DELETE", _server.Requests[1].Method);
        Assert.Equal("\"*\"", _server.Requests[1].Header("If-Match"));
    }

    [Fact]
    public async Task Registry_statistics_are_read()
    {
        _server.Handler = (_, ctx) => TestHttpsServer.Reply(ctx, 200, """{"totalDeviceCount":3,"enabledDeviceCount":2,"disabledDeviceCount":1}""");
        using var client = TestClients.For(_server);

        var stats = await client.GetRegistryStatisticsAsync();

        Assert.Equal(new RegistryStatistics(3, 2, 1), stats);
        Assert.Equal("/statistics/devices?api-version=2021-04-12", _server.Requests[0].RawTarget);
    }

    [Fact]
    public async Task Verify_connection_treats_not_found_as_success_and_unauthorized_as_failure()
    {
        _server.Handler = (_, ctx) => TestHttpsServer.ReplyError(ctx, 404, "DeviceNotFound");
        using var client = TestClients.For(_server);
        await client.VerifyConnectionAsync();

        _server.Handler = (_, ctx) => TestHttpsServer.ReplyError(ctx, 401, "IotHubUnauthorizedAccess");
        var ex = await Assert.ThrowsAsync<IoTHubServiceException>(() => client.VerifyConnectionAsync());
        Assert.Equal(401, ex.Status);
    }
}
