using System.Text.Json.Nodes;
using TwinPS.Client.Device;
using TwinPS.Protocol;

namespace TwinPS.Client.Tests.Device;

/// <summary>Pure pieces of the device client: topic parsing, endpoint resolution, the desired diff.</summary>
public sealed class DeviceProtocolUnitTests
{
    [Theory]
    [InlineData("$iothub/twin/res/204/?$rid=abc&$version=7", 204, "abc", 7L)]
    [InlineData("$iothub/twin/res/200/?$rid=a%20b", 200, "a b", null)]
    [InlineData("$iothub/twin/res/400/?$version=3&$rid=x", 400, "x", 3L)]
    public void Response_topics_are_parsed(string topic, int status, string rid, long? version)
    {
        Assert.True(DeviceTwinTopics.TryParseResponse(topic, out var s, out var r, out var v));
        Assert.Equal(status, s);
        Assert.Equal(rid, r);
        Assert.Equal(version, v);
    }

    [Theory]
    [InlineData("$iothub/twin/res/abc/?$rid=1")]
    [InlineData("$iothub/twin/res/200/")]
    [InlineData("$iothub/twin/PATCH/properties/desired/?$version=2")]
    public void Malformed_or_other_topics_are_not_responses(string topic) =>
        Assert.False(DeviceTwinTopics.TryParseResponse(topic, out _, out _, out _));

    [Fact]
    public void Desired_topic_carries_the_version() =>
        Assert.True(DeviceTwinTopics.TryParseDesired("$iothub/twin/PATCH/properties/desired/?$version=42", out var v) && v == 42);

    [Fact]
    public void The_diff_names_changed_added_and_removed_keys_recursively()
    {
        var before = (JsonObject)JsonNode.Parse("""{"a":1,"b":{"x":1,"y":2},"c":"gone","same":[1,2],"$version":3}""")!;
        var after = (JsonObject)JsonNode.Parse("""{"a":2,"b":{"x":1,"z":3},"same":[1,2],"new":true,"$version":5}""")!;

        var patch = DesiredPropertiesDiff.Compute(before, after);

        Assert.Equal("""{"a":2,"b":{"z":3,"y":null},"new":true,"c":null}""", patch.ToJsonString());
        DesiredPropertiesDiff.Apply(before, patch);
        Assert.True(JsonNode.DeepEquals(DesiredPropertiesDiff.WithoutMetadata(after), DesiredPropertiesDiff.WithoutMetadata(before)));
    }

    [Theory]
    [InlineData("HostName=hub.example;DeviceId=d1;SharedAccessKey=AAAA", null, "hub.example", 8883, "hub.example/d1/?api-version=2021-04-12")]
    [InlineData("HostName=localhost:9883;DeviceId=d1;SharedAccessKey=AAAA", null, "localhost", 9883, "localhost:9883/d1/?api-version=2021-04-12")]
    [InlineData("HostName=localhost;DeviceId=d1;SharedAccessKey=AAAA;GatewayHostName=localhost:9883", null, "localhost", 9883, "localhost/d1/?api-version=2021-04-12")]
    [InlineData("HostName=localhost:8443;DeviceId=d1;ModuleId=m1;SharedAccessKey=AAAA", 1234, "localhost", 1234, "localhost:8443/d1/m1/?api-version=2021-04-12")]
    public void The_endpoint_follows_the_official_SDKs(string cs, int? mqttPort, string dialHost, int port, string userNamePrefix)
    {
        var endpoint = DeviceEndpoint.FromConnectionString(IoTHubConnectionString.Parse(cs), null, new IoTHubDeviceClientOptions { MqttPort = mqttPort });

        Assert.Equal(dialHost, endpoint.DialHost);
        Assert.Equal(port, endpoint.Port);
        Assert.StartsWith(userNamePrefix + "&DeviceClientType=TwinPS%2F", endpoint.UserName, StringComparison.Ordinal);
        var password = endpoint.CreatePassword(TimeSpan.FromHours(1), out var expires);
        Assert.NotNull(expires);
        var token = SharedAccessSignature.Parse(password!);
        Assert.Null(token.KeyName);
        Assert.Equal(Uri.EscapeDataString(IoTHubConnectionString.Parse(cs).SasResource), token.RawResource);
    }

    [Fact]
    public void A_service_connection_string_is_not_a_device() =>
        Assert.Throws<ArgumentException>(() => IoTHubDeviceClient.Create("HostName=h;SharedAccessKeyName=iothubowner;SharedAccessKey=AAAA"));
}
