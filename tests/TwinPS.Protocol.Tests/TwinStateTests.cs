using System.Text.Json.Nodes;
using TwinPS.Protocol;

namespace TwinPS.Protocol.Tests;

public class TwinStateTests
{
    private static readonly DateTimeOffset T0 = new(2019, 12, 29, 0, 58, 49, 931, TimeSpan.Zero);
    private static readonly DateTimeOffset T1 = T0.AddMinutes(1).AddTicks(5265);

    private static JsonObject Obj(string json) => JsonNode.Parse(json)!.AsObject();

    private static void AssertJson(string expected, JsonNode? actual) =>
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(expected), actual), $"expected {expected} but got {actual?.ToJsonString()}");

    private static readonly TwinIdentityMirror Mirror = new() { DeviceId = "d1", DeviceEtag = "MQ==" };

    [Fact]
    public void Fresh_twin_matches_the_documented_sample()
    {
        var twin = TwinState.Create(T0);
        Assert.Equal("AAAAAAAAAAE=", twin.ETag);
        Assert.Equal(1, twin.DesiredVersion);
        Assert.Equal(1, twin.ReportedVersion);
        Assert.Equal(2, twin.Version);
        var json = twin.ToTwinJson(Mirror).ToJsonString();
        Assert.Equal(
            "{\"deviceId\":\"d1\",\"etag\":\"AAAAAAAAAAE=\",\"deviceEtag\":\"MQ==\",\"status\":\"enabled\",\"statusUpdateTime\":\"0001-01-01T00:00:00Z\","
            + "\"connectionState\":\"Disconnected\",\"lastActivityTime\":\"0001-01-01T00:00:00Z\",\"cloudToDeviceMessageCount\":0,\"authenticationType\":\"sas\","
            + "\"x509Thumbprint\":{\"primaryThumbprint\":null,\"secondaryThumbprint\":null},\"modelId\":\"\",\"version\":2,\"tags\":{},"
            + "\"properties\":{\"desired\":{\"$metadata\":{\"$lastUpdated\":\"2019-12-29T00:58:49.9310000Z\"},\"$version\":1},"
            + "\"reported\":{\"$metadata\":{\"$lastUpdated\":\"2019-12-29T00:58:49.9310000Z\"},\"$version\":1}},\"capabilities\":{\"iotEdge\":false}}",
            json);
    }

    [Fact]
    public void Module_twin_and_optional_mirror_fields_render_in_order()
    {
        var mirror = Mirror with
        {
            ModuleId = "m1",
            StatusReason = "maintenance",
            DeviceScope = "ms-azure-iot-edge://d1-1",
            ParentScopes = ["ms-azure-iot-edge://p-2"],
            PrimaryThumbprint = new string('A', 40),
            IotEdge = true,
            ConnectionState = "Connected",
        };
        var twin = TwinState.Create(T0).ToTwinJson(mirror);
        var names = twin.Select(p => p.Key).ToArray();
        Assert.Equal(
            ["deviceId", "moduleId", "etag", "deviceEtag", "status", "statusReason", "statusUpdateTime", "connectionState", "lastActivityTime",
             "cloudToDeviceMessageCount", "authenticationType", "x509Thumbprint", "modelId", "version", "tags", "properties", "capabilities",
             "deviceScope", "parentScopes"],
            names);
        Assert.Equal("m1", (string?)twin["moduleId"]);
        Assert.True((bool)twin["capabilities"]!["iotEdge"]!);
        Assert.Equal("ms-azure-iot-edge://p-2", (string?)twin["parentScopes"]![0]);

        var noStatus = TwinState.Create(T0).ToTwinJson(Mirror with { Status = null });
        Assert.False(noStatus.ContainsKey("status"));
    }

    [Fact]
    public void Etag_moves_on_tags_and_desired_writes_but_not_on_reported()
    {
        var twin = TwinState.Create(T0);
        Assert.Null(twin.ApplyPatch(Obj("{\"loc\":\"x\"}"), null, false, T1));
        Assert.Equal("AAAAAAAAAAI=", twin.ETag);
        Assert.Equal(1, twin.DesiredVersion);

        twin.ApplyPatch(null, Obj("{\"a\":1}"), false, T1);
        Assert.Equal("AAAAAAAAAAM=", twin.ETag);

        twin.PatchReported(Obj("{\"r\":1}"), T1);
        Assert.Equal("AAAAAAAAAAM=", twin.ETag);

        Assert.Null(twin.ApplyPatch(null, null, false, T1));
        Assert.Equal("AAAAAAAAAAM=", twin.ETag);
        Assert.True(TwinJson.TryParseTwinEtag("\"AAAAAAAAAAM=\"", out var counter));
        Assert.Equal(3, counter);
    }

    [Fact]
    public void Desired_version_goes_up_by_one_per_write_and_notification_is_exactly_the_patch()
    {
        var twin = TwinState.Create(T0);
        var n1 = twin.ApplyPatch(null, Obj("{\"a\":-1,\"gone\":null}"), false, T1);
        AssertJson("{\"a\":-1,\"gone\":null,\"$version\":2}", n1);
        var n2 = twin.ApplyPatch(Obj("{\"t\":1}"), Obj("{\"a\":-1}"), false, T1);
        AssertJson("{\"a\":-1,\"$version\":3}", n2);
        var n3 = twin.ApplyPatch(null, new JsonObject(), false, T1);
        AssertJson("{\"$version\":4}", n3);
        Assert.Equal(4, twin.DesiredVersion);
        Assert.Equal(5, twin.Version);
        AssertJson("{\"a\":-1}", twin.Desired);
    }

    [Fact]
    public void Desired_metadata_has_last_updated_and_version_at_every_level()
    {
        var twin = TwinState.Create(T0);
        twin.ApplyPatch(null, Obj("{\"a\":{\"b\":{\"c\":1},\"arr\":[1]},\"s\":\"x\"}"), false, T1);
        var stamp = TwinJson.FormatTimestamp(T1);
        Assert.Equal("2019-12-29T00:59:49.9315265Z", stamp);
        AssertJson(
            $"{{\"$lastUpdated\":\"{stamp}\",\"$lastUpdatedVersion\":2,"
            + $"\"a\":{{\"$lastUpdated\":\"{stamp}\",\"$lastUpdatedVersion\":2,"
            + $"\"b\":{{\"$lastUpdated\":\"{stamp}\",\"$lastUpdatedVersion\":2,\"c\":{{\"$lastUpdated\":\"{stamp}\",\"$lastUpdatedVersion\":2}}}},"
            + $"\"arr\":{{\"$lastUpdated\":\"{stamp}\",\"$lastUpdatedVersion\":2}}}},"
            + $"\"s\":{{\"$lastUpdated\":\"{stamp}\",\"$lastUpdatedVersion\":2}}}}",
            twin.DesiredMetadata);

        // A later patch touching only a.b.c re-stamps that path and keeps the rest.
        var t2 = T1.AddSeconds(1);
        twin.ApplyPatch(null, Obj("{\"a\":{\"b\":{\"c\":2}}}"), false, t2);
        var meta = twin.DesiredMetadata;
        Assert.Equal(3, (long)meta["a"]!["b"]!["c"]!["$lastUpdatedVersion"]!);
        Assert.Equal(3, (long)meta["a"]!["$lastUpdatedVersion"]!);
        Assert.Equal(2, (long)meta["s"]!["$lastUpdatedVersion"]!);
        Assert.Equal(2, (long)meta["a"]!["arr"]!["$lastUpdatedVersion"]!);
        Assert.Equal(TwinJson.FormatTimestamp(t2), (string?)meta["$lastUpdated"]);

        // Deleting removes the metadata subtree.
        twin.ApplyPatch(null, Obj("{\"a\":{\"b\":null}}"), false, t2);
        Assert.Null(twin.DesiredMetadata["a"]!["b"]);
        AssertJson("{\"arr\":[1]}", twin.Desired["a"]);
    }

    [Fact]
    public void Rendered_twin_carries_metadata_and_versions_inside_each_section()
    {
        var twin = TwinState.Create(T0);
        twin.ApplyPatch(Obj("{\"location\":{\"plant\":\"Redmond43\"}}"), Obj("{\"telemetryInterval\":30}"), false, T1);
        twin.PatchReported(Obj("{\"fw\":\"1.2\"}"), T1);
        var json = twin.ToTwinJson(Mirror);
        Assert.Equal(4, (long)json["version"]!);
        AssertJson("{\"location\":{\"plant\":\"Redmond43\"}}", json["tags"]);
        var desired = json["properties"]!["desired"]!.AsObject();
        Assert.Equal(["telemetryInterval", "$metadata", "$version"], desired.Select(p => p.Key).ToArray());
        Assert.Equal(2, (long)desired["$version"]!);
        var reported = json["properties"]!["reported"]!.AsObject();
        Assert.Equal(2, (long)reported["$version"]!);
        Assert.Null(reported["$metadata"]!["fw"]!["$lastUpdatedVersion"]);
        Assert.NotNull(reported["$metadata"]!["fw"]!["$lastUpdated"]);
    }

    [Fact]
    public void Reported_patch_returns_new_version_and_merges()
    {
        var twin = TwinState.Create(T0);
        Assert.Equal(2, twin.PatchReported(Obj("{\"battery\":{\"level\":87},\"fw\":\"1\"}"), T1));
        Assert.Equal(3, twin.PatchReported(Obj("{\"battery\":{\"level\":null},\"fw\":null}"), T1));
        AssertJson("{\"battery\":{}}", twin.Reported);
        Assert.Equal(4, twin.PatchReported(new JsonObject(), T1));
    }

    [Fact]
    public void Desired_null_clears_everything_and_notifies_removed_keys()
    {
        var twin = TwinState.Create(T0);
        twin.ApplyPatch(null, Obj("{\"a\":1,\"b\":{\"c\":2}}"), false, T1);
        var notification = twin.ApplyPatch(null, null, desiredIsNull: true, T1);
        AssertJson("{\"a\":null,\"b\":null,\"$version\":3}", notification);
        Assert.Empty(twin.Desired);
        Assert.Null(twin.DesiredMetadata["a"]);
        Assert.Equal(3, (long)twin.DesiredMetadata["$lastUpdatedVersion"]!);
    }

    [Fact]
    public void Tags_null_clears_all_tags()
    {
        var twin = TwinState.Create(T0);
        twin.ApplyPatch(Obj("{\"a\":1}"), null, false, T1);
        Assert.Null(twin.ApplyPatch(null, tagsIsNull: true, null, false, T1));
        Assert.Empty(twin.Tags);
        Assert.Equal(3, twin.ETagCounter);
    }

    [Fact]
    public void Replace_notifies_new_document_with_removed_keys_as_null()
    {
        var twin = TwinState.Create(T0);
        twin.ApplyPatch(Obj("{\"old\":1}"), Obj("{\"a\":1,\"b\":2,\"n\":{\"x\":1,\"y\":2}}"), false, T1);
        var notification = twin.Replace(Obj("{\"new\":2}"), Obj("{\"a\":1,\"c\":100,\"n\":{\"x\":1}}"), T1);
        AssertJson("{\"a\":1,\"c\":100,\"n\":{\"x\":1,\"y\":null},\"b\":null,\"$version\":3}", notification);
        AssertJson("{\"a\":1,\"c\":100,\"n\":{\"x\":1}}", twin.Desired);
        AssertJson("{\"new\":2}", twin.Tags);
        Assert.Null(twin.DesiredMetadata["b"]);
        Assert.Null(twin.DesiredMetadata["n"]!["y"]);
        Assert.NotNull(twin.DesiredMetadata["c"]);
        Assert.Equal("AAAAAAAAAAM=", twin.ETag);
    }

    [Fact]
    public void Replace_with_missing_sections_empties_them_but_keeps_reported()
    {
        var twin = TwinState.Create(T0);
        twin.ApplyPatch(Obj("{\"t\":1}"), Obj("{\"d\":1}"), false, T1);
        twin.PatchReported(Obj("{\"r\":1}"), T1);
        var notification = twin.Replace(null, null, T1);
        AssertJson("{\"d\":null,\"$version\":3}", notification);
        Assert.Empty(twin.Tags);
        Assert.Empty(twin.Desired);
        AssertJson("{\"r\":1}", twin.Reported);
    }

    [Fact]
    public void Replace_rejects_null_values_and_changes_nothing()
    {
        var twin = TwinState.Create(T0);
        twin.ApplyPatch(Obj("{\"t\":1}"), Obj("{\"d\":1}"), false, T1);
        var before = twin.ToStorageJson();
        var ex = Assert.Throws<TwinValidationException>(() => twin.Replace(Obj("{\"my-tag\":null}"), null, T1));
        Assert.Equal("Value of Property or Tag cannot be null. Error in Property/Tag tags.my-tag", ex.Message);
        Assert.Equal(before, twin.ToStorageJson());
    }

    [Fact]
    public void A_write_that_would_overflow_a_section_is_rejected_and_changes_nothing()
    {
        var twin = TwinState.Create(T0);
        twin.ApplyPatch(Obj($"{{\"a\":\"{new string('x', 4000)}\",\"b\":\"{new string('x', 4000)}\"}}"), null, false, T1);
        var before = twin.ToStorageJson();
        var ex = Assert.Throws<TwinValidationException>(() => twin.ApplyPatch(Obj($"{{\"c\":\"{new string('x', 500)}\"}}"), Obj("{\"d\":1}"), false, T1));
        Assert.Equal("tags", ex.Path);
        Assert.Equal(before, twin.ToStorageJson());

        var reported = TwinState.Create(T0);
        for (var i = 0; i < 8; i++)
        {
            reported.PatchReported(new JsonObject { ["k" + i] = new string('x', 4000) }, T1);
        }

        var ex2 = Assert.Throws<TwinValidationException>(() => reported.PatchReported(new JsonObject { ["k9"] = new string('x', 1000) }, T1));
        Assert.Equal("properties.reported", ex2.Path);
        Assert.Equal(9, reported.ReportedVersion);
    }

    [Fact]
    public void Invalid_patch_changes_nothing()
    {
        var twin = TwinState.Create(T0);
        var before = twin.ToStorageJson();
        Assert.Throws<TwinValidationException>(() => twin.ApplyPatch(Obj("{\"ok\":1}"), Obj("{\"bad.key\":1}"), false, T1));
        Assert.Throws<TwinValidationException>(() => twin.PatchReported(Obj("{\"$version\":5}"), T1));
        Assert.Equal(before, twin.ToStorageJson());
        Assert.Throws<ArgumentException>(() => twin.ApplyPatch(null, new JsonObject(), desiredIsNull: true, T1));
    }

    [Fact]
    public void Device_view_has_versions_and_no_tags_or_metadata()
    {
        var twin = TwinState.Create(T0);
        twin.ApplyPatch(Obj("{\"t\":1}"), Obj("{\"telemetryInterval\":42}"), false, T1);
        twin.PatchReported(Obj("{\"firmware\":\"1.2.3\"}"), T1);
        Assert.Equal(
            "{\"desired\":{\"telemetryInterval\":42,\"$version\":2},\"reported\":{\"firmware\":\"1.2.3\",\"$version\":2}}",
            twin.ToDeviceTwinJson().ToJsonString());
        AssertJson("{\"telemetryInterval\":42,\"$version\":2}", twin.DesiredForDevice());
    }

    [Fact]
    public void Storage_round_trip_keeps_everything()
    {
        var twin = TwinState.Create(T0);
        twin.ApplyPatch(Obj("{\"t\":{\"u\":1.0}}"), Obj("{\"d\":[1,2]}"), false, T1);
        twin.PatchReported(Obj("{\"r\":\"x\"}"), T1);
        var restored = TwinState.FromStorageJson(twin.ToStorageJson());
        Assert.Equal(twin.ToTwinJson(Mirror).ToJsonString(), restored.ToTwinJson(Mirror).ToJsonString());
        Assert.Equal("{\"t\":{\"u\":1.0}}", restored.Tags.ToJsonString());
        restored.ApplyPatch(null, Obj("{\"e\":1}"), false, T1);
        Assert.Equal(3, restored.DesiredVersion);
        Assert.Equal(2, twin.DesiredVersion);
    }

    [Theory]
    [InlineData("")]
    [InlineData("not json")]
    [InlineData("[]")]
    [InlineData("{}")]
    [InlineData("{\"schema\":2}")]
    [InlineData("{\"schema\":1,\"etag\":1,\"tags\":{},\"desired\":{},\"desiredMetadata\":{},\"desiredVersion\":\"x\",\"reported\":{},\"reportedMetadata\":{},\"reportedVersion\":1}")]
    [InlineData("{\"schema\":1,\"etag\":1,\"tags\":[],\"desired\":{},\"desiredMetadata\":{},\"desiredVersion\":1,\"reported\":{},\"reportedMetadata\":{},\"reportedVersion\":1}")]
    public void Bad_storage_documents_give_format_exception(string json)
    {
        Assert.Throws<FormatException>(() => TwinState.FromStorageJson(json));
    }

    [Fact]
    public void Clone_is_independent()
    {
        var twin = TwinState.Create(T0);
        var copy = twin.Clone();
        copy.ApplyPatch(Obj("{\"a\":1}"), null, false, T1);
        Assert.Empty(twin.Tags);
        Assert.Equal(1, twin.ETagCounter);
    }

    [Fact]
    public void Timestamps_and_etags_format_as_the_hub_does()
    {
        Assert.Equal("0001-01-01T00:00:00Z", TwinJson.FormatTimestamp(DateTimeOffset.MinValue));
        Assert.Equal("2017-03-09T18:30:52.3167248Z", TwinJson.FormatTimestamp(new DateTimeOffset(2017, 3, 9, 19, 30, 52, TimeSpan.FromHours(1)).AddTicks(3167248)));
        Assert.Equal("AAAAAAAAAAc=", TwinJson.FormatTwinEtag(7));
        Assert.False(TwinJson.TryParseTwinEtag("abc", out _));
        Assert.False(TwinJson.TryParseTwinEtag(null, out _));
    }

    [Fact]
    public void If_match_rules()
    {
        Assert.True(ETags.Matches(null, "AAAAAAAAAAE="));
        Assert.True(ETags.Matches("*", "AAAAAAAAAAE="));
        Assert.True(ETags.Matches("\"*\"", "AAAAAAAAAAE="));
        Assert.True(ETags.Matches("\"AAAAAAAAAAE=\"", "AAAAAAAAAAE="));
        Assert.True(ETags.Matches("AAAAAAAAAAE=", "\"AAAAAAAAAAE=\""));
        Assert.False(ETags.Matches("\"abc\"", "AAAAAAAAAAE="));
        Assert.Equal("\"x\"", ETags.Quote("x"));
        Assert.Equal("\"x\"", ETags.Quote("\"x\""));
    }
}
