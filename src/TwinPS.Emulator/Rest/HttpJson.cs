using System.Buffers;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using TwinPS.Protocol;

namespace TwinPS.Emulator.Rest;

/// <summary>Writes JSON responses and IoT Hub error responses with the hub's headers.</summary>
internal static class HttpJson
{
    public const string JsonContentType = "application/json; charset=utf-8";

    private static readonly JsonWriterOptions WriterOptions = new() { Indented = false, SkipValidation = true };

    /// <summary>Writes a JSON body produced by <paramref name="write"/> with a Content-Length.</summary>
    public static Task WriteAsync(HttpContext context, int status, Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            write(writer);
        }

        return WriteBytesAsync(context, status, buffer.WrittenMemory);
    }

    /// <summary>Writes pre-serialised JSON bytes.</summary>
    public static Task WriteBytesAsync(HttpContext context, int status, ReadOnlyMemory<byte> json)
    {
        HttpResponse response = context.Response;
        response.StatusCode = status;
        response.ContentType = JsonContentType;
        response.ContentLength = json.Length;
        return response.Body.WriteAsync(json).AsTask();
    }

    /// <summary>Writes the classic error envelope with <c>iothub-errorcode</c> (and <c>IotHubErrorCode</c>) headers.</summary>
    public static Task WriteErrorAsync(HttpContext context, IoTHubErrorCode code, string message)
    {
        if (!TryStartError(context, code, out string trackingId)) return Task.CompletedTask;
        string body = IoTHubErrorEnvelope.WriteClassic(code, message, trackingId, DateTimeOffset.UtcNow);
        byte[] bytes = System.Text.Encoding.UTF8.GetBytes(body);
        return WriteBytesAsync(context, IoTHubErrors.HttpStatusOf(code), bytes);
    }

    /// <summary>
    /// The nested envelope the hub uses for direct-method failures:
    /// <c>{"Message":"{\"errorCode\":404103,\"trackingId\":…,\"message\":…,\"info\":{…},\"timestampUtc\":…}","ExceptionMessage":""}</c>
    /// with the <c>iothub-errorcode</c> header.
    /// </summary>
    public static Task WriteNestedErrorAsync(HttpContext context, IoTHubErrorCode code, string message, System.Text.Json.Nodes.JsonObject info)
    {
        if (!TryStartError(context, code, out string trackingId)) return Task.CompletedTask;
        var inner = new System.Text.Json.Nodes.JsonObject
        {
            ["errorCode"] = (int)code,
            ["trackingId"] = trackingId,
            ["message"] = message,
            ["info"] = info.DeepClone(),
            ["timestampUtc"] = TwinJson.FormatTimestamp(DateTimeOffset.UtcNow),
        };
        var outer = new System.Text.Json.Nodes.JsonObject { ["Message"] = inner.ToJsonString(), ["ExceptionMessage"] = string.Empty };
        return WriteBytesAsync(context, IoTHubErrors.HttpStatusOf(code), System.Text.Encoding.UTF8.GetBytes(outer.ToJsonString()));
    }

    /// <summary>
    /// Clears the response and sets the error headers (<c>iothub-errorcode</c>, <c>IotHubErrorCode</c>,
    /// <c>x-ms-request-id</c>); false when the response has already started (nothing more can be said).
    /// </summary>
    private static bool TryStartError(HttpContext context, IoTHubErrorCode code, out string trackingId)
    {
        trackingId = string.Empty;
        HttpResponse response = context.Response;
        if (response.HasStarted) return false;
        response.Clear();
        trackingId = IoTHubErrors.NewTrackingId();
        string name = IoTHubErrors.NameOf(code);
        response.Headers[IoTHubErrorEnvelope.ErrorCodeHeader] = name;
        response.Headers["IotHubErrorCode"] = name;
        response.Headers["x-ms-request-id"] = trackingId;
        return true;
    }
}
