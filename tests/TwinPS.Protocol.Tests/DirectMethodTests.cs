using System.Text.Json.Nodes;
using TwinPS.Protocol;

namespace TwinPS.Protocol.Tests;

public sealed class DirectMethodTests
{
    [Fact]
    public void Parse_applies_the_defaults_and_ignores_unknown_fields()
    {
        var request = DirectMethodRequest.Parse((JsonObject)JsonNode.Parse("""{"methodName":"reboot","payload":{"a":1},"timeoutInSeconds":99}""")!);

        Assert.Equal("reboot", request.MethodName);
        Assert.Equal(30, request.ResponseTimeoutInSeconds);
        Assert.Equal(0, request.ConnectTimeoutInSeconds);
        Assert.Equal(1, (int)request.Payload!["a"]!);
        Assert.Equal(1, request.ThrottleUnits);
    }

    [Theory]
    [InlineData("""{"methodName":"m","responseTimeoutInSeconds":0}""")]
    [InlineData("""{"methodName":"m","responseTimeoutInSeconds":301}""")]
    [InlineData("""{"methodName":"m","responseTimeoutInSeconds":5.5}""")]
    [InlineData("""{"methodName":"m","responseTimeoutInSeconds":"30"}""")]
    [InlineData("""{"methodName":"m","connectTimeoutInSeconds":31}""")]
    [InlineData("""{"methodName":"a/b"}""")]
    [InlineData("""{"methodName":""}""")]
    [InlineData("""{"payload":1}""")]
    public void Bad_requests_are_ArgumentInvalid(string json)
    {
        var ex = Assert.Throws<IoTHubProtocolException>(() => DirectMethodRequest.Parse((JsonObject)JsonNode.Parse(json)!));
        Assert.Equal(IoTHubErrorCode.ArgumentInvalid, ex.Code);
    }

    [Fact]
    public void Payload_size_is_limited_to_128_KB_and_metered_in_4_KB_steps()
    {
        var fits = JsonValue.Create(new string('x', (128 * 1024) - 2));
        var tooBig = JsonValue.Create(new string('x', 128 * 1024));

        Assert.Equal(32, DirectMethodRequest.Create("m", fits).ThrottleUnits);
        Assert.Equal(2, DirectMethodRequest.Create("m", JsonValue.Create(new string('x', 4095))).ThrottleUnits);
        Assert.Equal(IoTHubErrorCode.MessageTooLarge, Assert.Throws<IoTHubProtocolException>(() => DirectMethodRequest.Create("m", tooBig)).Code);
    }

    [Fact]
    public void Topics_round_trip()
    {
        Assert.True(DirectMethodTopics.TryParseRequest(DirectMethodTopics.Request("reboot", "1a"), out string name, out string rid));
        Assert.Equal(("reboot", "1a"), (name, rid));
        Assert.True(DirectMethodTopics.TryParseResponse("$iothub/methods/res/404/?$rid=7", out int status, out rid));
        Assert.Equal((404, "7"), (status, rid));
        Assert.False(DirectMethodTopics.TryParseResponse("$iothub/methods/res/abc/?$rid=7", out _, out _));
        Assert.False(DirectMethodTopics.TryParseResponse("$iothub/methods/res/200/", out _, out _));
    }

    [Fact]
    public void Device_bodies_become_payloads()
    {
        Assert.Null(DirectMethodResponse.FromDeviceBody(200, []).Payload);
        Assert.Equal(3, (int)DirectMethodResponse.FromDeviceBody(200, "3"u8).Payload!);
        Assert.Equal("not json", (string)DirectMethodResponse.FromDeviceBody(200, "not json"u8).Payload!);
        Assert.Equal(IoTHubErrorCode.MessageTooLarge, Assert.Throws<IoTHubProtocolException>(() => DirectMethodResponse.FromDeviceBody(200, new byte[(128 * 1024) + 1])).Code);
    }
}
