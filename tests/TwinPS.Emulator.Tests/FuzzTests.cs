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

    /// <summary>Byte-level damage JSON text cannot carry: invalid UTF-8, encoded or escaped lone surrogates, a repeated name.</summary>
    private static readonly byte[][] Poisons =
    [
        [0xFF], [0xC3, 0x28], [0xE2, 0x82], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80],
        "\\ud800"u8.ToArray(), "\\udfff"u8.ToArray(), "\\udc00\\ud800"u8.ToArray(),
    ];

    /// <summary>UTF-8 of <paramref name="text"/>, then (half the time) poison bytes inside a string or a name repeated in one object.</summary>
    private static byte[] Poison(string text, Random random)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(text);
        if (random.Next(2) == 0) return bytes;
        var list = new List<byte>(bytes);
        if (random.Next(3) == 0)
        {
            // Repeat the first member of the first object: {"a":… → {"a":…,"a":… (when the text has one).
            int brace = text.IndexOf('{', StringComparison.Ordinal);
            int comma = brace < 0 ? -1 : text.IndexOf(',', brace);
            if (comma > brace + 1)
            {
                byte[] member = Encoding.UTF8.GetBytes(text[(brace + 1)..comma] + ",");
                list.InsertRange(Encoding.UTF8.GetByteCount(text[..(brace + 1)]), member);
                return [.. list];
            }
        }

        // Inside a string: just after a quote.
        var quotes = Enumerable.Range(0, list.Count).Where(i => list[i] == (byte)'"').ToArray();
        int at = quotes.Length == 0 ? random.Next(list.Count + 1) : quotes[random.Next(quotes.Length)] + 1;
        list.InsertRange(at, Poisons[random.Next(Poisons.Length)]);
        return [.. list];
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
            string text = Mutate(Seeds[which switch { 0 or 1 => 0, 2 => 1, _ => 2 }], random);
            byte[] body = Poison(text, random);
            HubResponse r = which switch
            {
                0 => await hub.SendBytesAsync(HttpMethod.Patch, "twins/" + id, body),
                1 => await hub.SendBytesAsync(HttpMethod.Put, "twins/" + id, body),
                2 => await hub.SendBytesAsync(HttpMethod.Put, "devices/" + Ids.New("fzd"), body),
                3 => await hub.SendBytesAsync(HttpMethod.Post, "devices", body),
                _ => await hub.SendBytesAsync(HttpMethod.Post, "devices/query", body),
            };
            AssertEnveloped(r, $"#{i} body {Convert.ToHexString(body)}");
        }

        Assert.False(fixture.Emulator.HasExited);
        Assert.Equal(HttpStatusCode.OK, (await hub.GetAsync("twins/" + id)).Status);
        Assert.Equal(0, (long)(await hub.GetAsync("$twinps/stats")).Obj["serverErrors"]!);
        MalformedJsonTests.AssertNoErrorLogged(fixture.Emulator.StandardError);
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
            string json = i % 7 == 0
                ? new JsonObject { ["query"] = query }.ToJsonString().TrimEnd('}') + ",\"query\":\"SELECT * FROM devices\"}"
                : new JsonObject { ["query"] = query }.ToJsonString();
            byte[] body = i % 7 == 0 ? Encoding.UTF8.GetBytes(json) : Poison(json, random);
            HubResponse r = await hub.SendBytesAsync(HttpMethod.Post, "devices/query", body);
            AssertEnveloped(r, $"#{i} query {Convert.ToHexString(body)}");
        }

        Assert.False(fixture.Emulator.HasExited);
        Assert.Equal(HttpStatusCode.OK, (await hub.GetAsync("statistics/devices")).Status);
        Assert.Equal(0, (long)(await hub.GetAsync("$twinps/stats")).Obj["serverErrors"]!);
        MalformedJsonTests.AssertNoErrorLogged(fixture.Emulator.StandardError);
    }
}
