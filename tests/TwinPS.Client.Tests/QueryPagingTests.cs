using System.Text.Json.Nodes;
using TwinPS.Client.Tests.Infrastructure;

namespace TwinPS.Client.Tests;

public sealed class QueryPagingTests : IAsyncLifetime
{
    // A token with the characters the official SDK capture showed surviving: + / # ~ " { , :
    private const string Token1 = """{"token":"+RID:~rMSZh/eQ#RT:1#TRC:1","range":{"min":"","max":"FF"}}""";
    private const string Token2 = """{"token":"+RID:~rMSZh/eQ#RT:2#TRC:2","range":{"min":"","max":"FF"}}""";
    private const string Query = "SELECT * FROM devices WHERE tags.location.plant = 'Redmond43'";

    private TestHttpsServer _server = null!;

    public async Task InitializeAsync()
    {
        _server = await TestHttpsServer.StartAsync();
        _server.Handler = (request, ctx) =>
        {
            var continuation = request.Header("x-ms-continuation");
            return continuation switch
            {
                null => TestHttpsServer.Reply(ctx, 200, $"[{TestClients.TwinJson("d1")},{TestClients.TwinJson("d2")}]", ("x-ms-item-type", "Twin"), ("x-ms-continuation", Token1)),
                Token1 => TestHttpsServer.Reply(ctx, 200, $"[{TestClients.TwinJson("d3")},{TestClients.TwinJson("d4")}]", ("x-ms-item-type", "Twin"), ("x-ms-continuation", Token2)),
                Token2 => TestHttpsServer.Reply(ctx, 200, $"[{TestClients.TwinJson("d5")}]", ("x-ms-item-type", "Twin")),
                _ => TestHttpsServer.ReplyError(ctx, 400, "ArgumentInvalid", "bad continuation"),
            };
        };
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task All_pages_are_streamed_with_the_continuation_echoed_byte_for_byte()
    {
        using var client = TestClients.For(_server);
        var pages = new List<QueryPage>();

        await foreach (var page in client.QueryAsync(Query, new QueryOptions { PageSize = 2 }))
        {
            pages.Add(page);
        }

        Assert.Equal([2, 2, 1], pages.Select(p => p.Items.Count));
        Assert.All(pages, p => Assert.Equal("Twin", p.ItemType));
        Assert.Equal(Token1, pages[0].ContinuationToken);
        Assert.Null(pages[2].ContinuationToken);
        var requests = _server.Requests;
        Assert.Equal(3, requests.Count);
        Assert.All(requests, r =>
        {
            Assert.Equal("POST", r.Method);
            Assert.Equal("/devices/query?api-version=2021-04-12", r.RawTarget);
            Assert.Equal("2", r.Header("x-ms-max-item-count"));
            Assert.Equal(Query, JsonNode.Parse(r.Body)!["query"]!.GetValue<string>());
            Assert.StartsWith("application/json", r.Header("Content-Type"), StringComparison.Ordinal);
        });
        Assert.Null(requests[0].Header("x-ms-continuation"));
        Assert.Equal(Token1, requests[1].Header("x-ms-continuation"));
        Assert.Equal(Token2, requests[2].Header("x-ms-continuation"));
        Assert.Equal(requests[0].Body, requests[2].Body);
    }

    [Fact]
    public async Task Stopping_after_the_first_page_fetches_no_further_page()
    {
        using var client = TestClients.For(_server);

        await foreach (var page in client.QueryAsync(Query))
        {
            Assert.Equal(2, page.Items.Count);
            break;
        }

        Assert.Single(_server.Requests);
        Assert.Null(_server.Requests[0].Header("x-ms-max-item-count"));
    }

    [Fact]
    public async Task Items_flatten_lazily()
    {
        using var client = TestClients.For(_server);
        var ids = new List<string>();

        await foreach (var item in client.QueryItemsAsync(Query))
        {
            ids.Add(item.AsTwin()!.DeviceId);
            if (ids.Count == 3)
            {
                break;
            }
        }

        Assert.Equal(["d1", "d2", "d3"], ids);
        Assert.Equal(2, _server.Requests.Count);
    }

    [Fact]
    public async Task A_continuation_token_resumes_a_query()
    {
        using var client = TestClients.For(_server);

        var page = await client.QueryPageAsync(Query, new QueryOptions { ContinuationToken = Token2 });

        Assert.Single(page.Items);
        Assert.Null(page.ContinuationToken);
        Assert.Equal(Token2, _server.Requests[0].Header("x-ms-continuation"));
    }

    [Fact]
    public async Task Projection_pages_are_raw_items()
    {
        _server.Handler = (_, ctx) => TestHttpsServer.Reply(ctx, 200, """[{"total":5}]""", ("x-ms-item-type", "Raw"));
        using var client = TestClients.For(_server);

        var item = await client.QueryItemsAsync("SELECT COUNT() AS total FROM devices").SingleAsync();

        Assert.Equal("Raw", item.ItemType);
        Assert.Null(item.AsTwin());
        Assert.Equal(5, item.Item["total"]!.GetValue<int>());
    }

    [Fact]
    public async Task A_rejected_query_points_at_the_offending_token()
    {
        _server.Handler = (_, ctx) => TestHttpsServer.ReplyError(ctx, 400, "ArgumentInvalid", "BadRequest");
        using var client = TestClients.For(_server);

        var ex = await Assert.ThrowsAsync<IoTHubServiceException>(async () =>
        {
            await foreach (var _ in client.QueryAsync("SELECT * FORM devices"))
            {
            }
        });

        Assert.Equal(400, ex.Status);
        Assert.NotNull(ex.QueryDiagnosis);
        Assert.Contains("FORM", ex.QueryDiagnosis, StringComparison.Ordinal);
        Assert.Contains("line 1", ex.QueryDiagnosis, StringComparison.Ordinal);
        Assert.Contains(ex.QueryDiagnosis, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_page_of_twins_keeps_every_item_in_order_and_skips_nulls()
    {
        // Twins with nested objects and arrays, an item that only looks like a twin (its deviceId is a number), a null,
        // and a scalar: the twins read as twins, the rest as the JSON they are.
        var body = "[" + TestClients.TwinJson("d1") + """,null,{"deviceId":7,"x":[{"deviceId":"no"}]},"text",""" +
            """{"deviceId":"d2","tags":{"a":{"b":[1,{"c":null}]}},"properties":{"desired":{"$version":2}}}]""";
        _server.Handler = (_, ctx) => TestHttpsServer.Reply(ctx, 200, body, ("x-ms-item-type", "Twin"));
        using var client = TestClients.For(_server);

        var page = await client.QueryPageAsync(Query);

        Assert.True(page.IsTwin);
        Assert.Equal(4, page.Count);
        Assert.Equal("d1", page.TwinAt(0)!.DeviceId);
        Assert.Null(page.TwinAt(1));
        Assert.Equal(7, page.ItemAt(1)["deviceId"]!.GetValue<int>());
        Assert.Null(page.TwinAt(2));
        Assert.Equal("text", page.ItemAt(2).GetValue<string>());
        var twin = page.TwinAt(3)!;
        Assert.Equal("d2", twin.DeviceId);
        Assert.Equal(2, twin.DesiredVersion);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"a":{"b":[1,{"c":null}]}}"""), twin.Tags));
        Assert.Same(twin.Json, page.ItemAt(3));
        Assert.Same(twin.Json, page.Items[3]);
        var expected = JsonNode.Parse(body)!.AsArray().Where(n => n is not null).Select(n => n!.ToJsonString());
        Assert.Equal(expected, page.Items.Select(i => i.ToJsonString()));
    }

    [Theory]
    [InlineData("[" + "{\"deviceId\":\"d1\"}", "not valid JSON")]
    [InlineData("[{\"deviceId\":\"d1\"}] []", "not valid JSON")]
    [InlineData("{\"deviceId\":\"d1\"}", "something other than a JSON array")]
    public async Task A_page_of_twins_that_is_not_a_JSON_array_is_an_invalid_response(string body, string expected)
    {
        _server.Handler = (_, ctx) => TestHttpsServer.Reply(ctx, 200, body, ("x-ms-item-type", "Twin"));
        using var client = TestClients.For(_server);

        var ex = await Assert.ThrowsAsync<IoTHubServiceException>(() => client.QueryPageAsync(Query));

        Assert.Equal("InvalidResponse", ex.ErrorCode);
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(101)]
    public void Page_size_outside_1_to_100_is_refused(int size)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new QueryOptions { PageSize = size });
    }

    [Fact]
    public async Task Too_long_a_query_is_refused_before_any_request()
    {
        using var client = TestClients.For(_server);

        Assert.Throws<ArgumentException>(() => client.QueryAsync("SELECT * FROM devices WHERE deviceId = '" + new string('x', 8200) + "'"));

        await Task.Delay(TimeBounds.Quiet); // nothing may arrive later either
        Assert.Empty(_server.Requests);
    }
}

internal static class AsyncEnumerableExtensions
{
    public static async Task<T> SingleAsync<T>(this IAsyncEnumerable<T> source)
    {
        var list = new List<T>();
        await foreach (var item in source)
        {
            list.Add(item);
        }

        return Assert.Single(list);
    }
}
