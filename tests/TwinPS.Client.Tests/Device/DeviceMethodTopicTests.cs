using TwinPS.Client.Device;

namespace TwinPS.Client.Tests.Device;

/// <summary>The direct-method topics of the device protocol.</summary>
public sealed class DeviceMethodTopicTests
{
    [Theory]
    [InlineData("$iothub/methods/POST/reboot/?$rid=1", "reboot", "1")]
    [InlineData("$iothub/methods/POST/component*command/?$rid=a%20b&x=1", "component*command", "a b")]
    public void Request_topics_are_parsed(string topic, string method, string rid)
    {
        Assert.True(DeviceMethodTopics.TryParseRequest(topic, out var m, out var r));
        Assert.Equal(method, m);
        Assert.Equal(rid, r);
    }

    [Theory]
    [InlineData("$iothub/methods/POST//?$rid=1")]
    [InlineData("$iothub/methods/POST/reboot/")]
    [InlineData("$iothub/methods/POST/reboot")]
    [InlineData("$iothub/twin/res/200/?$rid=1")]
    public void Topics_without_a_name_or_request_id_are_not_calls(string topic) =>
        Assert.False(DeviceMethodTopics.TryParseRequest(topic, out _, out _));

    [Fact]
    public void Response_topic_carries_status_and_request_id() =>
        Assert.Equal("$iothub/methods/res/501/?$rid=a%20b", DeviceMethodTopics.Response(501, "a b"));
}
