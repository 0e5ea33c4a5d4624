using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace TwinPS.Protocol;

/// <summary>Writes and reads IoT Hub error bodies (the three envelopes of the REST reference §5.1).</summary>
public static partial class IoTHubErrorEnvelope
{
    /// <summary>The response header that carries the symbolic error code.</summary>
    public const string ErrorCodeHeader = "iothub-errorcode";

    private const int MaxMessageLength = 2048;

    /// <summary>
    /// The classic envelope: <c>{"Message":"ErrorCode:&lt;Name&gt;;&lt;text&gt;","ExceptionMessage":"Tracking ID:&lt;id&gt;-G:0-TimeStamp:MM/dd/yyyy HH:mm:ss"}</c>.
    /// </summary>
    public static string WriteClassic(IoTHubErrorCode code, string message, string trackingId, DateTimeOffset timestamp)
    {
        var stamp = timestamp.UtcDateTime.ToString("MM/dd/yyyy HH:mm:ss", CultureInfo.InvariantCulture);
        var body = new JsonObject
        {
            ["Message"] = $"ErrorCode:{IoTHubErrors.NameOf(code)};{message}",
            ["ExceptionMessage"] = $"Tracking ID:{trackingId}-G:0-TimeStamp:{stamp}",
        };
        return body.ToJsonString();
    }

    /// <summary>
    /// The numeric envelope (used on the MQTT twin channel and by some REST operations):
    /// <c>{"errorCode":400004,"trackingId":"…","message":"…","timestampUtc":"…"}</c>.
    /// </summary>
    public static string WriteNumeric(IoTHubErrorCode code, string message, string trackingId, DateTimeOffset timestamp)
    {
        var body = new JsonObject
        {
            ["errorCode"] = (int)code,
            ["trackingId"] = trackingId,
            ["message"] = message,
            ["timestampUtc"] = TwinJson.FormatTimestamp(timestamp),
        };
        return body.ToJsonString();
    }

    /// <summary>A new tracking id (32 lower-case hex characters).</summary>
    public static string NewTrackingId() => IoTHubErrors.NewTrackingId();

    /// <summary>
    /// Reads an error response. Tries, in the C# v2 SDK's order: a numeric envelope (top level or as <c>Message</c>),
    /// <c>Message</c> as a JSON string holding a numeric envelope, the classic <c>ErrorCode:Name;text</c> form, and
    /// finally a 6-digit number after <c>errorCode:</c>. The header's code wins over the body's. Never throws.
    /// </summary>
    public static IoTHubErrorInfo Parse(int httpStatus, string? errorCodeHeader, string? body)
    {
        string? name = null;
        int? number = null;
        string? message = null;
        string? trackingId = null;

        try
        {
            ParseBody(body, ref name, ref number, ref message, ref trackingId);
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or FormatException or ArgumentException or OverflowException)
        {
            // Garbage body: keep whatever was found so far and fall through to the defaults below.
        }

        var header = errorCodeHeader?.Trim();
        if (!string.IsNullOrEmpty(header))
        {
            if (int.TryParse(header, NumberStyles.None, CultureInfo.InvariantCulture, out var headerNumber) && headerNumber is >= 100000 and <= 999999)
            {
                number ??= headerNumber;
            }
            else
            {
                name = header;
            }
        }

        if (number is null && IoTHubErrors.TryParseName(name, out var byName))
        {
            number = (int)byName;
        }

        if (name is null && number is int n && IoTHubErrors.TryFromNumber(n, out var byNumber))
        {
            name = byNumber.ToString();
        }

        if (string.IsNullOrWhiteSpace(message))
        {
            message = string.IsNullOrWhiteSpace(body) ? $"The hub answered HTTP {httpStatus}." : Truncate(body.Trim());
        }

        return new IoTHubErrorInfo
        {
            HttpStatus = httpStatus,
            CodeName = name,
            NumericCode = number,
            Message = message,
            TrackingId = string.IsNullOrWhiteSpace(trackingId) ? null : trackingId,
        };
    }

    private static void ParseBody(string? body, ref string? name, ref int? number, ref string? message, ref string? trackingId)
    {
        if (string.IsNullOrWhiteSpace(body))
        {
            return;
        }

        JsonNode? root;
        try
        {
            root = JsonNode.Parse(body, documentOptions: new JsonDocumentOptions { MaxDepth = 64 });
        }
        catch (JsonException)
        {
            message = Truncate(body.Trim());
            return;
        }

        if (root is not JsonObject obj)
        {
            message = root is JsonValue v && v.TryGetValue<string>(out var s) ? Truncate(s) : Truncate(body.Trim());
            return;
        }

        // 1. Numeric envelope at the top level.
        if (TryReadNumeric(obj, ref name, ref number, ref message, ref trackingId))
        {
            return;
        }

        var messageNode = Get(obj, "Message");
        var exceptionMessage = GetString(obj, "ExceptionMessage");

        // 2. Message as a JSON object holding the numeric envelope.
        if (messageNode is JsonObject nested && TryReadNumeric(nested, ref name, ref number, ref message, ref trackingId))
        {
            return;
        }

        var text = messageNode is JsonValue mv && mv.TryGetValue<string>(out var ms) ? ms : null;
        if (text is null)
        {
            return;
        }

        // 3. Message as a JSON string that holds the numeric envelope.
        var trimmed = text.Trim();
        if (trimmed.StartsWith('{'))
        {
            try
            {
                if (JsonNode.Parse(trimmed) is JsonObject inner && TryReadNumeric(inner, ref name, ref number, ref message, ref trackingId))
                {
                    return;
                }
            }
            catch (JsonException)
            {
                // Not JSON after all; treat as text below.
            }
        }

        // 4. Classic "ErrorCode:<Name>;<text>".
        trackingId = ReadTrackingId(exceptionMessage);
        var classic = ClassicPrefix().Match(trimmed);
        if (classic.Success)
        {
            var codeText = classic.Groups["code"].Value;
            if (int.TryParse(codeText, NumberStyles.None, CultureInfo.InvariantCulture, out var classicNumber))
            {
                number = classicNumber;
            }
            else
            {
                name = codeText;
            }

            message = Truncate(classic.Groups["text"].Value.Trim());
            return;
        }

        // 5. A 6-digit number after "errorCode:" anywhere in the text.
        var loose = LooseNumber().Match(trimmed);
        if (loose.Success)
        {
            number = int.Parse(loose.Groups["num"].Value, CultureInfo.InvariantCulture);
        }

        message = Truncate(trimmed);
    }

    private static bool TryReadNumeric(JsonObject obj, ref string? name, ref int? number, ref string? message, ref string? trackingId)
    {
        var codeNode = Get(obj, "errorCode");
        if (codeNode is not JsonValue codeValue)
        {
            return false;
        }

        if (codeValue.TryGetValue<JsonElement>(out var el) && el.ValueKind == JsonValueKind.Number && el.TryGetInt32(out var n))
        {
            number = n;
        }
        else if (codeValue.TryGetValue<int>(out var clrNumber))
        {
            number = clrNumber;
        }
        else if (codeValue.TryGetValue<string>(out var codeString))
        {
            if (int.TryParse(codeString, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed))
            {
                number = parsed;
            }
            else if (!string.IsNullOrWhiteSpace(codeString))
            {
                name = codeString.Trim();
            }
        }
        else
        {
            return false;
        }

        var text = GetString(obj, "message");
        if (!string.IsNullOrWhiteSpace(text))
        {
            message = Truncate(text);
        }

        var tracking = GetString(obj, "trackingId");
        if (!string.IsNullOrWhiteSpace(tracking))
        {
            trackingId = tracking;
        }

        return true;
    }

    private static string? ReadTrackingId(string? exceptionMessage)
    {
        if (string.IsNullOrEmpty(exceptionMessage))
        {
            return null;
        }

        var match = TrackingIdPattern().Match(exceptionMessage);
        return match.Success ? match.Groups["id"].Value : null;
    }

    private static JsonNode? Get(JsonObject obj, string name)
    {
        foreach (var pair in obj)
        {
            if (string.Equals(pair.Key, name, StringComparison.OrdinalIgnoreCase))
            {
                return pair.Value;
            }
        }

        return null;
    }

    private static string? GetString(JsonObject obj, string name) =>
        Get(obj, name) is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    private static string Truncate(string text) =>
        text.Length <= MaxMessageLength ? text : string.Concat(text.AsSpan(0, MaxMessageLength), "…");

    [GeneratedRegex(@"^ErrorCode\s*:\s*(?<code>[A-Za-z0-9_]+)\s*;?(?<text>.*)$", RegexOptions.Singleline | RegexOptions.CultureInvariant | RegexOptions.IgnoreCase)]
    private static partial Regex ClassicPrefix();

    [GeneratedRegex(@"errorCode""?\s*:\s*""?(?<num>\d{6})(?!\d)", RegexOptions.CultureInvariant | RegexOptions.IgnoreCase)]
    private static partial Regex LooseNumber();

    [GeneratedRegex(@"Tracking ID:\s*(?<id>.+?)(?:-G:|-TimeStamp:|$)", RegexOptions.CultureInvariant | RegexOptions.Singleline)]
    private static partial Regex TrackingIdPattern();
}
