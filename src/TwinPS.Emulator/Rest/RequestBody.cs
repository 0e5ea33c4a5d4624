using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using TwinPS.Protocol;

namespace TwinPS.Emulator.Rest;

/// <summary>Reads and parses request bodies; malformed JSON is 400 <c>IotHubFormatError</c>.</summary>
internal static class RequestBody
{
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
            // Strict: invalid UTF-8, a lone surrogate or a repeated name is refused here, not found later by whatever
            // reads the value (which would answer 500 after part of the request was applied).
            return StrictJson.Parse(bytes, RestLimits.MaxJsonDepth)
                ?? throw new IoTHubProtocolException(IoTHubErrorCode.IotHubFormatError, "The request body is JSON null; a JSON object is required.");
        }
        catch (JsonException ex)
        {
            throw new IoTHubProtocolException(IoTHubErrorCode.IotHubFormatError, Describe("The request body", ex));
        }
    }

    /// <summary>"<paramref name="what"/> is not valid JSON …" with the position the parser gives, or its own reason.</summary>
    public static string Describe(string what, JsonException ex)
    {
        ArgumentNullException.ThrowIfNull(ex);
        return ex.LineNumber is { } line
            ? $"{what} is not valid JSON (line {line + 1}, byte {ex.BytePositionInLine + 1})."
            : $"{what} is not valid JSON: {ex.Message}";
    }

    /// <summary>Parses the body as a JSON object.</summary>
    public static async Task<JsonObject> ReadObjectAsync(HttpContext context)
    {
        JsonNode node = await ReadJsonAsync(context).ConfigureAwait(false);
        return node as JsonObject ?? throw new IoTHubProtocolException(IoTHubErrorCode.IotHubFormatError, "The request body must be a JSON object.");
    }
}
