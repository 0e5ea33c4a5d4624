using System.Net;
using System.Text.Json.Nodes;
using TwinPS.Emulator.Tests.Infrastructure;

namespace TwinPS.Emulator.Tests;

public sealed class BulkTests(EmulatorFixture fixture) : IClassFixture<EmulatorFixture>
{
    private readonly HubClient _hub = fixture.Owner;

    private Task<HubResponse> BulkAsync(JsonArray entries) => _hub.PostAsync("devices", entries.ToJsonString());

    [Fact]
    public async Task Create_update_twin_and_delete_in_bulk()
    {
        string a = Ids.New(), b = Ids.New();
        HubResponse created = await BulkAsync(
        [
            new JsonObject { ["id"] = a, ["importMode"] = "create", ["status"] = "enabled", ["tags"] = new JsonObject { ["t"] = 1 } },
            new JsonObject { ["id"] = b, ["importMode"] = "createOrUpdate", ["status"] = "disabled", ["properties"] = new JsonObject { ["desired"] = new JsonObject { ["d"] = 2 } } },
            new JsonObject { ["id"] = a, ["moduleId"] = "mod", ["importMode"] = "create" },
        ]);
        Assert.Equal(HttpStatusCode.OK, created.Status);
        Assert.True((bool)created.Obj["isSuccessful"]!);
        Assert.Empty((JsonArray)created.Obj["errors"]!);
        Assert.Equal(1, (int)(await _hub.GetTwinAsync(a))["tags"]!["t"]!);
        Assert.Equal("disabled", (string)(await _hub.GetAsync("devices/" + b)).Obj["status"]!);
        Assert.Equal(2, (int)(await _hub.GetTwinAsync(b))["properties"]!["desired"]!["d"]!);
        Assert.Equal(HttpStatusCode.OK, (await _hub.GetAsync($"devices/{a}/modules/mod")).Status);

        string twinEtag = (string)(await _hub.GetTwinAsync(a))["etag"]!;
        HubResponse twinUpdate = await BulkAsync(
        [
            new JsonObject { ["id"] = a, ["importMode"] = "updateTwinIfMatchETag", ["twinETag"] = twinEtag, ["tags"] = new JsonObject { ["u"] = 1 } },
            new JsonObject { ["id"] = b, ["importMode"] = "updateTwin", ["properties"] = new JsonObject { ["desired"] = new JsonObject { ["e"] = 3 } } },
        ]);
        Assert.Equal(HttpStatusCode.OK, twinUpdate.Status);
        JsonObject twinA = await _hub.GetTwinAsync(a);
        Assert.Equal(1, (int)twinA["tags"]!["t"]!);
        Assert.Equal(1, (int)twinA["tags"]!["u"]!);
        Assert.Equal(3, (int)(await _hub.GetTwinAsync(b))["properties"]!["desired"]!["e"]!);

        HubResponse deleted = await BulkAsync(
        [
            new JsonObject { ["id"] = a, ["importMode"] = "delete" },
            new JsonObject { ["id"] = b, ["importMode"] = "deleteIfMatchETag", ["eTag"] = (string)(await _hub.GetAsync("devices/" + b)).Obj["etag"]! },
        ]);
        Assert.Equal(HttpStatusCode.OK, deleted.Status);
        Assert.Equal(HttpStatusCode.NotFound, (await _hub.GetAsync("devices/" + a)).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await _hub.GetAsync($"devices/{a}/modules/mod")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await _hub.GetAsync("devices/" + b)).Status);
    }

    [Fact]
    public async Task Per_entry_failures_are_400_BulkRegistryOperationFailure_and_others_apply()
    {
        string existing = Ids.New(), fresh = Ids.New(), missing = Ids.New();
        await _hub.CreateDeviceAsync(existing);
        HubResponse r = await BulkAsync(
        [
            new JsonObject { ["id"] = existing, ["importMode"] = "create" },
            new JsonObject { ["id"] = fresh, ["importMode"] = "create" },
            new JsonObject { ["id"] = missing, ["importMode"] = "update" },
            new JsonObject { ["id"] = existing, ["moduleId"] = "m", ["importMode"] = "updateIfMatchETag", ["eTag"] = "bm9wZQ==" },
        ]);
        Assert.Equal(HttpStatusCode.BadRequest, r.Status);
        Assert.Equal("BulkRegistryOperationFailure", r.Header("iothub-errorcode"));
        Assert.False((bool)r.Obj["isSuccessful"]!);
        var errors = (JsonArray)r.Obj["errors"]!;
        Assert.Equal(3, errors.Count);
        Assert.Equal("DeviceAlreadyExists", (string)errors[0]!["errorCode"]!);
        Assert.Equal(existing, (string)errors[0]!["deviceId"]!);
        Assert.Equal("DeviceNotFound", (string)errors[1]!["errorCode"]!);
        Assert.Equal("m", (string)errors[2]!["moduleId"]!);
        Assert.Equal(HttpStatusCode.OK, (await _hub.GetAsync("devices/" + fresh)).Status);
    }

    [Fact]
    public async Task Whole_request_refusals_change_nothing()
    {
        string a = Ids.New();
        var tooMany = new JsonArray();
        for (int i = 0; i < 101; i++) tooMany.Add(new JsonObject { ["id"] = $"{a}-{i}", ["importMode"] = "create" });
        HubResponse big = await BulkAsync(tooMany);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, big.Status);
        Assert.Equal("TooManyDevices", big.Header("iothub-errorcode"));
        Assert.Equal(HttpStatusCode.NotFound, (await _hub.GetAsync($"devices/{a}-0")).Status);

        HubResponse dup = await BulkAsync([new JsonObject { ["id"] = a, ["importMode"] = "create" }, new JsonObject { ["id"] = a, ["importMode"] = "create" }]);
        Assert.Equal(HttpStatusCode.BadRequest, dup.Status);
        Assert.Equal("DeviceDefinedMultipleTimes", dup.Header("iothub-errorcode"));
        Assert.Equal(HttpStatusCode.NotFound, (await _hub.GetAsync("devices/" + a)).Status);

        HubResponse badMode = await BulkAsync([new JsonObject { ["id"] = a, ["importMode"] = "explode" }]);
        Assert.Equal(HttpStatusCode.BadRequest, badMode.Status);
        HubResponse notArray = await _hub.PostAsync("devices", "{\"devices\":[]}");
        Assert.Equal("IotHubFormatError", notArray.Header("iothub-errorcode"));
        HubResponse badId = await BulkAsync([new JsonObject { ["id"] = "bad id", ["importMode"] = "create" }]);
        Assert.Equal("ArgumentInvalid", badId.Header("iothub-errorcode"));
    }

    [Fact]
    public async Task Bulk_twin_validation_failure_is_a_per_entry_error()
    {
        string a = Ids.New();
        HubResponse r = await BulkAsync([new JsonObject { ["id"] = a, ["importMode"] = "create", ["tags"] = new JsonObject { ["bad.key"] = 1 } }]);
        Assert.Equal(HttpStatusCode.BadRequest, r.Status);
        Assert.Equal("ArgumentInvalid", (string)((JsonArray)r.Obj["errors"]!)[0]!["errorCode"]!);
        Assert.Equal(HttpStatusCode.NotFound, (await _hub.GetAsync("devices/" + a)).Status);
    }
}
