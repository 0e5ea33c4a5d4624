using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using TwinPS.Protocol;

namespace TwinPS.Emulator.Rest;

/// <summary>Where the next page of a query starts: after a twin key (streamed queries) or at a row offset (aggregates).</summary>
internal sealed record QueryPosition(string? AfterDeviceId, string? AfterModuleId, int Offset);

/// <summary>
/// Opaque, tamper-evident continuation tokens: base64url(JSON position + hash of the query text) + "." + HMAC.
/// A token is valid only for the query text it was issued for; anything forged, truncated or reused with
/// another query is rejected with 400.
/// </summary>
internal sealed class QueryContinuation
{
    private readonly byte[] _secret = RandomNumberGenerator.GetBytes(32);

    public string Create(string queryText, QueryPosition position)
    {
        ArgumentNullException.ThrowIfNull(position);
        var payload = new TokenPayload { Q = QueryHash(queryText), D = position.AfterDeviceId, M = position.AfterModuleId, O = position.Offset };
        byte[] json = JsonSerializer.SerializeToUtf8Bytes(payload);
        return Base64Url(json) + "." + Base64Url(Sign(json));
    }

    /// <summary>Reads a token; throws 400 <c>ArgumentInvalid</c> when it is not one this emulator issued for this query.</summary>
    public QueryPosition Read(string queryText, string token)
    {
        ArgumentNullException.ThrowIfNull(token);
        int dot = token.IndexOf('.', StringComparison.Ordinal);
        byte[]? json = dot > 0 ? FromBase64Url(token[..dot]) : null;
        byte[]? mac = dot > 0 ? FromBase64Url(token[(dot + 1)..]) : null;
        if (json is null || mac is null || !CryptographicOperations.FixedTimeEquals(mac, Sign(json)))
            throw Invalid();
        TokenPayload? payload;
        try
        {
            payload = JsonSerializer.Deserialize<TokenPayload>(json);
        }
        catch (JsonException)
        {
            throw Invalid();
        }

        if (payload is null || payload.Q != QueryHash(queryText) || payload.O < 0) throw Invalid();
        return new QueryPosition(payload.D, payload.M, payload.O);
    }

    private static IoTHubProtocolException Invalid() =>
        new(IoTHubErrorCode.ArgumentInvalid, "The continuation token is invalid: it was not issued by this hub for this query.");

    private byte[] Sign(byte[] json) => HMACSHA256.HashData(_secret, json)[..16];

    private static string QueryHash(string queryText) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(queryText))[..12]);

    private static string Base64Url(byte[] data) => Convert.ToBase64String(data).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static byte[]? FromBase64Url(string text)
    {
        if (text.Length == 0 || text.Length > 4096) return null;
        string b64 = text.Replace('-', '+').Replace('_', '/');
        b64 = b64.PadRight(b64.Length + ((4 - (b64.Length % 4)) % 4), '=');
        byte[] buffer = new byte[b64.Length];
        return Convert.TryFromBase64String(b64, buffer, out int n) ? buffer[..n] : null;
    }

    private sealed class TokenPayload
    {
        public string Q { get; set; } = "";

        public string? D { get; set; }

        public string? M { get; set; }

        public int O { get; set; }
    }
}
