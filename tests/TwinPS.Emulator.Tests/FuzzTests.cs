using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using TwinPS.Emulator.Tests.Infrastructure;

namespace TwinPS.Emulator.Tests;

/// <summary>Bounded, seeded fuzzing of the JSON bodies and the query text against the live process.</summary>
public sealed class FuzzTests(EmulatorFixture fixture) : IClassFixture<EmulatorFixture>
{
    private const string Alphabet = "{}[]\":,.$# \\0123456789abcnulltrue-+eE\u0000\u00e9\u2028";

    private static readonly string[] Seeds =
    [
        """{"tags":{"loc":{"plant":"P1","n":[1,2,{"x":true}]}},"properties":{"desired":{"a":1.5,"b":"s","c":{"d":null}}}}""",
        """{"deviceId":"x","status":"enabled","authentication":{"type":"sas","symmetricKey":{"primaryKey":"","secondaryKey":""}},"capabilities":{"iotEdge":false}}""",
        """[{"id":"fz","importMode":"createOrUpdate","tags":{"a":1},"properties":{"desired":{"b":2}}},{"id":"fz2","importMode":"delete"}]""",
    ];

    private static readonly string[] QuerySeeds =
    [
        "SELECT * FROM devices WHERE tags.loc.plant = 'P1' AND properties.reported.x > 3",
        "SELECT deviceId, tags.a AS a FROM devices.modules WHERE STARTSWITH(deviceId, 'fz') OR tags.n IN [1, 'b', 0x1F]",
        "SELECT COUNT() AS n, tags.loc AS l FROM devices WHERE NOT IS_DEFINED(tags.x) GROUP BY tags.loc",
        "SELECT TOP 3 * FROM devices WHERE (tags.[[odd key]] != \"q\\\"uote\") AND 1 + 2 * 3 = 7",
    ];

    private static string Mutate(string seed, Random random)
    {
        var s = new StringBuilder(seed);
        int edits = random.Next(1, 5);
        for (int e = 0; e < edits && s.Length > 0; e++)
        {
            int at = random.Next(s.Length);
            switch (random.Next(6))
            {
                case 0: s.Remove(at, 1); break;
                case 1: s.Insert(at, Alphabet[random.Next(Alphabet.Length)]); break;
                case 2: s[at] = Alphabet[random.Next(Alphabet.Length)]; break;
                case 3: s.Length = at; break;
                case 4:
                    int len = Math.Min(random.Next(1, 20), s.Length - at);
                    s.Insert(at, s.ToString(at, len));
                    break;
                default: s.Insert(at, string.Concat(Enumerable.Repeat("{\"k\":", random.Next(1, 40))) + "1" + new string('}', random.Next(0, 40))); break;
            }
        }

        return s.ToString();
    }

    private static void AssertEnveloped(HubResponse r, string what)
    {
        Assert.True((int)r.Status < 500, $"{what} → {(int)r.Status} {r.Body}");
        if ((int)r.Status >= 400)
        {
            Assert.False(string.IsNullOrEmpty(r.Header("iothub-errorcode")), $"{what} → {(int)r.Status} without iothub-errorcode");
            var json = JsonNode.Parse(r.Body) as JsonObject;
            Assert.NotNull(json);
            Assert.True(json.ContainsKey("Message") || json.ContainsKey("isSuccessful"), $"{what} → unexpected error body {r.Body}");
        }
    }

    [Fact]
    public async Task Mutated_json_bodies_never_cause_a_server_error()
    {
        HubClient hub = fixture.Owner;
        string id = Ids.New("fz");
        await hub.CreateDeviceAsync(id);
        var random = new Random(20261127);
        for (int i = 0; i < 300; i++)
        {
            int which = i % 5;
            string body = Mutate(Seeds[which switch { 0 or 1 => 0, 2 => 1, _ => 2 }], random);
            HubResponse r = which switch
            {
                0 => await hub.PatchAsync("twins/" + id, body),
                1 => await hub.PutAsync("twins/" + id, body),
                2 => await hub.PutAsync("devices/" + Ids.New("fzd"), body),
                3 => await hub.PostAsync("devices", body),
                _ => await hub.PostAsync("devices/query", body),
            };
            AssertEnveloped(r, $"#{i} body {body}");
        }

        Assert.False(fixture.Emulator.HasExited);
        Assert.Equal(HttpStatusCode.OK, (await hub.GetAsync("twins/" + id)).Status);
        Assert.Equal(0, (long)(await hub.GetAsync("$twinps/stats")).Obj["serverErrors"]!);
    }

    [Fact]
    public async Task Mutated_queries_never_cause_a_server_error()
    {
        HubClient hub = fixture.Owner;
        await hub.PostAsync("devices", """[{"id":"fzq1","importMode":"createOrUpdate","tags":{"loc":{"plant":"P1"},"n":1}},{"id":"fzq2","importMode":"createOrUpdate","tags":{"loc":"x","a":[1]}}]""");
        var random = new Random(42);
        for (int i = 0; i < 300; i++)
        {
            string query = Mutate(QuerySeeds[i % QuerySeeds.Length], random);
            HubResponse r = await hub.PostAsync("devices/query", new JsonObject { ["query"] = query }.ToJsonString());
            AssertEnveloped(r, $"#{i} query {query}");
        }

        Assert.False(fixture.Emulator.HasExited);
        Assert.Equal(HttpStatusCode.OK, (await hub.GetAsync("statistics/devices")).Status);
    }
}
