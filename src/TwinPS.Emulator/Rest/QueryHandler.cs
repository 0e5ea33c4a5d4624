using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using TwinPS.Emulator.Domain;
using TwinPS.Protocol;
using TwinPS.Query;
using QueryCollection = TwinPS.Query.QueryCollection;

namespace TwinPS.Emulator.Rest;

/// <summary>
/// POST /devices/query. Non-aggregate queries stream over the twins in (deviceId, moduleId) order and stop as soon as
/// the page is full and one more match proves another page exists, so a page never needs the whole result; the
/// continuation token records the last key served. Aggregates are computed over all twins and paged by row offset.
/// </summary>
internal sealed class QueryHandler(DeviceTable devices, QueryContinuation continuation, Jobs.JobService jobs)
{
    private const string ContinuationHeader = "x-ms-continuation";

    public async Task QueryAsync(HttpContext context)
    {
        JsonObject body = await RequestBody.ReadObjectAsync(context).ConfigureAwait(false);
        if (body["query"] is not JsonValue queryValue || !queryValue.TryGetValue(out string? text) || string.IsNullOrWhiteSpace(text))
            throw new IoTHubProtocolException(IoTHubErrorCode.ArgumentInvalid, "The body must be {\"query\":\"<query text>\"}.");
        if (text.Length > IoTHubLimits.MaxQueryLength)
            throw new IoTHubProtocolException(IoTHubErrorCode.ArgumentInvalid, $"The query is {text.Length} characters long; at most {IoTHubLimits.MaxQueryLength} are allowed.");

        ParsedQuery query;
        try
        {
            query = IoTHubQuery.Parse(text);
        }
        catch (QuerySyntaxException ex)
        {
            throw new IoTHubProtocolException(IoTHubErrorCode.ArgumentInvalid, "The query is invalid. " + ex.Message);
        }

        int pageSize = PageSize(context.Request.Headers["x-ms-max-item-count"]);
        string? token = context.Request.Headers[ContinuationHeader];
        QueryPosition position = string.IsNullOrEmpty(token) ? new QueryPosition(null, null, 0) : continuation.Read(text, token);

        var output = new MemoryStream();
        output.WriteByte((byte)'[');
        QueryPosition? next = query.Collection switch
        {
            QueryCollection.Jobs => RunDeviceJobs(query, position, pageSize, output),
            _ when query.IsAggregation => RunAggregate(query, position, pageSize, output),
            _ => RunStreaming(query, position, pageSize, output),
        };
        output.WriteByte((byte)']');

        context.Response.Headers["x-ms-item-type"] = query.ResultItemType;
        if (next is not null) context.Response.Headers[ContinuationHeader] = continuation.Create(text, next);
        await HttpJson.WriteBytesAsync(context, 200, output.GetBuffer().AsMemory(0, (int)output.Length)).ConfigureAwait(false);
    }

    private QueryPosition? RunStreaming(ParsedQuery query, QueryPosition position, int pageSize, MemoryStream output) =>
        WritePage(
            query,
            position,
            pageSize,
            output,
            Twins(query.Collection, position),
            // JsonNode.Parse is lazy: only the properties the WHERE clause reads are materialised.
            twin => (JsonObject)JsonNode.Parse(twin.Snapshot.TwinJson)!,
            twin => (twin.DeviceId, twin.ModuleId),
            (twin, document, writer) =>
            {
                if (query.IsSelectAll)
                    output.Write(twin.Snapshot.TwinJson);
                else
                    WriteNode(query.Project(document), output, writer);
            });

    /// <summary>FROM devices.jobs: the per-device job records in (jobId, deviceId) order (paths lose their devices.jobs. prefix).</summary>
    private QueryPosition? RunDeviceJobs(ParsedQuery query, QueryPosition position, int pageSize, MemoryStream output) =>
        WritePage(
            query,
            position,
            pageSize,
            output,
            jobs.DeviceJobsInOrder(position.AfterDeviceId, position.AfterModuleId),
            record => record.ToJson(),
            record => (record.JobId, record.DeviceId),
            (_, document, writer) => WriteNode(document, output, writer));

    /// <summary>
    /// One page of a non-aggregate query over <paramref name="candidates"/> (in key order, starting after
    /// <paramref name="position"/>): writes each match with <paramref name="write"/>, comma-separated, and stops as soon
    /// as the page is full and one more match proves another page exists. Returns where that page starts (the key of the
    /// last item served and the count served so far), or null when there is none (no more matches, or TOP is used up).
    /// </summary>
    private static QueryPosition? WritePage<T>(
        ParsedQuery query,
        QueryPosition position,
        int pageSize,
        MemoryStream output,
        IEnumerable<T> candidates,
        Func<T, JsonObject> documentOf,
        Func<T, (string? First, string? Second)> keyOf,
        Action<T, JsonObject, Utf8JsonWriter> write)
    {
        int returnedBefore = position.Offset;
        int limit = query.Top is int top ? Math.Min(pageSize, Math.Max(0, top - returnedBefore)) : pageSize;
        int written = 0;
        (string? First, string? Second) last = (null, null);
        using var writer = new Utf8JsonWriter(output, new JsonWriterOptions { SkipValidation = true });

        foreach (T candidate in candidates)
        {
            JsonObject document = documentOf(candidate);
            if (!query.Matches(document)) continue;
            if (written == limit)
            {
                // One more match exists beyond this page: there is a next page, unless TOP is used up.
                if (query.Top is int t && returnedBefore + written >= t) return null;
                return new QueryPosition(last.First, last.Second, returnedBefore + written);
            }

            if (written > 0) output.WriteByte((byte)',');
            write(candidate, document, writer);
            written++;
            last = keyOf(candidate);
        }

        return null;
    }

    private static void WriteNode(JsonNode node, MemoryStream output, Utf8JsonWriter writer)
    {
        writer.Reset(output);
        node.WriteTo(writer);
        writer.Flush();
    }

    private QueryPosition? RunAggregate(ParsedQuery query, QueryPosition position, int pageSize, MemoryStream output)
    {
        IEnumerable<JsonObject> documents = Twins(query.Collection, new QueryPosition(null, null, 0))
            .Select(t => (JsonObject)JsonNode.Parse(t.Snapshot.TwinJson)!);
        List<JsonObject> rows = query.Execute(documents).ToList();
        int start = Math.Min(position.Offset, rows.Count);
        int end = Math.Min(start + pageSize, rows.Count);
        using var writer = new Utf8JsonWriter(output, new JsonWriterOptions { SkipValidation = true });
        for (int i = start; i < end; i++)
        {
            if (i > start) output.WriteByte((byte)',');
            writer.Reset(output);
            rows[i].WriteTo(writer);
            writer.Flush();
        }

        return end < rows.Count ? new QueryPosition(null, null, end) : null;
    }

    /// <summary>Twins of the collection in key order, strictly after the position's key.</summary>
    private IEnumerable<(TwinSnapshot Snapshot, string DeviceId, string? ModuleId)> Twins(QueryCollection collection, QueryPosition after)
    {
        if (collection == QueryCollection.Devices)
        {
            string[] ids = devices.SortedDeviceIds();
            int start = 0;
            if (after.AfterDeviceId is not null)
            {
                int i = Array.BinarySearch(ids, after.AfterDeviceId, StringComparer.Ordinal);
                start = i >= 0 ? i + 1 : ~i;
            }

            for (int i = start; i < ids.Length; i++)
            {
                if (devices.FindDevice(ids[i]) is TwinSnapshot s) yield return (s, ids[i], null);
            }
        }
        else
        {
            var keys = devices.SortedModuleKeys();
            int start = 0;
            if (after.AfterDeviceId is not null)
            {
                var key = (after.AfterDeviceId, after.AfterModuleId ?? string.Empty);
                int i = Array.BinarySearch(keys, key, ModuleKeyComparer.Instance);
                start = i >= 0 ? i + 1 : ~i;
            }

            for (int i = start; i < keys.Length; i++)
            {
                if (devices.FindModule(keys[i].DeviceId, keys[i].ModuleId) is TwinSnapshot s) yield return (s, keys[i].DeviceId, keys[i].ModuleId);
            }
        }
    }

    private static int PageSize(string? header)
    {
        if (string.IsNullOrWhiteSpace(header)) return IoTHubLimits.MaxQueryPageSize;
        if (!int.TryParse(header, NumberStyles.Integer, CultureInfo.InvariantCulture, out int size))
            throw new IoTHubProtocolException(IoTHubErrorCode.ArgumentInvalid, "The x-ms-max-item-count header must be a whole number.");
        return size < 1 ? IoTHubLimits.MaxQueryPageSize : Math.Min(size, IoTHubLimits.MaxQueryPageSize);
    }

    private sealed class ModuleKeyComparer : IComparer<(string DeviceId, string ModuleId)>
    {
        public static readonly ModuleKeyComparer Instance = new();

        public int Compare((string DeviceId, string ModuleId) x, (string DeviceId, string ModuleId) y)
        {
            int c = string.CompareOrdinal(x.DeviceId, y.DeviceId);
            return c != 0 ? c : string.CompareOrdinal(x.ModuleId, y.ModuleId);
        }
    }
}
