using System.Net;
using System.Text;
using TwinPS.Emulator.Tests.Infrastructure;

namespace TwinPS.Emulator.Tests;

/// <summary>
/// JSON that parses structurally but is not a valid document — invalid UTF-8 inside a string, an escaped lone
/// surrogate, a repeated property name — on every route that takes a body (issue 8, finding 4): 400
/// IotHubFormatError, nothing applied, nothing logged as an error.
/// </summary>
public sealed class MalformedJsonTests(EmulatorFixture fixture) : IClassFixture<EmulatorFixture>
{
    /// <summary>Member text with key <c>K</c> and two legal values <c>V1</c>/<c>V2</c>; raw bytes where JSON text cannot carry them.</summary>
    public static readonly (string Name, Func<string, string, string, byte[]> Members)[] Shapes =
    [
        ("invalid UTF-8 in a value", (k, _, _) => Concat($"\"{k}\":\"", [0xC3, 0x28], "\"")),
        ("truncated UTF-8 sequence in a value", (k, _, _) => Concat($"\"{k}\":\"ab", [0xE2, 0x82], "\"")),
        ("UTF-8-encoded surrogate in a value", (k, _, _) => Concat($"\"{k}\":\"", [0xED, 0xA0, 0x80], "\"")),
        ("invalid UTF-8 in a name", (_, _, _) => Concat("\"", [0xFF, 0xFE], "\":1")),
        ("lone high surrogate escape in a value", (k, _, _) => Utf8($"\"{k}\":\"x\\ud800\"")),
        ("lone low surrogate escape in a name", (_, _, _) => Utf8("\"\\udc00\":1")),
        ("reversed surrogate pair escape", (k, _, _) => Utf8($"\"{k}\":\"\\udc00\\ud800\"")),
        ("duplicate name", (k, v1, v2) => Utf8($"\"{k}\":{v1},\"{k}\":{v2}")),
    ];

    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (string route in new[] { "PATCH twin", "PUT twin", "PATCH module twin", "PUT module twin", "PUT device", "PUT module", "POST bulk", "POST query" })
        {
            foreach (var shape in Shapes) data.Add(route, shape.Name);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Is_answered_400_IotHubFormatError_and_changes_nothing(string route, string shapeName)
    {
        HubClient hub = fixture.Owner;
        var shape = Shapes.Single(s => s.Name == shapeName).Members;
        string id = Ids.New("mj");
        await hub.CreateDeviceAsync(id);
        Assert.Equal(HttpStatusCode.OK, (await hub.PutAsync($"devices/{id}/modules/m1", $"{{\"deviceId\":\"{id}\",\"moduleId\":\"m1\"}}")).Status);
        string before = (await hub.GetAsync("twins/" + id)).Body;
        string moduleBefore = (await hub.GetAsync($"twins/{id}/modules/m1")).Body;
        string newId = Ids.New("mjn");

        HubResponse r = route switch
        {
            "PATCH twin" => await hub.SendBytesAsync(HttpMethod.Patch, "twins/" + id, Wrap("{\"tags\":{", shape("loc", "\"a\"", "\"b\""), "}}")),
            "PUT twin" => await hub.SendBytesAsync(HttpMethod.Put, "twins/" + id, Wrap("{\"tags\":{", shape("loc", "\"a\"", "\"b\""), "},\"properties\":{\"desired\":{}}}")),
            "PATCH module twin" => await hub.SendBytesAsync(HttpMethod.Patch, $"twins/{id}/modules/m1", Wrap("{\"properties\":{\"desired\":{", shape("x", "1", "2"), "}}}")),
            "PUT module twin" => await hub.SendBytesAsync(HttpMethod.Put, $"twins/{id}/modules/m1", Wrap("{\"tags\":{", shape("x", "1", "2"), "}}")),
            "PUT device" => await hub.SendBytesAsync(HttpMethod.Put, "devices/" + newId, Wrap($"{{\"deviceId\":\"{newId}\",", shape("status", "\"enabled\"", "\"disabled\""), "}")),
            "PUT module" => await hub.SendBytesAsync(HttpMethod.Put, $"devices/{id}/modules/m2", Wrap($"{{\"deviceId\":\"{id}\",\"moduleId\":\"m2\",", shape("managedBy", "\"a\"", "\"b\""), "}")),
            "POST bulk" => await hub.SendBytesAsync(HttpMethod.Post, "devices", Wrap($"[{{\"id\":\"{newId}\",\"importMode\":\"create\",", shape("status", "\"enabled\"", "\"disabled\""), "}]")),
            _ => await hub.SendBytesAsync(HttpMethod.Post, "devices/query", Wrap("{", shape("query", "\"SELECT * FROM devices\"", "\"SELECT deviceId FROM devices\""), "}")),
        };

        Assert.Equal(HttpStatusCode.BadRequest, r.Status);
        Assert.Equal("IotHubFormatError", r.Header("iothub-errorcode"));
        Assert.Equal("IotHubFormatError", r.EnvelopeCode);
        Assert.Equal(before, (await hub.GetAsync("twins/" + id)).Body);
        Assert.Equal(moduleBefore, (await hub.GetAsync($"twins/{id}/modules/m1")).Body);
        Assert.Equal(HttpStatusCode.NotFound, (await hub.GetAsync("devices/" + newId)).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await hub.GetAsync($"devices/{id}/modules/m2")).Status);
        Assert.Equal(0, (long)(await hub.GetAsync("$twinps/stats")).Obj["serverErrors"]!);
        AssertNoErrorLogged(fixture.Emulator.StandardError);
    }

    internal static void AssertNoErrorLogged(string stderr)
    {
        Assert.DoesNotContain("fail:", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("crit:", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal);
    }

    private static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);

    private static byte[] Concat(string head, byte[] middle, string tail) => [.. Utf8(head), .. middle, .. Utf8(tail)];

    private static byte[] Wrap(string head, byte[] members, string tail) => Concat(head, members, tail);
}
