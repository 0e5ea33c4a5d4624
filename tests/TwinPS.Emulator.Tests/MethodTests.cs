using System.Net;
using System.Text.Json.Nodes;
using TwinPS.Emulator.Tests.Infrastructure;
using TwinPS.Protocol;
using TwinPS.Testing;

namespace TwinPS.Emulator.Tests;

/// <summary>Direct methods end to end: service REST call → emulator → a raw MQTT device → back.</summary>
public sealed class MethodTests(EmulatorFixture fixture) : IClassFixture<EmulatorFixture>
{
    private static readonly TimeSpan Wait = TimeBounds.Eventually;
    private readonly HubClient _hub = fixture.Owner;

    private static string Body(string name, string payload = "null", int? response = null, int? connect = null)
    {
        var body = new JsonObject { ["methodName"] = name, ["payload"] = JsonNode.Parse(payload) };
        if (response is not null) body["responseTimeoutInSeconds"] = response;
        if (connect is not null) body["connectTimeoutInSeconds"] = connect;
        return body.ToJsonString();
    }

    /// <summary>The inner numeric envelope of the nested method error form.</summary>
    private static JsonObject Inner(HubResponse r) => (JsonObject)JsonNode.Parse((string)r.Obj["Message"]!)!;

    [Fact]
    public async Task An_online_device_answers_and_the_service_gets_status_and_payload()
    {
        string id = Ids.New("m");
        JsonObject identity = await _hub.CreateDeviceAsync(id);
        using RawMqttDevice device = await RawMqttDevice.ConnectAsync(fixture.Emulator, identity);
        string? seenName = null, seenPayload = null;
        device.AnswerMethods((name, payload) =>
        {
            seenName = name;
            seenPayload = payload;
            return (201, """{"rebooting":true,"in":5}""");
        });
        await device.SubscribeAsync("$iothub/methods/POST/#");

        HubResponse r = await _hub.PostAsync($"twins/{id}/methods", Body("reboot", """{"delay":5}""", response: 10));

        Assert.Equal(HttpStatusCode.OK, r.Status);
        Assert.Equal(201, (int)r.Obj["status"]!);
        Assert.True((bool)r.Obj["payload"]!["rebooting"]!);
        Assert.Equal(["payload", "status"], r.Obj.Select(p => p.Key).Order().ToArray());
        Assert.Equal("reboot", seenName);
        Assert.Equal(5, (int)JsonNode.Parse(seenPayload!)!["delay"]!);
    }

    [Fact]
    public async Task A_device_error_status_and_an_empty_answer_are_passed_through_with_HTTP_200()
    {
        string id = Ids.New("m");
        using RawMqttDevice device = await RawMqttDevice.ConnectAsync(fixture.Emulator, await _hub.CreateDeviceAsync(id));
        device.AnswerMethods((name, _) => name == "missing" ? (501, "") : (200, "\"text\""));
        await device.SubscribeAsync("$iothub/methods/POST/#");

        HubResponse notImplemented = await _hub.PostAsync($"twins/{id}/methods", Body("missing"));
        HubResponse text = await _hub.PostAsync($"twins/{id}/methods", Body("echo", "42"));

        Assert.Equal(HttpStatusCode.OK, notImplemented.Status);
        Assert.Equal(501, (int)notImplemented.Obj["status"]!);
        Assert.Null(notImplemented.Obj["payload"]);
        Assert.True(notImplemented.Obj.ContainsKey("payload"));
        Assert.Equal("text", (string)text.Obj["payload"]!);
    }

    [Fact]
    public async Task A_device_that_is_not_connected_is_404103_DeviceNotOnline_at_once()
    {
        string id = Ids.New("m");
        await _hub.CreateDeviceAsync(id);

        HubResponse r = await _hub.PostAsync($"twins/{id}/methods", Body("reboot"));

        Assert.Equal(HttpStatusCode.NotFound, r.Status);
        Assert.Equal("DeviceNotOnline", r.Header("iothub-errorcode"));
        JsonObject inner = Inner(r);
        Assert.Equal(404103, (int)inner["errorCode"]!);
        Assert.Equal("Timed out waiting for device to connect.", (string)inner["message"]!);
        Assert.Equal("00:00:00", (string)inner["info"]!["timeout"]!);
    }

    [Fact]
    public async Task A_connected_device_not_subscribed_to_methods_is_404103()
    {
        string id = Ids.New("m");
        using RawMqttDevice device = await RawMqttDevice.ConnectAsync(fixture.Emulator, await _hub.CreateDeviceAsync(id));
        await device.SubscribeAsync("$iothub/twin/res/#");

        HubResponse r = await _hub.PostAsync($"twins/{id}/methods", Body("reboot"));

        Assert.Equal(HttpStatusCode.NotFound, r.Status);
        Assert.Equal("DeviceNotOnline", r.Header("iothub-errorcode"));
    }

    [Fact]
    public async Task The_connect_timeout_waits_for_a_device_that_subscribes_later()
    {
        string id = Ids.New("m");
        JsonObject identity = await _hub.CreateDeviceAsync(id);
        Task<HubResponse> call = _hub.PostAsync($"twins/{id}/methods", Body("late", response: 20, connect: 20));
        await Task.Delay(TimeBounds.HeadStart); // a head start, so the call is waiting before the device exists (without the wait it would be 404103)
        Assert.False(call.IsCompleted);
        using RawMqttDevice device = await RawMqttDevice.ConnectAsync(fixture.Emulator, identity);
        device.AnswerMethods((_, _) => (200, """{"ok":1}"""));
        await device.SubscribeAsync("$iothub/methods/POST/#");

        HubResponse r = await call;

        Assert.Equal(HttpStatusCode.OK, r.Status);
        Assert.Equal(1, (int)r.Obj["payload"]!["ok"]!);
    }

    [Fact]
    public async Task A_device_that_does_not_answer_is_504101_GatewayTimeout_and_a_late_answer_is_dropped()
    {
        string id = Ids.New("m");
        using RawMqttDevice device = await RawMqttDevice.ConnectAsync(fixture.Emulator, await _hub.CreateDeviceAsync(id));
        await device.SubscribeAsync("$iothub/methods/POST/#");

        HubResponse r = await _hub.PostAsync($"twins/{id}/methods", Body("slow", response: 5));
        (string topic, _) = device.Receive("$iothub/methods/POST/slow/", Wait);

        Assert.Equal(HttpStatusCode.GatewayTimeout, r.Status);
        Assert.Equal("GatewayTimeout", r.Header("iothub-errorcode"));
        Assert.Equal(504101, (int)Inner(r)["errorCode"]!);

        // The late answer goes nowhere; the device stays connected and the next call works.
        Assert.True(DirectMethodTopics.TryParseRequest(topic, out _, out string rid));
        await device.PublishAsync(DirectMethodTopics.Response(200, rid), "{}");
        device.AnswerMethods((_, _) => (200, "1"));
        HubResponse next = await _hub.PostAsync($"twins/{id}/methods", Body("fast"));
        Assert.Equal(HttpStatusCode.OK, next.Status);
    }

    [Theory]
    [InlineData(4, null, "responseTimeoutInSeconds must be within [5; 300].")]
    [InlineData(0, null, "responseTimeoutInSeconds must be within [5; 300].")]
    [InlineData(301, null, "responseTimeoutInSeconds must be within [5; 300].")]
    [InlineData(30, -1, "connectTimeoutInSeconds must be within [0; 300].")]
    [InlineData(10, 20, "cannot be longer than an overall call timeout")]
    public async Task Timeouts_outside_the_allowed_ranges_are_400(int response, int? connect, string message)
    {
        string id = Ids.New("m");
        await _hub.CreateDeviceAsync(id);

        HubResponse r = await _hub.PostAsync($"twins/{id}/methods", Body("x", response: response, connect: connect));

        Assert.Equal(HttpStatusCode.BadRequest, r.Status);
        JsonObject inner = Inner(r);
        Assert.Equal(400004, (int)inner["errorCode"]!);
        Assert.Contains(message, (string)inner["message"]!, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_payload_over_128_KB_is_413_and_never_reaches_the_device()
    {
        string id = Ids.New("m");
        using RawMqttDevice device = await RawMqttDevice.ConnectAsync(fixture.Emulator, await _hub.CreateDeviceAsync(id));
        int calls = 0;
        device.AnswerMethods((_, _) =>
        {
            Interlocked.Increment(ref calls);
            return (200, "null");
        });
        await device.SubscribeAsync("$iothub/methods/POST/#");
        string big = "\"" + new string('x', 128 * 1024) + "\"";
        string fits = "\"" + new string('x', (128 * 1024) - 2) + "\"";

        HubResponse tooLarge = await _hub.PostAsync($"twins/{id}/methods", Body("big", big));
        HubResponse ok = await _hub.PostAsync($"twins/{id}/methods", Body("big", fits));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooLarge.Status);
        Assert.Equal("MessageTooLarge", tooLarge.Header("iothub-errorcode"));
        Assert.Equal(HttpStatusCode.OK, ok.Status);
        Assert.Equal(1, calls);
    }

    [Fact]
    public async Task Unknown_devices_and_modules_are_404_and_a_missing_method_name_is_400()
    {
        string id = Ids.New("m");
        await _hub.CreateDeviceAsync(id);

        HubResponse device = await _hub.PostAsync($"twins/{Ids.New("nobody")}/methods", Body("x"));
        HubResponse module = await _hub.PostAsync($"twins/{id}/modules/nomodule/methods", Body("x"));
        HubResponse noName = await _hub.PostAsync($"twins/{id}/methods", """{"payload":1}""");

        Assert.Equal("DeviceNotFound", device.Header("iothub-errorcode"));
        Assert.Equal("ModuleNotFound", module.Header("iothub-errorcode"));
        Assert.Equal(HttpStatusCode.BadRequest, noName.Status);
    }

    [Fact]
    public async Task Module_methods_reach_the_module_connection_only()
    {
        string id = Ids.New("m");
        JsonObject deviceIdentity = await _hub.CreateDeviceAsync(id);
        HubResponse created = await _hub.PutAsync($"devices/{id}/modules/agent", """{"moduleId":"agent"}""");
        Assert.Equal(HttpStatusCode.OK, created.Status);
        using RawMqttDevice module = await RawMqttDevice.ConnectAsync(fixture.Emulator, created.Obj);
        using RawMqttDevice device = await RawMqttDevice.ConnectAsync(fixture.Emulator, deviceIdentity);
        module.AnswerMethods((name, _) => (200, "\"module:" + name + "\""));
        device.AnswerMethods((name, _) => (200, "\"device:" + name + "\""));
        await module.SubscribeAsync("$iothub/methods/POST/#");
        await device.SubscribeAsync("$iothub/methods/POST/#");

        HubResponse toModule = await _hub.PostAsync($"twins/{id}/modules/agent/methods", Body("ping"));
        HubResponse toDevice = await _hub.PostAsync($"twins/{id}/methods", Body("ping"));

        Assert.Equal("module:ping", (string)toModule.Obj["payload"]!);
        Assert.Equal("device:ping", (string)toDevice.Obj["payload"]!);
    }

    [Fact]
    public async Task Methods_need_ServiceConnect()
    {
        string id = Ids.New("m");
        await _hub.CreateDeviceAsync(id);
        using HubClient registry = fixture.Client("registryReadWrite");

        HubResponse r = await registry.PostAsync($"twins/{id}/methods", Body("x"));

        Assert.Equal(HttpStatusCode.Unauthorized, r.Status);
    }
}
