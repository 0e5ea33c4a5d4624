using System.Net;
using System.Text.Json.Nodes;
using TwinPS.Emulator.Tests.Infrastructure;

namespace TwinPS.Emulator.Tests;

public sealed class QueryTests(EmulatorFixture fixture) : IClassFixture<EmulatorFixture>
{
    private readonly HubClient _hub = fixture.Owner;

    private async Task<string> SeedAsync(int count)
    {
        string plant = "plant" + Guid.NewGuid().ToString("N")[..8];
        for (int start = 0; start < count; start += 100)
        {
            var bulk = new JsonArray();
            for (int i = start; i < Math.Min(count, start + 100); i++)
                bulk.Add(new JsonObject { ["id"] = $"{plant}-{i:D3}", ["importMode"] = "create", ["tags"] = new JsonObject { ["plant"] = plant, ["n"] = i } });
            HubResponse r = await _hub.PostAsync("devices", bulk.ToJsonString());
            Assert.Equal(HttpStatusCode.OK, r.Status);
        }

        return plant;
    }

    private Task<HubResponse> QueryAsync(string sql, int? pageSize = null, string? continuation = null) =>
        _hub.PostAsync("devices/query", new JsonObject { ["query"] = sql }.ToJsonString(), req =>
        {
            if (pageSize is not null) req.Headers.TryAddWithoutValidation("x-ms-max-item-count", pageSize.Value.ToString(System.Globalization.CultureInfo.InvariantCulture));
            if (continuation is not null) req.Headers.TryAddWithoutValidation("x-ms-continuation", continuation);
        });

    private async Task<(List<string> Ids, int Pages)> ReadAllAsync(string sql, int pageSize)
    {
        var ids = new List<string>();
        string? token = null;
        int pages = 0;
        do
        {
            HubResponse r = await QueryAsync(sql, pageSize, token);
            Assert.Equal(HttpStatusCode.OK, r.Status);
            Assert.Equal("Twin", r.Header("x-ms-item-type"));
            var page = (JsonArray)r.Json!;
            Assert.True(page.Count <= pageSize);
            token = r.Header("x-ms-continuation");
            if (token is not null) Assert.Equal(pageSize, page.Count);
            ids.AddRange(page.Select(t => (string)t!["deviceId"]!));
            pages++;
        }
        while (token is not null && pages < 1000);
        return (ids, pages);
    }

    [Fact]
    public async Task Paging_with_size_1_returns_every_twin_once_in_order_and_no_continuation_on_the_last_page()
    {
        string plant = await SeedAsync(5);
        var (ids, pages) = await ReadAllAsync($"SELECT * FROM devices WHERE tags.plant = '{plant}'", 1);
        Assert.Equal(5, pages);
        Assert.Equal(Enumerable.Range(0, 5).Select(i => $"{plant}-{i:D3}"), ids);
    }

    [Fact]
    public async Task Paging_with_size_100_and_default_and_cap()
    {
        string plant = await SeedAsync(150);
        string sql = $"SELECT * FROM devices WHERE tags.plant = '{plant}'";
        var (ids, pages) = await ReadAllAsync(sql, 100);
        Assert.Equal(2, pages);
        Assert.Equal(150, ids.Distinct().Count());

        HubResponse noHeader = await QueryAsync(sql);
        Assert.Equal(100, ((JsonArray)noHeader.Json!).Count);
        Assert.NotNull(noHeader.Header("x-ms-continuation"));
        HubResponse capped = await QueryAsync(sql, 5000);
        Assert.Equal(100, ((JsonArray)capped.Json!).Count);
    }

    [Fact]
    public async Task Writes_between_pages_neither_duplicate_nor_skip_existing_twins()
    {
        string plant = await SeedAsync(6);
        string sql = $"SELECT * FROM devices WHERE tags.plant = '{plant}'";
        HubResponse first = await QueryAsync(sql, 3);
        string token = first.Header("x-ms-continuation")!;
        await _hub.PatchAsync($"twins/{plant}-000", """{"tags":{"touched":true}}""");
        await _hub.PostAsync("devices", $$$$"""[{"id":"{{{{plant}}}}-009","importMode":"create","tags":{"plant":"{{{{plant}}}}"}}]""");
        HubResponse second = await QueryAsync(sql, 10, token);
        string[] rest = ((JsonArray)second.Json!).Select(t => (string)t!["deviceId"]!).ToArray();
        Assert.Equal([$"{plant}-003", $"{plant}-004", $"{plant}-005", $"{plant}-009"], rest);
        Assert.Null(second.Header("x-ms-continuation"));
    }

    [Fact]
    public async Task Single_result_has_no_continuation()
    {
        string plant = await SeedAsync(3);
        HubResponse r = await QueryAsync($"SELECT * FROM devices WHERE tags.plant = '{plant}' AND tags.n = 1");
        Assert.Single((JsonArray)r.Json!);
        Assert.Null(r.Header("x-ms-continuation"));
    }

    [Theory]
    [InlineData("garbage")]
    [InlineData("eyJRIjoiIn0.AAAA")]
    [InlineData("{\"token\":\"+RID:~rMSZh/eQ#RT:1#TRC:1\",\"range\":{\"min\":\"\",\"max\":\"FF\"}}")]
    public async Task Forged_continuation_is_400(string token)
    {
        string plant = await SeedAsync(2);
        HubResponse r = await QueryAsync($"SELECT * FROM devices WHERE tags.plant = '{plant}'", 1, token);
        Assert.Equal(HttpStatusCode.BadRequest, r.Status);
        Assert.Equal("ArgumentInvalid", r.Header("iothub-errorcode"));
    }

    [Fact]
    public async Task Continuation_of_another_query_or_tampered_is_400()
    {
        string plant = await SeedAsync(3);
        HubResponse first = await QueryAsync($"SELECT * FROM devices WHERE tags.plant = '{plant}'", 1);
        string token = first.Header("x-ms-continuation")!;
        HubResponse other = await QueryAsync("SELECT * FROM devices", 1, token);
        Assert.Equal(HttpStatusCode.BadRequest, other.Status);
        char first0 = token[0];
        string tampered = (first0 == 'e' ? 'f' : 'e') + token[1..];
        Assert.Equal(HttpStatusCode.BadRequest, (await QueryAsync($"SELECT * FROM devices WHERE tags.plant = '{plant}'", 1, tampered)).Status);
    }

    [Fact]
    public async Task Projections_are_Raw_with_canonical_names()
    {
        string plant = await SeedAsync(2);
        HubResponse r = await QueryAsync($"SELECT deviceId, tags.n AS num FROM devices WHERE tags.plant = '{plant}'");
        Assert.Equal(HttpStatusCode.OK, r.Status);
        Assert.Equal("Raw", r.Header("x-ms-item-type"));
        var rows = (JsonArray)r.Json!;
        Assert.Equal(2, rows.Count);
        Assert.Equal($"{plant}-000", (string)rows[0]!["deviceId"]!);
        Assert.Equal(0, (int)rows[0]!["num"]!);
    }

    [Fact]
    public async Task Aggregates_are_Raw_and_paged()
    {
        string plant = await SeedAsync(4);
        HubResponse count = await QueryAsync($"SELECT COUNT() AS total FROM devices WHERE tags.plant = '{plant}'");
        Assert.Equal("Raw", count.Header("x-ms-item-type"));
        Assert.Equal("""[{"total":4}]""", count.Json!.ToJsonString());

        HubResponse grouped = await QueryAsync($"SELECT tags.n AS n, COUNT() AS c FROM devices WHERE tags.plant = '{plant}' GROUP BY tags.n", 3);
        Assert.Equal(3, ((JsonArray)grouped.Json!).Count);
        string? token = grouped.Header("x-ms-continuation");
        Assert.NotNull(token);
        HubResponse rest = await QueryAsync($"SELECT tags.n AS n, COUNT() AS c FROM devices WHERE tags.plant = '{plant}' GROUP BY tags.n", 3, token);
        Assert.Single((JsonArray)rest.Json!);
        Assert.Null(rest.Header("x-ms-continuation"));
    }

    [Fact]
    public async Task Module_twins_and_top()
    {
        string id = Ids.New();
        await _hub.CreateDeviceAsync(id);
        await _hub.PutAsync($"devices/{id}/modules/m1", "{}");
        await _hub.PutAsync($"devices/{id}/modules/m2", "{}");
        HubResponse r = await QueryAsync($"SELECT * FROM devices.modules WHERE deviceId = '{id}'", 1);
        Assert.Equal("Twin", r.Header("x-ms-item-type"));
        Assert.Equal("m1", (string)((JsonArray)r.Json!)[0]!["moduleId"]!);
        HubResponse r2 = await QueryAsync($"SELECT * FROM devices.modules WHERE deviceId = '{id}'", 1, r.Header("x-ms-continuation"));
        Assert.Equal("m2", (string)((JsonArray)r2.Json!)[0]!["moduleId"]!);
        Assert.Null(r2.Header("x-ms-continuation"));

        string plant = await SeedAsync(5);
        var (ids, _) = await ReadAllAsync($"SELECT TOP 3 * FROM devices WHERE tags.plant = '{plant}'", 2);
        Assert.Equal(3, ids.Count);
    }

    [Theory]
    [InlineData("SELECT * FROM")]
    [InlineData("SELEC * FROM devices")]
    [InlineData("SELECT * FROM devices WHERE")]
    [InlineData("SELECT * FROM devices WHERE tags.x = 'unterminated")]
    public async Task Syntax_errors_are_400_ArgumentInvalid(string sql)
    {
        HubResponse r = await QueryAsync(sql);
        Assert.Equal(HttpStatusCode.BadRequest, r.Status);
        Assert.Equal("ArgumentInvalid", r.Header("iothub-errorcode"));
    }

    [Fact]
    public async Task Bad_query_bodies_are_400()
    {
        Assert.Equal("IotHubFormatError", (await _hub.PostAsync("devices/query", "{\"query\":")).Header("iothub-errorcode"));
        Assert.Equal("ArgumentInvalid", (await _hub.PostAsync("devices/query", "{\"q\":\"SELECT * FROM devices\"}")).Header("iothub-errorcode"));
        Assert.Equal(HttpStatusCode.BadRequest, (await QueryAsync("SELECT * FROM devices WHERE tags.x = '" + new string('a', 9000) + "'")).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await _hub.PostAsync("devices/query", "{\"query\":\"SELECT * FROM devices\"}", r => r.Headers.TryAddWithoutValidation("x-ms-max-item-count", "lots"))).Status);
    }
}
