using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using TwinPS.Protocol;

namespace TwinPS.Emulator.Rest;

/// <summary>Reads and parses request bodies; malformed JSON is 400 <c>IotHubFormatError</c>.</summary>
internal static class RequestBody
{
    private static readonly JsonDocumentOptions ParseOptions = new() { MaxDepth = RestLimits.MaxJsonDepth };

    /// <summary>Reads the whole body (bounded by Kestrel's MaxRequestBodySize).</summary>
    public static async Task<byte[]> ReadBytesAsync(HttpContext context)
    {
        using var buffer = new MemoryStream();
        await context.Request.Body.CopyToAsync(buffer, context.RequestAborted).ConfigureAwait(false);
        return buffer.ToArray();
    }

    /// <summary>Parses the body as JSON; an empty body, invalid JSON or JSON nested deeper than the parser's limit is 400 IotHubFormatError.</summary>
    public static async Task<JsonNode> ReadJsonAsync(HttpContext context)
    {
        byte[] bytes = await ReadBytesAsync(context).ConfigureAwait(false);
        return Parse(bytes);
    }

    public static JsonNode Parse(ReadOnlySpan<byte> bytes)
    {
        if (bytes.IsEmpty) throw new IoTHubProtocolException(IoTHubErrorCode.IotHubFormatError, "The request body is empty; a JSON document is required.");
        try
        {
            return JsonNode.Parse(bytes, documentOptions: ParseOptions)
                ?? throw new IoTHubProtocolException(IoTHubErrorCode.IotHubFormatError, "The request body is JSON null; a JSON object is required.");
        }
        catch (JsonException ex)
        {
            throw new IoTHubProtocolException(
                IoTHubErrorCode.IotHubFormatError,
                $"The request body is not valid JSON (line {ex.LineNumber + 1}, byte {ex.BytePositionInLine + 1}).");
        }
    }

    /// <summary>Parses the body as a JSON object.</summary>
    public static async Task<JsonObject> ReadObjectAsync(HttpContext context)
    {
        JsonNode node = await ReadJsonAsync(context).ConfigureAwait(false);
        return node as JsonObject ?? throw new IoTHubProtocolException(IoTHubErrorCode.IotHubFormatError, "The request body must be a JSON object.");
    }
}
