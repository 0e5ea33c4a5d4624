using TwinPS.Protocol;

namespace TwinPS.Protocol.Tests;

/// <summary>The MQTT names of TwinPS.Protocol, which the device client writes and the emulator reads (and back).</summary>
public sealed class MqttGrammarTests
{
    [Theory]
    [InlineData("1")]
    [InlineData("a b/#+&=?")]
    [InlineData("ümlaut")]
    public void Twin_requests_built_by_a_device_parse_back_on_the_hub(string rid)
    {
        Assert.True(DeviceTwinTopics.TryParseRequest(DeviceTwinTopics.Get(rid), out var kind, out var parsed));
        Assert.Equal((DeviceTwinRequestKind.Get, rid), (kind, parsed));
        Assert.True(DeviceTwinTopics.TryParseRequest(DeviceTwinTopics.PatchReported(rid), out kind, out parsed));
        Assert.Equal((DeviceTwinRequestKind.PatchReported, rid), (kind, parsed));
    }

    [Fact]
    public void Twin_requests_are_written_as_the_reference_spells_them()
    {
        Assert.Equal("$iothub/twin/GET/?$rid=42", DeviceTwinTopics.Get("42"));
        Assert.Equal("$iothub/twin/PATCH/properties/reported/?$rid=a%20b", DeviceTwinTopics.PatchReported("a b"));
    }

    [Theory]
    [InlineData("$iothub/twin/GET/", DeviceTwinRequestKind.Get, null)]
    [InlineData("$iothub/twin/GET/?", DeviceTwinRequestKind.Get, null)]
    [InlineData("$iothub/twin/GET/?foo=1&$rid=9&$rid=10", DeviceTwinRequestKind.Get, "9")]
    [InlineData("$iothub/twin/PATCH/properties/reported/?$version=3&$rid=x", DeviceTwinRequestKind.PatchReported, "x")]
    public void Twin_requests_from_other_clients_are_read_leniently(string topic, DeviceTwinRequestKind expectedKind, string? expectedRid)
    {
        Assert.True(DeviceTwinTopics.TryParseRequest(topic, out var kind, out var rid));
        Assert.Equal(expectedKind, kind);
        Assert.Equal(expectedRid, rid);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("$iothub/twin/GET")]
    [InlineData("$iothub/twin/GET/x?$rid=1")]
    [InlineData("$iothub/twin/PATCH/properties/reported/more/?$rid=1")]
    [InlineData("$iothub/twin/PATCH/properties/desired/?$rid=1")]
    [InlineData("$iothub/twin/res/200/?$rid=1")]
    [InlineData("devices/d1/messages/events/")]
    public void Other_topics_are_not_twin_requests(string? topic) =>
        Assert.False(DeviceTwinTopics.TryParseRequest(topic, out _, out _));

    [Theory]
    [InlineData(200, "r-1", null, "$iothub/twin/res/200/?$rid=r-1")]
    [InlineData(204, "a b", 7L, "$iothub/twin/res/204/?$rid=a%20b&$version=7")]
    [InlineData(429, "x", null, "$iothub/twin/res/429/?$rid=x")]
    public void Twin_responses_built_by_the_hub_parse_back_on_the_device(int status, string rid, long? version, string expected)
    {
        var topic = DeviceTwinTopics.Response(status, rid, version);

        Assert.Equal(expected, topic);
        Assert.True(DeviceTwinTopics.TryParseResponse(topic, out var s, out var r, out var v));
        Assert.Equal((status, rid, version), (s, r, v));
    }

    [Theory]
    [InlineData("$iothub/twin/res/abc/?$rid=1")]
    [InlineData("$iothub/twin/res/-1/?$rid=1")]
    [InlineData("$iothub/twin/res/200/")]
    [InlineData("$iothub/twin/res//?$rid=1")]
    [InlineData("$iothub/twin/GET/?$rid=1")]
    public void Malformed_responses_are_refused(string topic) =>
        Assert.False(DeviceTwinTopics.TryParseResponse(topic, out _, out _, out _));

    [Fact]
    public void Desired_notifications_round_trip()
    {
        var topic = DeviceTwinTopics.DesiredNotification(4503599627370496);

        Assert.Equal("$iothub/twin/PATCH/properties/desired/?$version=4503599627370496", topic);
        Assert.True(DeviceTwinTopics.TryParseDesired(topic, out var version));
        Assert.Equal(4503599627370496, version);
        Assert.True(DeviceTwinTopics.TryParseDesired("$iothub/twin/PATCH/properties/desired/?$version=x", out version));
        Assert.Null(version);
        Assert.False(DeviceTwinTopics.TryParseDesired("$iothub/twin/PATCH/properties/reported/?$version=1", out _));
    }

    [Fact]
    public void Subscription_filters_cover_the_topics_they_announce()
    {
        Assert.Equal(DeviceTwinTopics.ResponsePrefix + "#", DeviceTwinTopics.ResponseFilter);
        Assert.Equal(DeviceTwinTopics.DesiredPrefix + "#", DeviceTwinTopics.DesiredFilter);
        Assert.StartsWith(DeviceTwinTopics.ResponsePrefix, DeviceTwinTopics.Response(200, "1"), StringComparison.Ordinal);
        Assert.StartsWith(DeviceTwinTopics.DesiredPrefix, DeviceTwinTopics.DesiredNotification(1), StringComparison.Ordinal);
    }

    [Fact]
    public void Topic_queries_decode_keep_the_first_key_and_leave_bad_escapes_as_written()
    {
        var query = TopicQuery.Parse("?$rid=a%2Fb&bad=%zz&$rid=2&flag&$version=3");

        Assert.Equal("a/b", query["$rid"]);
        Assert.Equal(string.Empty, query["flag"]);
        Assert.Equal("3", query["$version"]);
        Assert.Equal("%zz", query["bad"]);
        Assert.Equal("$rid=a%2Fb", TopicQuery.WithRequestId("a/b"));
    }

    [Theory]
    [InlineData("devices/d1/messages/events/", "d1", null, true)]
    [InlineData("devices/d1/messages/events", "d1", null, true)]
    [InlineData("devices/d1/messages/events/%24.ct=application%2Fjson", "d1", null, true)]
    [InlineData("devices/d2/messages/events/", "d1", null, false)]
    [InlineData("devices/d1/modules/m1/messages/events/", "d1", "m1", true)]
    [InlineData("devices/d1/messages/events/", "d1", "m1", false)]
    [InlineData("devices/d1/messages/devicebound/", "d1", null, false)]
    public void Telemetry_topics_belong_to_their_identity(string topic, string deviceId, string? moduleId, bool expected) =>
        Assert.Equal(expected, DeviceMessageTopics.IsTelemetry(topic, deviceId, moduleId));

    [Fact]
    public void Message_filters_name_the_identity()
    {
        Assert.Equal("devices/d1/messages/devicebound/#", DeviceMessageTopics.CloudToDeviceFilter("d1"));
        Assert.Equal("devices/d1/modules/m1/inputs/#", DeviceMessageTopics.ModuleInputsFilter("d1", "m1"));
        Assert.Equal("devices/d1/modules/m1/messages/events/", DeviceMessageTopics.TelemetryPrefix("d1", "m1"));
    }

    [Theory]
    [InlineData("d1", null, "d1")]
    [InlineData("d1", "m1", "d1/m1")]
    [InlineData("a-b:c", "$edgeAgent", "a-b:c/$edgeAgent")]
    public void Client_ids_round_trip(string deviceId, string? moduleId, string expected)
    {
        var clientId = DeviceMqttNames.ClientId(deviceId, moduleId);

        Assert.Equal(expected, clientId);
        Assert.True(DeviceMqttNames.TrySplitClientId(clientId, out var d, out var m));
        Assert.Equal((deviceId, moduleId), (d, m));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("a/b/c")]
    [InlineData("/m1")]
    [InlineData("d 1")]
    public void Bad_client_ids_are_refused(string? clientId) =>
        Assert.False(DeviceMqttNames.TrySplitClientId(clientId, out _, out _));

    [Fact]
    public void User_names_carry_the_api_version_and_the_user_agent_and_are_read_back()
    {
        var name = DeviceMqttNames.UserName("hub.example:8883", "d1/m1", "TwinPS/1.0 (x; y)");

        Assert.Equal("hub.example:8883/d1/m1/?api-version=2021-04-12&DeviceClientType=TwinPS%2F1.0%20%28x%3B%20y%29", name);
        Assert.True(DeviceMqttNames.UserNameNames(name, "d1", "m1", out _));
        Assert.False(DeviceMqttNames.UserNameNames(name, "d1", null, out var problem));
        Assert.Contains("same identity", problem, StringComparison.Ordinal);
        Assert.Equal("hub/d1/?api-version=2021-04-12", DeviceMqttNames.UserName("hub", "d1", null));
    }

    [Theory]
    [InlineData("hub/d1/?api-version=2021-04-12", true)]
    [InlineData("hub/d1/api-version=2018-06-30", true)]
    [InlineData("hub/d1", true)]
    [InlineData("hub/d2/?api-version=2021-04-12", false)]
    [InlineData("/d1/?api-version=2021-04-12", false)]
    [InlineData("", false)]
    public void User_names_from_other_clients_are_read_leniently(string userName, bool names) =>
        Assert.Equal(names, DeviceMqttNames.UserNameNames(userName, "d1", null, out _));

    [Fact]
    public void The_current_api_version_is_one_the_service_accepts()
    {
        Assert.Equal("2021-04-12", IoTHubApiVersion.Current);
        Assert.Contains(IoTHubApiVersion.Current, IoTHubApiVersion.Accepted);
        Assert.DoesNotContain("2021-04-13", IoTHubApiVersion.Accepted);
    }
}
