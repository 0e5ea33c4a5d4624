using System.Text.Json.Nodes;
using TwinPS.Client.Tests.Infrastructure;

namespace TwinPS.Client.Tests;

public sealed class ModelTests
{
    [Fact]
    public void Twin_exposes_fields_and_keeps_timestamps_and_metadata_exact()
    {
        var twin = IoTHubTwin.Parse("""
            {"deviceId":"d1","moduleId":"m1","etag":"AAAAAAAAAAc=","deviceEtag":"NTgwMDg5MDAz","status":"enabled","connectionState":"Connected",
             "lastActivityTime":"2017-03-09T18:30:52.3167248Z","version":7,"authenticationType":"sas","capabilities":{"iotEdge":true},
             "tags":{"plant":"Redmond43"},
             "properties":{"desired":{"a":1,"$metadata":{"$lastUpdated":"2017-03-09T18:30:52.3167248Z","$lastUpdatedVersion":6},"$version":6},
                           "reported":{"b":2.0,"$metadata":{"$lastUpdated":"2017-03-09T18:30:52.3167248Z"},"$version":1}}}
            """);

        Assert.Equal("d1", twin.DeviceId);
        Assert.Equal("m1", twin.ModuleId);
        Assert.Equal("AAAAAAAAAAc=", twin.ETag);
        Assert.Equal("NTgwMDg5MDAz", twin.DeviceEtag);
        Assert.Equal(7, twin.Version);
        Assert.Equal("Connected", twin.ConnectionState);
        Assert.Equal("2017-03-09T18:30:52.3167248Z", twin.LastActivityTime);
        Assert.True(twin.IsEdge);
        Assert.Equal(6, twin.DesiredVersion);
        Assert.Equal(1, twin.ReportedVersion);
        Assert.NotNull(twin.Desired["$metadata"]);
        Assert.Equal("2.0", twin.Reported["b"]!.ToJsonString());
        Assert.Equal("Redmond43", twin.Tags["plant"]!.GetValue<string>());
        Assert.Same(twin.Json, twin.Tags.Parent);
    }

    [Fact]
    public void Twin_without_sections_reads_as_empty_and_requires_a_device_id()
    {
        var twin = new IoTHubTwin(new JsonObject { ["deviceId"] = "d1" });

        Assert.Empty(twin.Tags);
        Assert.Empty(twin.Desired);
        Assert.Null(twin.DesiredVersion);
        Assert.Null(twin.ModuleId);
        Assert.Throws<ArgumentException>(() => new IoTHubTwin(new JsonObject { ["etag"] = "x" }));
    }

    [Fact]
    public void Patch_body_drops_read_only_fields_and_refuses_contradictions()
    {
        var desired = new JsonObject { ["a"] = 1, ["$version"] = 3, ["$metadata"] = new JsonObject() };
        var patch = new TwinPatch { Desired = desired };

        Assert.Equal("""{"properties":{"desired":{"a":1}}}""", patch.ToRequestBody().ToJsonString());
        Assert.Equal(3, desired.Count); // the caller's object is not changed
        Assert.Throws<InvalidOperationException>(() => new TwinPatch { Desired = desired, ClearDesired = true }.ToRequestBody());
        Assert.True(new TwinPatch().IsEmpty);
    }

    [Fact]
    public void Device_reads_thumbprints_case_insensitively_and_validates_status()
    {
        var device = DeviceIdentity.FromJson((JsonObject)JsonNode.Parse("""
            {"deviceId":"x1","etag":"MQ==","status":"disabled","statusReason":"r","lastActivityTime":"0001-01-01T00:00:00Z",
             "authentication":{"type":"selfSigned","x509Thumbprint":{"PrimaryThumbprint":"AB","SecondaryThumbprint":null}},"capabilities":{"iotEdge":false}}
            """)!);

        Assert.Equal(DeviceAuthenticationType.SelfSigned, device.AuthenticationType);
        Assert.Equal("AB", device.PrimaryThumbprint);
        Assert.Null(device.SecondaryThumbprint);
        Assert.Equal("disabled", device.Status);
        Assert.Equal("0001-01-01T00:00:00Z", device.LastActivityTime);
        Assert.False(device.HasSymmetricKeys);
        Assert.Throws<ArgumentException>(() => device.Status = "paused");
        device.Status = "Enabled";
        Assert.Equal("enabled", device.Status);
    }

    [Fact]
    public void Bulk_entries_use_wire_names_and_unquoted_etags()
    {
        var device = new DeviceIdentity("b1") { ETag = "\"MQ==\"" };
        var entry = new ExportImportDevice(device, ImportMode.UpdateTwinIfMatchETag)
        {
            TwinETag = "\"AAAAAAAAAAE=\"",
            Tags = new JsonObject { ["t"] = 1 },
            Desired = new JsonObject { ["d"] = 2, ["$version"] = 1 },
        };

        var json = entry.ToRequestEntry();

        Assert.Equal("updateTwinIfMatchETag", json["importMode"]!.GetValue<string>());
        Assert.Equal("MQ==", json["eTag"]!.GetValue<string>());
        Assert.Equal("AAAAAAAAAAE=", json["twinETag"]!.GetValue<string>());
        Assert.Equal("""{"d":2}""", json["properties"]!["desired"]!.ToJsonString());
        Assert.Null(new ExportImportDevice("b2", ImportMode.Delete).ToRequestEntry()["authentication"]);
    }

    [Theory]
    [InlineData("device")]
    [InlineData("module")]
    public void Device_and_module_documents_give_up_their_keys_and_read_authentication_alike(string kind)
    {
        var json = JsonNode.Parse("""
            {"deviceId":"d1","moduleId":"m1","etag":"MQ==","authentication":{"type":"SAS",
             "SymmetricKey":{"PrimaryKey":"cHJpbWFyeQ==","secondaryKey":"c2Vjb25kYXJ5"},
             "x509Thumbprint":{"primaryThumbprint":"","SecondaryThumbprint":"AB12"}}}
            """)!.AsObject();
        var (type, primary, secondary, primaryThumb, secondaryThumb, document) = kind == "device"
            ? Read(DeviceIdentity.FromJson(json))
            : Read(ModuleIdentity.FromJson(json));

        Assert.Equal(DeviceAuthenticationType.Sas, type);
        Assert.Equal("cHJpbWFyeQ==", primary);
        Assert.Equal("c2Vjb25kYXJ5", secondary);
        Assert.Null(primaryThumb); // empty reads as absent
        Assert.Equal("AB12", secondaryThumb);
        Assert.DoesNotContain("cHJpbWFyeQ==", document, StringComparison.Ordinal);
        Assert.DoesNotContain("c2Vjb25kYXJ5", document, StringComparison.Ordinal);
        Assert.Contains("cHJpbWFyeQ==", json.ToJsonString(), StringComparison.Ordinal); // the caller's document is not changed

        var selfSigned = JsonNode.Parse("""{"deviceId":"d1","moduleId":"m1","authentication":{"type":"selfSigned"}}""")!.AsObject();
        Assert.Equal(DeviceAuthenticationType.SelfSigned, kind == "device" ? DeviceIdentity.FromJson(selfSigned).AuthenticationType : ModuleIdentity.FromJson(selfSigned).AuthenticationType);
        var bare = JsonNode.Parse("""{"deviceId":"d1","moduleId":"m1"}""")!.AsObject();
        Assert.Equal(DeviceAuthenticationType.Sas, kind == "device" ? DeviceIdentity.FromJson(bare).AuthenticationType : ModuleIdentity.FromJson(bare).AuthenticationType);
    }

    private static (DeviceAuthenticationType, string?, string?, string?, string?, string) Read(DeviceIdentity d) =>
        (d.AuthenticationType, d.GetPrimaryKey(), d.GetSecondaryKey(), d.PrimaryThumbprint, d.SecondaryThumbprint, d.Json.ToJsonString());

    [Fact]
    public async Task A_twin_read_from_bytes_is_parsed_once_even_when_many_threads_read_it_first_at_the_same_time()
    {
        var text = TestClients.TwinJson("d1");
        for (var attempt = 0; attempt < 20; attempt++)
        {
            var twin = IoTHubTwin.FromUtf8(System.Text.Encoding.UTF8.GetBytes(text), out var shape)!;
            Assert.Equal(IoTHubTwin.DocumentShape.Twin, shape);
            using var start = new ManualResetEventSlim();
            var readers = Enumerable.Range(0, 8).Select(_ => Task.Run(() =>
            {
                start.Wait();
                return twin.Json;
            })).ToArray();
            start.Set();
            var seen = await Task.WhenAll(readers);

            Assert.All(seen, json => Assert.Same(seen[0], json));
            Assert.Same(seen[0], twin.Json);
            Assert.True(JsonNode.DeepEquals(JsonNode.Parse(text), twin.Json));
        }
    }

    [Theory]
    [InlineData("[]", "NotAnObject")]
    [InlineData("\"d1\"", "NotAnObject")]
    [InlineData("{}", "NoDeviceId")]
    [InlineData("{\"deviceId\":null}", "NoDeviceId")]
    [InlineData("{\"x\":{\"deviceId\":\"d1\"}}", "NoDeviceId")]
    [InlineData("{\"x\":[1,{\"y\":[]}],\"deviceId\":\"d1\"}", "Twin")]
    public void A_document_is_a_twin_only_with_a_top_level_string_device_id(string json, string expected)
    {
        var twin = IoTHubTwin.FromUtf8(System.Text.Encoding.UTF8.GetBytes(json), out var shape);

        Assert.Equal(expected, shape.ToString());
        Assert.Equal(expected == "Twin", twin is not null);
    }

    private static (DeviceAuthenticationType, string?, string?, string?, string?, string) Read(ModuleIdentity m) =>
        (m.AuthenticationType, m.GetPrimaryKey(), m.GetSecondaryKey(), m.PrimaryThumbprint, m.SecondaryThumbprint, m.Json.ToJsonString());
}
