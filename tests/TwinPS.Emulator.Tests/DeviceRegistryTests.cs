using System.Net;
using System.Text.Json.Nodes;
using TwinPS.Emulator.Tests.Infrastructure;

namespace TwinPS.Emulator.Tests;

public sealed class DeviceRegistryTests(EmulatorFixture fixture) : IClassFixture<EmulatorFixture>
{
    private readonly HubClient _hub = fixture.Owner;

    [Fact]
    public async Task Create_with_empty_keys_generates_keys_and_returns_device_shape()
    {
        string id = Ids.New();
        HubResponse r = await _hub.PutAsync("devices/" + id,
            $$$$"""{"deviceId":"{{{{id}}}}","authentication":{"type":"sas","symmetricKey":{"primaryKey":"","secondaryKey":""}}}""");
        Assert.Equal(HttpStatusCode.OK, r.Status);
        Assert.Equal("application/json; charset=utf-8", r.ContentHeaders!.ContentType!.ToString());
        JsonObject d = r.Obj;
        Assert.Equal(id, (string)d["deviceId"]!);
        Assert.Equal("enabled", (string)d["status"]!);
        Assert.Equal("Disconnected", (string)d["connectionState"]!);
        Assert.Equal("sas", (string)d["authentication"]!["type"]!);
        string primary = (string)d["authentication"]!["symmetricKey"]!["primaryKey"]!;
        string secondary = (string)d["authentication"]!["symmetricKey"]!["secondaryKey"]!;
        Assert.Equal(32, Convert.FromBase64String(primary).Length);
        Assert.NotEqual(primary, secondary);
        Assert.False((bool)d["capabilities"]!["iotEdge"]!);
        Assert.False(string.IsNullOrEmpty((string)d["generationId"]!));
        string etag = (string)d["etag"]!;
        Assert.True(long.TryParse(System.Text.Encoding.ASCII.GetString(Convert.FromBase64String(etag)), out _), "etag is base64 of a decimal");
        Assert.Equal("\"" + etag + "\"", r.Header("ETag"));
    }

    [Fact]
    public async Task Create_without_authentication_generates_keys_and_keeps_given_keys()
    {
        string id = Ids.New();
        JsonObject created = await _hub.CreateDeviceAsync(id);
        Assert.NotNull((string?)created["authentication"]!["symmetricKey"]!["primaryKey"]);

        string id2 = Ids.New();
        string k1 = Convert.ToBase64String(new byte[32].Select((_, i) => (byte)i).ToArray());
        string k2 = Convert.ToBase64String(new byte[16].Select((_, i) => (byte)(i + 7)).ToArray());
        HubResponse r = await _hub.PutAsync("devices/" + id2, $$$$"""{"deviceId":"{{{{id2}}}}","status":"disabled","statusReason":"maintenance","authentication":{"symmetricKey":{"primaryKey":"{{{{k1}}}}","secondaryKey":"{{{{k2}}}}"}}}""");
        Assert.Equal(HttpStatusCode.OK, r.Status);
        Assert.Equal(k1, (string)r.Obj["authentication"]!["symmetricKey"]!["primaryKey"]!);
        Assert.Equal("disabled", (string)r.Obj["status"]!);
        Assert.Equal("maintenance", (string)r.Obj["statusReason"]!);
    }

    [Fact]
    public async Task Create_twice_is_409_DeviceAlreadyExists()
    {
        string id = Ids.New();
        await _hub.CreateDeviceAsync(id);
        HubResponse r = await _hub.PutAsync("devices/" + id, "{}");
        Assert.Equal(HttpStatusCode.Conflict, r.Status);
        Assert.Equal("DeviceAlreadyExists", r.Header("iothub-errorcode"));
        Assert.Equal("DeviceAlreadyExists", r.EnvelopeCode);
        Assert.StartsWith("Tracking ID:", (string)r.Obj["ExceptionMessage"]!, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Get_unknown_device_is_404_in_the_shape_the_node_sdk_parses()
    {
        HubResponse r = await _hub.GetAsync("devices/nosuch-" + Guid.NewGuid().ToString("N"));
        Assert.Equal(HttpStatusCode.NotFound, r.Status);
        Assert.Equal("DeviceNotFound", r.Header("iothub-errorcode"));
        Assert.Matches("^ErrorCode:DeviceNotFound;Device nosuch-[0-9a-f]+ not registered$", r.EnvelopeMessage!);
    }

    [Fact]
    public async Task Update_with_IfMatch_replaces_and_leaving_out_authentication_mints_new_keys()
    {
        string id = Ids.New();
        JsonObject created = await _hub.CreateDeviceAsync(id);
        string etag = (string)created["etag"]!;
        string oldKey = (string)created["authentication"]!["symmetricKey"]!["primaryKey"]!;

        HubResponse stale = await _hub.PutAsync("devices/" + id, $$$$"""{"deviceId":"{{{{id}}}}","status":"disabled"}""", ifMatch: "\"MTIzNDU2Nzg5\"");
        Assert.Equal(HttpStatusCode.PreconditionFailed, stale.Status);
        Assert.Equal("PreconditionFailed", stale.Header("iothub-errorcode"));
        Assert.Equal("enabled", (string)(await _hub.GetAsync("devices/" + id)).Obj["status"]!);

        HubResponse r = await _hub.PutAsync("devices/" + id, $$$$"""{"deviceId":"{{{{id}}}}","status":"disabled"}""", ifMatch: etag); // unquoted accepted
        Assert.Equal(HttpStatusCode.OK, r.Status);
        Assert.Equal("disabled", (string)r.Obj["status"]!);
        Assert.NotEqual(etag, (string)r.Obj["etag"]!);
        Assert.NotEqual(oldKey, (string)r.Obj["authentication"]!["symmetricKey"]!["primaryKey"]!);
        Assert.Equal((string)created["generationId"]!, (string)r.Obj["generationId"]!);

        HubResponse star = await _hub.PutAsync("devices/" + id, $$$$"""{"deviceId":"{{{{id}}}}","status":"enabled"}""", ifMatch: "\"*\"");
        Assert.Equal(HttpStatusCode.OK, star.Status);
        Assert.Equal("enabled", (string)star.Obj["status"]!);
    }

    [Fact]
    public async Task Update_of_missing_device_with_IfMatch_is_404()
    {
        HubResponse r = await _hub.PutAsync("devices/" + Ids.New(), "{}", ifMatch: "*");
        Assert.Equal(HttpStatusCode.NotFound, r.Status);
        Assert.Equal("DeviceNotFound", r.Header("iothub-errorcode"));
    }

    [Fact]
    public async Task Delete_requires_IfMatch_and_removes_device_twin_and_modules()
    {
        string id = Ids.New();
        JsonObject created = await _hub.CreateDeviceAsync(id);
        Assert.Equal(HttpStatusCode.OK, (await _hub.PutAsync($"devices/{id}/modules/m1", "{}")).Status);

        HubResponse missing = await _hub.DeleteAsync("devices/" + id, ifMatch: null);
        Assert.Equal(HttpStatusCode.PreconditionFailed, missing.Status);
        Assert.Contains("Etag missing", missing.EnvelopeMessage, StringComparison.Ordinal);

        HubResponse stale = await _hub.DeleteAsync("devices/" + id, ifMatch: "\"OTk5OTk5\"");
        Assert.Equal(HttpStatusCode.PreconditionFailed, stale.Status);
        Assert.Equal(HttpStatusCode.OK, (await _hub.GetAsync("devices/" + id)).Status);

        HubResponse ok = await _hub.DeleteAsync("devices/" + id, ifMatch: "\"" + (string)created["etag"]! + "\"");
        Assert.Equal(HttpStatusCode.NoContent, ok.Status);
        Assert.Equal(HttpStatusCode.NotFound, (await _hub.GetAsync("devices/" + id)).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await _hub.GetAsync("twins/" + id)).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await _hub.GetAsync($"twins/{id}/modules/m1")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await _hub.DeleteAsync("devices/" + id)).Status);

        // The id can be used again, with a fresh twin.
        await _hub.CreateDeviceAsync(id);
        Assert.Equal("AAAAAAAAAAE=", (string)(await _hub.GetTwinAsync(id))["etag"]!);
    }

    [Fact]
    public async Task Modules_crud_list_and_module_twins()
    {
        string id = Ids.New();
        await _hub.CreateDeviceAsync(id);
        HubResponse created = await _hub.PutAsync($"devices/{id}/modules/telemetry", $$$$"""{"deviceId":"{{{{id}}}}","moduleId":"telemetry"}""");
        Assert.Equal(HttpStatusCode.OK, created.Status);
        Assert.Equal("telemetry", (string)created.Obj["moduleId"]!);
        Assert.Equal(id, (string)created.Obj["deviceId"]!);
        Assert.Null(created.Obj["status"]);
        Assert.Equal("sas", (string)created.Obj["authentication"]!["type"]!);

        HubResponse again = await _hub.PutAsync($"devices/{id}/modules/telemetry", "{}");
        Assert.Equal(HttpStatusCode.Conflict, again.Status);
        Assert.Equal("ModuleAlreadyExistsOnDevice", again.Header("iothub-errorcode"));

        Assert.Equal(HttpStatusCode.OK, (await _hub.PutAsync($"devices/{id}/modules/alpha", "{}")).Status);
        HubResponse list = await _hub.GetAsync($"devices/{id}/modules");
        Assert.Equal(["alpha", "telemetry"], ((JsonArray)list.Json!).Select(m => (string)m!["moduleId"]!).ToArray());

        HubResponse twin = await _hub.GetAsync($"twins/{id}/modules/telemetry");
        Assert.Equal(HttpStatusCode.OK, twin.Status);
        Assert.Equal("telemetry", (string)twin.Obj["moduleId"]!);
        HubResponse patched = await _hub.PatchAsync($"twins/{id}/modules/telemetry", """{"properties":{"desired":{"rate":5}}}""");
        Assert.Equal(5, (int)patched.Obj["properties"]!["desired"]!["rate"]!);
        HubResponse replaced = await _hub.PutAsync($"twins/{id}/modules/telemetry", """{"tags":{"a":1}}""");
        Assert.Equal(HttpStatusCode.OK, replaced.Status);
        Assert.Null(replaced.Obj["properties"]!["desired"]!["rate"]);

        HubResponse missingTwin = await _hub.GetAsync($"twins/{id}/modules/nosuch");
        Assert.Equal(HttpStatusCode.NotFound, missingTwin.Status);
        Assert.Equal("DeviceNotFound", missingTwin.Header("iothub-errorcode"));
        HubResponse missingModule = await _hub.GetAsync($"devices/{id}/modules/nosuch");
        Assert.Equal(HttpStatusCode.NotFound, missingModule.Status);

        HubResponse reserved = await _hub.PutAsync($"devices/{id}/modules/$edgeAgent", "{}");
        Assert.Equal(HttpStatusCode.BadRequest, reserved.Status);

        string etag = (string)created.Obj["etag"]!;
        Assert.Equal(HttpStatusCode.PreconditionFailed, (await _hub.DeleteAsync($"devices/{id}/modules/telemetry", ifMatch: null)).Status);
        Assert.Equal(HttpStatusCode.NoContent, (await _hub.DeleteAsync($"devices/{id}/modules/telemetry", ifMatch: etag)).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await _hub.GetAsync($"devices/{id}/modules/telemetry")).Status);
    }

    [Fact]
    public async Task Ids_with_special_characters_round_trip_through_percent_encoding()
    {
        string id = "sp#ec:ial+id(1)" + Guid.NewGuid().ToString("N")[..6];
        HubResponse r = await _hub.PutAsync("devices/" + Uri.EscapeDataString(id), "{}");
        Assert.Equal(HttpStatusCode.OK, r.Status);
        Assert.Equal(id, (string)r.Obj["deviceId"]!);
        Assert.Equal(id, (string)(await _hub.GetTwinAsync(id))["deviceId"]!);
    }

    [Theory]
    [InlineData("bad id")]
    [InlineData("a/b")]
    [InlineData("üñï")]
    public async Task Invalid_device_ids_are_rejected_and_not_created(string id)
    {
        HubResponse r = await _hub.PutAsync("devices/" + Uri.EscapeDataString(id), "{}");
        Assert.Equal(HttpStatusCode.BadRequest, r.Status);
        Assert.Equal("ArgumentInvalid", r.Header("iothub-errorcode"));
        Assert.Equal(HttpStatusCode.NotFound, (await _hub.GetAsync("devices/" + Uri.EscapeDataString(id))).Status);
    }

    [Theory]
    [InlineData("""{"authentication":{"symmetricKey":{"primaryKey":"short","secondaryKey":""}}}""", "primaryKey")]
    [InlineData("""{"authentication":{"symmetricKey":{"primaryKey":"AAAAAAAAAAAAAAAAAAAAAA==","secondaryKey":""}}}""", "secondaryKey")]
    [InlineData("""{"authentication":{"type":"selfSigned","x509Thumbprint":{"primaryThumbprint":"AB:CD"}}}""", "primaryThumbprint")]
    [InlineData("""{"status":"sleeping"}""", "status")]
    [InlineData("""{"authentication":{"type":"none"}}""", "none")]
    public async Task Invalid_identity_bodies_are_400_naming_the_field_and_create_nothing(string body, string named)
    {
        string id = Ids.New();
        HubResponse r = await _hub.PutAsync("devices/" + id, body);
        Assert.Equal(HttpStatusCode.BadRequest, r.Status);
        Assert.Equal("ArgumentInvalid", r.Header("iothub-errorcode"));
        Assert.Contains(named, r.EnvelopeMessage, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, (await _hub.GetAsync("devices/" + id)).Status);
    }

    [Fact]
    public async Task Malformed_identity_json_is_IotHubFormatError()
    {
        string id = Ids.New();
        HubResponse r = await _hub.PutAsync("devices/" + id, "{\"deviceId\":");
        Assert.Equal(HttpStatusCode.BadRequest, r.Status);
        Assert.Equal("IotHubFormatError", r.Header("iothub-errorcode"));
        Assert.Equal(HttpStatusCode.NotFound, (await _hub.GetAsync("devices/" + id)).Status);
    }

    [Fact]
    public async Task Self_signed_devices_keep_thumbprints()
    {
        string id = Ids.New();
        string thumb = new string('a', 40);
        HubResponse r = await _hub.PutAsync("devices/" + id, $$$$"""{"authentication":{"type":"selfSigned","x509Thumbprint":{"primaryThumbprint":"{{{{thumb}}}}"}}}""");
        Assert.Equal(HttpStatusCode.OK, r.Status);
        Assert.Equal("selfSigned", (string)r.Obj["authentication"]!["type"]!);
        Assert.Equal(thumb.ToUpperInvariant(), (string)r.Obj["authentication"]!["x509Thumbprint"]!["primaryThumbprint"]!);
        Assert.Equal("selfSigned", (string)(await _hub.GetTwinAsync(id))["authenticationType"]!);
    }

    [Fact]
    public async Task Statistics_count_devices_by_status()
    {
        HubResponse before = await _hub.GetAsync("statistics/devices");
        Assert.Equal(HttpStatusCode.OK, before.Status);
        long total = (long)before.Obj["totalDeviceCount"]!;
        long disabled = (long)before.Obj["disabledDeviceCount"]!;
        string id = Ids.New();
        await _hub.PutAsync("devices/" + id, """{"status":"disabled"}""");
        HubResponse after = await _hub.GetAsync("statistics/devices");
        Assert.True((long)after.Obj["totalDeviceCount"]! >= total + 1);
        Assert.True((long)after.Obj["disabledDeviceCount"]! >= disabled + 1);
        Assert.Equal((long)after.Obj["totalDeviceCount"]!, (long)after.Obj["enabledDeviceCount"]! + (long)after.Obj["disabledDeviceCount"]!);

        HubResponse service = await _hub.GetAsync("statistics/service");
        Assert.Equal(HttpStatusCode.OK, service.Status);
        Assert.Equal(0, (long)service.Obj["connectedDeviceCount"]!);
    }

    [Fact]
    public async Task List_devices_honours_top()
    {
        await _hub.CreateDeviceAsync(Ids.New());
        await _hub.CreateDeviceAsync(Ids.New());
        HubResponse r = await _hub.GetAsync("devices?top=1");
        Assert.Equal(HttpStatusCode.OK, r.Status);
        Assert.Single((JsonArray)r.Json!);
    }

    [Fact]
    public async Task Unknown_routes_and_methods_are_enveloped_errors()
    {
        HubResponse unknown = await _hub.GetAsync("configurations/x");
        Assert.Equal(HttpStatusCode.NotFound, unknown.Status);
        Assert.NotNull(unknown.Header("iothub-errorcode"));
        HubResponse method = await _hub.SendAsync(HttpMethod.Post, "twins/x", "{}");
        Assert.Equal(HttpStatusCode.MethodNotAllowed, method.Status);
        Assert.Equal("GenericMethodNotAllowed", method.Header("iothub-errorcode"));
    }
}
