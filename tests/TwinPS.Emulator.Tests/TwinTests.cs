using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using TwinPS.Emulator.Tests.Infrastructure;

namespace TwinPS.Emulator.Tests;

public sealed class TwinTests(EmulatorFixture fixture) : IClassFixture<EmulatorFixture>
{
    private readonly HubClient _hub = fixture.Owner;

    [Fact]
    public async Task Fresh_twin_has_the_hub_shape_and_etag_header()
    {
        string id = Ids.New();
        JsonObject device = await _hub.CreateDeviceAsync(id);
        HubResponse r = await _hub.GetAsync("twins/" + id);
        Assert.Equal(HttpStatusCode.OK, r.Status);
        Assert.Equal("application/json; charset=utf-8", r.ContentHeaders!.ContentType!.ToString());
        JsonObject t = r.Obj;
        Assert.Equal(id, (string)t["deviceId"]!);
        Assert.Equal("AAAAAAAAAAE=", (string)t["etag"]!);
        Assert.Equal("\"AAAAAAAAAAE=\"", r.Header("ETag"));
        Assert.Equal((string)device["etag"]!, (string)t["deviceEtag"]!);
        Assert.Equal(2, (long)t["version"]!);
        Assert.Equal(1, (long)t["properties"]!["desired"]!["$version"]!);
        Assert.Equal(1, (long)t["properties"]!["reported"]!["$version"]!);
        Assert.Equal("enabled", (string)t["status"]!);
        Assert.Equal("Disconnected", (string)t["connectionState"]!);
        Assert.Equal("sas", (string)t["authenticationType"]!);
        Assert.NotNull(t["properties"]!["desired"]!["$metadata"]!["$lastUpdated"]);
        Assert.Null(t["generationId"]);
    }

    [Fact]
    public async Task Patch_merges_moves_etag_and_versions_and_null_deletes()
    {
        string id = Ids.New();
        await _hub.CreateDeviceAsync(id);
        HubResponse r1 = await _hub.PatchAsync("twins/" + id, """{"tags":{"loc":{"plant":"P1","line":"L1"}},"properties":{"desired":{"a":1,"arr":[1,2,3],"o":{"x":1}}}}""", ifMatch: "\"AAAAAAAAAAE=\"");
        Assert.Equal(HttpStatusCode.OK, r1.Status);
        Assert.Equal("AAAAAAAAAAI=", (string)r1.Obj["etag"]!);
        Assert.Equal("\"AAAAAAAAAAI=\"", r1.Header("ETag"));
        Assert.Equal(2, (long)r1.Obj["properties"]!["desired"]!["$version"]!);

        HubResponse r2 = await _hub.PatchAsync("twins/" + id, """{"tags":{"loc":{"line":null}},"properties":{"desired":{"arr":[9],"o":{"y":2},"missing":null}}}""");
        Assert.Equal(HttpStatusCode.OK, r2.Status);
        JsonObject t = r2.Obj;
        Assert.Equal("P1", (string)t["tags"]!["loc"]!["plant"]!);
        Assert.Null(t["tags"]!["loc"]!["line"]);
        Assert.Equal("[9]", t["properties"]!["desired"]!["arr"]!.ToJsonString());
        Assert.Equal(1, (int)t["properties"]!["desired"]!["o"]!["x"]!);
        Assert.Equal(2, (int)t["properties"]!["desired"]!["o"]!["y"]!);
        Assert.False(((JsonObject)t["properties"]!["desired"]!).ContainsKey("missing"));
        Assert.Equal(3, (long)t["properties"]!["desired"]!["$version"]!);
        Assert.Equal(4, (long)t["version"]!);
    }

    [Fact]
    public async Task Stale_IfMatch_is_412_and_changes_nothing()
    {
        string id = Ids.New();
        await _hub.CreateDeviceAsync(id);
        await _hub.PatchAsync("twins/" + id, """{"tags":{"v":1}}""");
        HubResponse stale = await _hub.PatchAsync("twins/" + id, """{"tags":{"v":2}}""", ifMatch: "\"AAAAAAAAAAE=\"");
        Assert.Equal(HttpStatusCode.PreconditionFailed, stale.Status);
        Assert.Equal("PreconditionFailed", stale.Header("iothub-errorcode"));
        Assert.Equal("PreconditionFailed", stale.EnvelopeCode);
        HubResponse garbage = await _hub.PutAsync("twins/" + id, """{"tags":{"v":3}}""", ifMatch: "abc");
        Assert.Equal(HttpStatusCode.PreconditionFailed, garbage.Status);
        JsonObject t = await _hub.GetTwinAsync(id);
        Assert.Equal(1, (int)t["tags"]!["v"]!);
        Assert.Equal("AAAAAAAAAAI=", (string)t["etag"]!);
    }

    [Fact]
    public async Task Concurrent_conditional_writers_exactly_one_wins_per_etag()
    {
        string id = Ids.New();
        await _hub.CreateDeviceAsync(id);
        JsonObject twin = await _hub.GetTwinAsync(id);
        string etag = (string)twin["etag"]!;
        HubResponse[] results = await Task.WhenAll(Enumerable.Range(0, 16).Select(i =>
            _hub.PatchAsync("twins/" + id, $$$$"""{"tags":{"writer":{{{{i}}}}}}""", ifMatch: "\"" + etag + "\"")));
        Assert.Equal(1, results.Count(r => r.Status == HttpStatusCode.OK));
        Assert.Equal(15, results.Count(r => r.Status == HttpStatusCode.PreconditionFailed));
        int winner = (int)results.Single(r => r.Status == HttpStatusCode.OK).Obj["tags"]!["writer"]!;
        Assert.Equal(winner, (int)(await _hub.GetTwinAsync(id))["tags"]!["writer"]!);

        // Unconditional writers all succeed and every desired write counts exactly once.
        HubResponse[] forced = await Task.WhenAll(Enumerable.Range(0, 20).Select(i =>
            _hub.PatchAsync("twins/" + id, $$$$"""{"properties":{"desired":{"k{{{{i}}}}":{{{{i}}}}}}}""", ifMatch: "*")));
        Assert.All(forced, r => Assert.Equal(HttpStatusCode.OK, r.Status));
        JsonObject after = await _hub.GetTwinAsync(id);
        Assert.Equal(21, (long)after["properties"]!["desired"]!["$version"]!);
        Assert.Equal(20, ((JsonObject)after["properties"]!["desired"]!).Count(p => p.Key.StartsWith('k')));
    }

    [Fact]
    public async Task Put_replaces_tags_and_desired_and_ignores_readonly_fields()
    {
        string id = Ids.New();
        await _hub.CreateDeviceAsync(id);
        await _hub.PatchAsync("twins/" + id, """{"tags":{"a":1,"b":2},"properties":{"desired":{"x":1,"y":2}}}""");
        JsonObject current = await _hub.GetTwinAsync(id);
        current["tags"] = new JsonObject { ["c"] = 3 };
        ((JsonObject)current["properties"]!["desired"]!).Remove("y");
        HubResponse r = await _hub.PutAsync("twins/" + id, current.ToJsonString(), ifMatch: "\"" + (string)current["etag"]! + "\"");
        Assert.Equal(HttpStatusCode.OK, r.Status);
        Assert.Equal("""{"c":3}""", r.Obj["tags"]!.ToJsonString());
        Assert.Equal(1, (int)r.Obj["properties"]!["desired"]!["x"]!);
        Assert.Null(r.Obj["properties"]!["desired"]!["y"]);
    }

    private static string Deep(int levels) =>
        string.Concat(Enumerable.Range(0, levels).Select(i => "{\"l" + i + "\":")) + "1" + new string('}', levels);

    public static TheoryData<string, string, string> BadBodies => new()
    {
        { "PATCH", "{\"tags\":", "IotHubFormatError" },
        { "PATCH", "not json", "IotHubFormatError" },
        { "PATCH", "[1,2]", "IotHubFormatError" },
        { "PATCH", """{"tags":{"bad.key":1}}""", "ArgumentInvalid" },
        { "PATCH", """{"tags":{"bad$key":1}}""", "ArgumentInvalid" },
        { "PATCH", """{"tags":{"bad key":1}}""", "ArgumentInvalid" },
        { "PATCH", "{\"properties\":{\"desired\":" + Deep(12) + "}}", "ArgumentInvalid" },
        { "PATCH", """{"properties":{"desired":{"n":9007199254740993}}}""", "ArgumentInvalid" },
        { "PATCH", """{"properties":{"desired":{"arr":[1,null]}}}""", "ArgumentInvalid" },
        { "PATCH", """{"properties":{"reported":{"r":1}}}""", "ArgumentInvalid" },
        { "PUT", """{"tags":{"t":null}}""", "ArgumentInvalid" },
        { "PUT", """{"properties":{"desired":{"nested":{"n":null}}}}""", "ArgumentInvalid" },
    };

    [Theory]
    [MemberData(nameof(BadBodies))]
    public async Task Bad_twin_bodies_are_rejected_and_change_nothing(string method, string body, string code)
    {
        string id = Ids.New();
        await _hub.CreateDeviceAsync(id);
        await _hub.PatchAsync("twins/" + id, """{"tags":{"keep":1},"properties":{"desired":{"keep":1}}}""");
        JsonObject before = await _hub.GetTwinAsync(id);
        HubResponse r = method == "PUT" ? await _hub.PutAsync("twins/" + id, body) : await _hub.PatchAsync("twins/" + id, body);
        Assert.Equal(HttpStatusCode.BadRequest, r.Status);
        Assert.Equal(code, r.Header("iothub-errorcode"));
        Assert.Equal(code, r.EnvelopeCode);
        JsonObject after = await _hub.GetTwinAsync(id);
        Assert.Equal(before.ToJsonString(), after.ToJsonString());
    }

    [Fact]
    public async Task Validation_errors_name_the_offending_key_or_path()
    {
        string id = Ids.New();
        await _hub.CreateDeviceAsync(id);
        HubResponse key = await _hub.PatchAsync("twins/" + id, """{"tags":{"ok":{"bad.key":1}}}""");
        Assert.Contains("bad.key", key.EnvelopeMessage, StringComparison.Ordinal);
        HubResponse nul = await _hub.PutAsync("twins/" + id, """{"tags":{"my-tag":null}}""");
        Assert.Contains("my-tag", nul.EnvelopeMessage, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Too_large_sections_are_checked_on_the_resulting_state()
    {
        string id = Ids.New();
        await _hub.CreateDeviceAsync(id);
        string chunk = new('x', 3000);
        // Each patch alone is small; the tags section would exceed 8 KB only after the third.
        Assert.Equal(HttpStatusCode.OK, (await _hub.PatchAsync("twins/" + id, $$$$"""{"tags":{"a":"{{{{chunk}}}}"}}""")).Status);
        Assert.Equal(HttpStatusCode.OK, (await _hub.PatchAsync("twins/" + id, $$$$"""{"tags":{"b":"{{{{chunk}}}}"}}""")).Status);
        HubResponse r = await _hub.PatchAsync("twins/" + id, $$$$"""{"tags":{"c":"{{{{chunk}}}}"}}""");
        Assert.Equal(HttpStatusCode.BadRequest, r.Status);
        Assert.Equal("ArgumentInvalid", r.Header("iothub-errorcode"));
        JsonObject t = await _hub.GetTwinAsync(id);
        Assert.Null(t["tags"]!["c"]);
        Assert.Equal("AAAAAAAAAAM=", (string)t["etag"]!);

        HubResponse big = await _hub.PatchAsync("twins/" + id, $$$$"""{"properties":{"desired":{"s":"{{{{new string('y', 5000)}}}}"}}}""");
        Assert.Equal(HttpStatusCode.BadRequest, big.Status);
    }

    [Fact]
    public async Task Unknown_device_twin_operations_are_404_whatever_the_body()
    {
        string id = Ids.New();
        Assert.Equal(HttpStatusCode.NotFound, (await _hub.GetAsync("twins/" + id)).Status);
        HubResponse p = await _hub.PatchAsync("twins/" + id, "{\"tags\":");
        Assert.Equal(HttpStatusCode.NotFound, p.Status);
        Assert.Equal("DeviceNotFound", p.EnvelopeCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _hub.PutAsync("twins/" + id, "{}")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await _hub.GetAsync("devices/" + id)).Status);
    }

    [Fact]
    public async Task Patch_desired_null_clears_all_desired_properties()
    {
        string id = Ids.New();
        await _hub.CreateDeviceAsync(id);
        await _hub.PatchAsync("twins/" + id, """{"properties":{"desired":{"a":1,"b":2}}}""");
        HubResponse r = await _hub.PatchAsync("twins/" + id, """{"properties":{"desired":null}}""");
        Assert.Equal(HttpStatusCode.OK, r.Status);
        Assert.Null(r.Obj["properties"]!["desired"]!["a"]);
        Assert.Equal(3, (long)r.Obj["properties"]!["desired"]!["$version"]!);
    }

    [Fact]
    public async Task Api_version_is_required_and_checked()
    {
        string id = Ids.New();
        await _hub.CreateDeviceAsync(id);
        HubResponse missing = await _hub.SendAsync(HttpMethod.Get, "twins/" + id, null, addApiVersion: false);
        Assert.Equal(HttpStatusCode.BadRequest, missing.Status);
        Assert.Equal("InvalidProtocolVersion", missing.Header("iothub-errorcode"));
        HubResponse unknown = await _hub.SendAsync(HttpMethod.Get, "twins/" + id + "?api-version=2099-01-01", null, addApiVersion: false);
        Assert.Equal(HttpStatusCode.BadRequest, unknown.Status);
        Assert.Equal("InvalidProtocolVersion", unknown.EnvelopeCode);
        foreach (string v in new[] { "2020-09-30", "2024-03-31", "2018-06-30" })
        {
            HubResponse ok = await _hub.SendAsync(HttpMethod.Get, $"twins/{id}?api-version={v}", null, addApiVersion: false);
            Assert.Equal(HttpStatusCode.OK, ok.Status);
        }

        HubResponse badWrite = await _hub.SendAsync(HttpMethod.Patch, $"twins/{id}?api-version=1999-01-01", """{"tags":{"z":1}}""", addApiVersion: false);
        Assert.Equal(HttpStatusCode.BadRequest, badWrite.Status);
        Assert.Null((await _hub.GetTwinAsync(id))["tags"]!["z"]);
    }

    [Fact]
    public async Task Oversized_body_is_refused_with_an_envelope()
    {
        string id = Ids.New();
        await _hub.CreateDeviceAsync(id);
        var sb = new StringBuilder("{\"tags\":{\"a\":\"");
        sb.Append('x', 9 * 1024 * 1024).Append("\"}}");
        // Expect: 100-continue lets the emulator refuse by Content-Length before the client sends 9 MB.
        HubResponse r = await _hub.SendAsync(HttpMethod.Patch, "twins/" + id, sb.ToString(), req => req.Headers.ExpectContinue = true);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, r.Status);
        Assert.Equal("MessageTooLarge", r.Header("iothub-errorcode"));
    }
}
