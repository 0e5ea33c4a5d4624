using System.Text.Json.Nodes;
using TwinPS.Protocol;

namespace TwinPS.Protocol.Tests;

public class TwinPatchBodyTests
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Read_only_fields_a_client_echoes_are_ignored()
    {
        const string body = "{\"deviceId\":\"d1\",\"etag\":null,\"version\":null,\"status\":\"enabled\",\"tags\":{\"a\":1},"
            + "\"properties\":{\"desired\":{\"x\":2,\"$metadata\":{\"$lastUpdated\":\"2020-01-01T00:00:00Z\"},\"$version\":7},"
            + "\"reported\":{\"$metadata\":{\"$lastUpdated\":\"2020-01-01T00:00:00Z\"},\"$version\":3}}}";
        var parsed = TwinPatchBody.Parse(body);
        Assert.Equal("{\"a\":1}", parsed.Tags!.ToJsonString());
        Assert.Equal("{\"x\":2}", parsed.Desired!.ToJsonString());
        Assert.False(parsed.HasReported);
        Assert.False(parsed.DesiredIsNull);
        Assert.False(parsed.TagsIsNull);
    }

    [Fact]
    public void Csharp_v1_shape_with_empty_reported_is_accepted()
    {
        var parsed = TwinPatchBody.Parse("{\"deviceId\":\"d1\",\"etag\":null,\"version\":null,\"properties\":{\"desired\":{},\"reported\":{}}}");
        Assert.Null(parsed.Tags);
        Assert.NotNull(parsed.Desired);
        Assert.Empty(parsed.Desired!);
    }

    [Fact]
    public void Non_empty_reported_is_rejected_unless_allowed()
    {
        const string body = "{\"properties\":{\"reported\":{\"fw\":1}}}";
        var ex = Assert.Throws<TwinValidationException>(() => TwinPatchBody.Parse(body));
        Assert.Equal("properties.reported", ex.Path);
        Assert.Contains("read-only for the service", ex.Message, StringComparison.Ordinal);
        var allowed = TwinPatchBody.Parse(body, allowReported: true);
        Assert.True(allowed.HasReported);
        Assert.Equal("{\"fw\":1}", allowed.Reported!.ToJsonString());
    }

    [Fact]
    public void Null_sections_are_flags_in_patch_and_empty_in_replace()
    {
        var patch = TwinPatchBody.Parse("{\"tags\":null,\"properties\":{\"desired\":null}}");
        Assert.True(patch.TagsIsNull);
        Assert.True(patch.DesiredIsNull);
        Assert.Null(patch.Desired);

        var replace = TwinPatchBody.Parse("{\"tags\":null,\"properties\":{\"desired\":null}}", TwinWriteMode.Replace);
        Assert.False(replace.DesiredIsNull);
        Assert.Empty(replace.Desired!);
        Assert.Empty(replace.Tags!);
    }

    [Theory]
    [InlineData("{\"tags\":5}", "tags")]
    [InlineData("{\"properties\":[]}", "properties")]
    [InlineData("{\"properties\":{\"desired\":\"x\"}}", "properties.desired")]
    [InlineData("{\"properties\":{\"reported\":1}}", "properties.reported")]
    [InlineData("{\"tags\":{\"a.b\":1}}", "tags.a.b")]
    [InlineData("{\"properties\":{\"desired\":{\"$other\":1}}}", "properties.desired.$other")]
    [InlineData("{\"tags\":{},\"Tags\":{}}", "tags")]
    public void Bad_sections_name_the_path(string body, string path)
    {
        var ex = Assert.Throws<TwinValidationException>(() => TwinPatchBody.Parse(body));
        Assert.Equal(path, ex.Path);
    }

    [Fact]
    public void Replace_mode_rejects_nulls_with_the_hub_message()
    {
        var ex = Assert.Throws<TwinValidationException>(() => TwinPatchBody.Parse("{\"tags\":{\"my-tag\":null}}", TwinWriteMode.Replace));
        Assert.Equal("Value of Property or Tag cannot be null. Error in Property/Tag tags.my-tag", ex.Message);
    }

    [Theory]
    [InlineData("{", IoTHubErrorCode.IotHubFormatError)]
    [InlineData("", IoTHubErrorCode.IotHubFormatError)]
    [InlineData("[1]", IoTHubErrorCode.IotHubFormatError)]
    [InlineData("null", IoTHubErrorCode.IotHubFormatError)]
    public void Malformed_bodies_are_format_errors(string body, IoTHubErrorCode code)
    {
        var ex = Assert.Throws<IoTHubProtocolException>(() => TwinPatchBody.Parse(body));
        Assert.Equal(code, ex.Code);
    }

    [Fact]
    public void Property_names_are_matched_case_insensitively()
    {
        var parsed = TwinPatchBody.Parse("{\"Tags\":{\"a\":1},\"Properties\":{\"Desired\":{\"b\":2}}}");
        Assert.NotNull(parsed.Tags);
        Assert.NotNull(parsed.Desired);
    }

    [Fact]
    public void A_twin_read_and_sent_back_with_put_replaces_cleanly()
    {
        var twin = TwinState.Create(T0);
        twin.ApplyPatch(JsonNode.Parse("{\"loc\":\"x\"}")!.AsObject(), JsonNode.Parse("{\"a\":{\"b\":1}}")!.AsObject(), false, T0);
        twin.PatchReported(JsonNode.Parse("{\"r\":1}")!.AsObject(), T0);
        var json = twin.ToTwinJson(new TwinIdentityMirror { DeviceId = "d1", DeviceEtag = "MQ==" });
        json["properties"]!["reported"] = JsonNode.Parse("{\"$version\":2}");
        var body = TwinPatchBody.Parse(json, TwinWriteMode.Replace);
        var notification = twin.Replace(body, T0);
        Assert.Equal("{\"a\":{\"b\":1},\"$version\":3}", notification.ToJsonString());
        Assert.Equal("{\"loc\":\"x\"}", twin.Tags.ToJsonString());

        var patchBody = TwinPatchBody.Parse("{\"properties\":{\"desired\":{\"a\":null}}}");
        Assert.Equal("{\"a\":null,\"$version\":4}", twin.ApplyPatch(patchBody, T0)!.ToJsonString());
    }

    [Theory]
    [InlineData("{\"tags\":{\"location\":{\"plant\":\"Redmond43\",\"region\":\"US\"}},\"properties\":{\"desired\":{\"telemetryInterval\":30}}}")]
    [InlineData("{\"tags\":{\"location\":{\"plant\":\"Redmond43\",\"region\":\"EU\"}},\"properties\":{\"desired\":{\"telemetryInterval\":31}},\"etag\":\"AAAAAAAAAAM=\"}")]
    [InlineData("{\"etag\":\"*\",\"tags\":{\"location\":{\"plant\":\"Redmond43\",\"region\":\"US\"}},\"properties\":{\"desired\":{\"telemetryInterval\":30}}}")]
    public void Bodies_the_official_sdks_send_are_accepted(string body)
    {
        foreach (var mode in Enum.GetValues<TwinWriteMode>())
        {
            var parsed = TwinPatchBody.Parse(body, mode);
            Assert.Equal("Redmond43", (string?)parsed.Tags!["location"]!["plant"]);
            Assert.NotNull(parsed.Desired!["telemetryInterval"]);
        }
    }
}
