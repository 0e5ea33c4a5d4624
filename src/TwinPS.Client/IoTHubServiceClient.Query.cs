using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using Azure.Core;
using TwinPS.Protocol;

namespace TwinPS.Client;

public sealed partial class IoTHubServiceClient
{
    /// <summary>Longest query text IoT Hub accepts.</summary>
    public const int MaxQueryLength = IoTHubLimits.MaxQueryLength;

    /// <summary>
    /// Runs an IoT Hub query and streams its pages. A page is requested only when the consumer asks for the next one
    /// (stopping early fetches nothing more) and at most one page is held. Continuations resend the same body with the
    /// hub's <c>x-ms-continuation</c> token byte-for-byte. A query the hub rejects (400) carries our parser's
    /// diagnosis in <see cref="IoTHubServiceException.QueryDiagnosis"/>.
    /// </summary>
    public IAsyncEnumerable<QueryPage> QueryAsync(string query, QueryOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(query);
        if (query.Length > MaxQueryLength)
        {
            throw new ArgumentException($"The query is {query.Length} characters long; IoT Hub accepts at most {MaxQueryLength}.", nameof(query));
        }

        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        return QueryPagesAsync(query, options?.PageSize, options?.ContinuationToken, cancellationToken);
    }

    /// <summary>The items of <see cref="QueryAsync"/>, page after page, lazily (with each item's page item type).</summary>
    public IAsyncEnumerable<QueryItem> QueryItemsAsync(string query, QueryOptions? options = null, CancellationToken cancellationToken = default)
    {
        var pages = QueryAsync(query, options, cancellationToken);
        return Flatten(pages, cancellationToken);

        static async IAsyncEnumerable<QueryItem> Flatten(IAsyncEnumerable<QueryPage> pages, [EnumeratorCancellation] CancellationToken ct)
        {
            await foreach (var page in pages.WithCancellation(ct).ConfigureAwait(false))
            {
                foreach (var item in page.Items)
                {
                    yield return new QueryItem(page.ItemType, item);
                }
            }
        }
    }

    /// <summary>Fetches exactly one page (for callers that manage continuation themselves).</summary>
    public async Task<QueryPage> QueryPageAsync(string query, QueryOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(query);
        return await FetchPageAsync(query, new JsonObject { ["query"] = query }, options?.PageSize, options?.ContinuationToken, cancellationToken).ConfigureAwait(false);
    }

    private async IAsyncEnumerable<QueryPage> QueryPagesAsync(string query, int? pageSize, string? continuation, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var body = new JsonObject { ["query"] = query };
        while (true)
        {
            var page = await FetchPageAsync(query, body, pageSize, continuation, cancellationToken).ConfigureAwait(false);
            yield return page;
            if (page.ContinuationToken is null)
            {
                yield break;
            }

            continuation = page.ContinuationToken;
        }
    }

    private async Task<QueryPage> FetchPageAsync(string query, JsonObject body, int? pageSize, string? continuation, CancellationToken cancellationToken)
    {
        var headers = new List<KeyValuePair<string, string>>(2);
        if (pageSize is int size)
        {
            headers.Add(new("x-ms-max-item-count", size.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        }

        if (!string.IsNullOrEmpty(continuation))
        {
            headers.Add(new("x-ms-continuation", continuation));
        }

        try
        {
            using var message = await SendAsync(RequestMethod.Post, "/devices/query", body, headers, null, cancellationToken).ConfigureAwait(false);
            var response = message.Response;
            response.Headers.TryGetValue("x-ms-item-type", out var itemType);
            response.Headers.TryGetValue("x-ms-continuation", out var next);
            // An empty continuation header is treated as the end (as the C# SDK does) so a faulty hub cannot loop us forever.
            next = string.IsNullOrEmpty(next) ? null : next;
            if (string.Equals(itemType, "Twin", StringComparison.Ordinal))
            {
                return new QueryPage(ReadTwinPage(response), next);
            }

            var items = ReadJson(response) switch
            {
                JsonArray array => ToItems(array),
                null => [],
                _ => throw NotAnArray(response),
            };
            return new QueryPage(string.IsNullOrEmpty(itemType) ? "Unknown" : itemType, items, next);
        }
        catch (IoTHubServiceException ex) when (ex.Status == 400)
        {
            ex.QueryDiagnosis ??= QueryDiagnostics.Diagnose(query);
            throw;
        }
    }

    // A page of twins, read in one pass: each twin keeps its own bytes and is parsed when first read, so a page streamed
    // to a consumer that only counts or forwards twins builds no document model; an item that is not a twin (no string
    // deviceId) is parsed as it is, and JSON nulls are skipped, as for any page.
    private static object[] ReadTwinPage(Azure.Response response)
    {
        var bytes = response.Content.ToMemory().Span;
        if (bytes.IsEmpty)
        {
            return [];
        }

        var entries = new List<object>();
        try
        {
            var reader = new Utf8JsonReader(bytes);
            reader.Read();
            if (reader.TokenType != JsonTokenType.StartArray)
            {
                throw NotAnArray(response);
            }

            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                var start = (int)reader.TokenStartIndex;
                if (reader.TokenType == JsonTokenType.StartObject)
                {
                    var isTwin = IoTHubTwin.ReadObjectHasDeviceId(ref reader);
                    var item = bytes[start..(int)reader.BytesConsumed];
                    entries.Add(isTwin ? IoTHubTwin.FromCheckedUtf8(item) : JsonNode.Parse(item)!);
                }
                else if (reader.TokenType != JsonTokenType.Null)
                {
                    reader.Skip();
                    entries.Add(JsonNode.Parse(bytes[start..(int)reader.BytesConsumed])!);
                }
            }

            IoTHubTwin.ExpectEnd(ref reader);
        }
        catch (JsonException ex)
        {
            throw NotJson(response, ex);
        }

        return entries.ToArray();
    }

    private static IoTHubServiceException NotAnArray(Azure.Response response) => new(
        "IoT Hub answered the query with something other than a JSON array.", response.Status, "InvalidResponse", null, null, isTransient: false);

    private static List<JsonNode> ToItems(JsonArray array)
    {
        var items = new List<JsonNode>(array.Count);
        // Detach the items from the array so each can be used (and re-parented) on its own.
        var nodes = array.ToList();
        array.Clear();
        foreach (var node in nodes)
        {
            if (node is not null)
            {
                items.Add(node);
            }
        }

        return items;
    }
}
