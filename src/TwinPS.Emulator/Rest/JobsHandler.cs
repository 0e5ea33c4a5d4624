using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using TwinPS.Emulator.Jobs;
using TwinPS.Protocol;

namespace TwinPS.Emulator.Rest;

/// <summary>Jobs v2 REST: <c>PUT/GET /jobs/v2/{id}</c>, <c>POST /jobs/v2/{id}/cancel</c>, <c>GET /jobs/v2/query</c>.</summary>
internal sealed class JobsHandler(JobService jobs, QueryContinuation continuation)
{
    public async Task CreateAsync(HttpContext context, string jobId)
    {
        JsonObject body = await RequestBody.ReadObjectAsync(context).ConfigureAwait(false);
        JobRequest request = JobRequest.Parse(jobId, body, DateTimeOffset.UtcNow);
        JsonObject response = await jobs.CreateAsync(request).ConfigureAwait(false);
        await Write(context, response).ConfigureAwait(false);
    }

    public Task GetAsync(HttpContext context, string jobId) => Write(context, jobs.Get(jobId));

    public async Task CancelAsync(HttpContext context, string jobId)
    {
        JsonObject response = await jobs.CancelAsync(jobId).ConfigureAwait(false);
        await Write(context, response).ConfigureAwait(false);
    }

    /// <summary>
    /// The job list: a bare JSON array in creation order, filtered by <c>jobType</c>/<c>jobStatus</c>
    /// (case-insensitive), paged with <c>x-ms-max-item-count</c> / <c>x-ms-continuation</c>; <c>x-ms-item-type:
    /// JobResponse</c> on every page.
    /// </summary>
    public async Task QueryAsync(HttpContext context)
    {
        string? type = context.Request.Query[JobQueryWire.JobTypeParameter];
        string? status = context.Request.Query[JobQueryWire.JobStatusParameter];
        string key = "jobs/v2/query\n" + (type ?? string.Empty).ToUpperInvariant() + "\n" + (status ?? string.Empty).ToUpperInvariant();
        int pageSize = PageSize(context.Request.Headers[JobQueryWire.MaxItemCountHeader]);
        string? token = context.Request.Headers[JobQueryWire.ContinuationHeader];
        long after = string.IsNullOrEmpty(token) ? 0 : continuation.Read(key, token).Offset;

        var page = new JsonArray();
        long last = 0;
        bool more = false;
        foreach (JobRecord job in jobs.List(type, status, after))
        {
            if (page.Count == pageSize)
            {
                more = true;
                break;
            }

            page.Add(job.ToResponseJson());
            last = job.Sequence;
        }

        context.Response.Headers[JobQueryWire.ItemTypeHeader] = JobQueryWire.JobResponseItemType;
        if (more) context.Response.Headers[JobQueryWire.ContinuationHeader] = continuation.Create(key, new QueryPosition(null, null, checked((int)last)));
        await HttpJson.WriteAsync(context, 200, w => page.WriteTo(w)).ConfigureAwait(false);
    }

    private static Task Write(HttpContext context, JsonObject json) => HttpJson.WriteAsync(context, 200, w => json.WriteTo(w));

    private static int PageSize(string? header)
    {
        if (string.IsNullOrWhiteSpace(header)) return IoTHubLimits.MaxQueryPageSize;
        if (!int.TryParse(header, NumberStyles.Integer, CultureInfo.InvariantCulture, out int size))
            throw new IoTHubProtocolException(IoTHubErrorCode.ArgumentInvalid, "The x-ms-max-item-count header must be a whole number.");
        return size < 1 ? IoTHubLimits.MaxQueryPageSize : Math.Min(size, IoTHubLimits.MaxQueryPageSize);
    }
}
