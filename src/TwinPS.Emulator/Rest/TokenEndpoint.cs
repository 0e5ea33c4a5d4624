using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using TwinPS.Emulator.Security;
using TwinPS.Protocol;

namespace TwinPS.Emulator.Rest;

/// <summary>
/// <c>POST /$twinps/token</c>: the emulator's TEST-SUPPORT token endpoint, the stand-in for asking Microsoft Entra ID
/// for an access token. No real hub has it. Served only to loopback clients (<see cref="EnsureLoopback"/>) that sign
/// with a policy holding every right, like <c>iothubowner</c> (<see cref="HubOperation.IssueEmulatorToken"/>: whoever
/// holds the owner key may grant roles, as a subscription owner assigns them in Azure).
/// Body: <c>{"roles": ["IoT Hub Data Reader", …], "lifetimeSeconds": 3600, "audience": "https://iothubs.azure.net",
/// "principalId": "&lt;guid&gt;", "principalName": "…"}</c> (only <c>roles</c> is required). Answer:
/// <c>{"accessToken": "…", "tokenType": "Bearer", "expiresOn": &lt;unix seconds&gt;, "principalId": "…"}</c>.
/// </summary>
internal sealed class TokenEndpoint(EntraTokenIssuer issuer)
{
    private const int MaxNameLength = 128;
    private const int MaxAudienceLength = 256;
    private static readonly TimeSpan DefaultLifetime = TimeSpan.FromHours(1);

    /// <summary>Answers 404 to a client that is not on a loopback address: the endpoint does not exist for it.</summary>
    public static void EnsureLoopback(HttpContext context)
    {
        IPAddress? remote = context.Connection.RemoteIpAddress;
        if (remote is null || !IPAddress.IsLoopback(remote))
            throw new IoTHubProtocolException(IoTHubErrorCode.GenericNotFound, "The emulator serves its test token endpoint on loopback only.");
    }

    /// <summary>Issues a token as the request body asks (the caller was authorized by the route).</summary>
    public async Task IssueAsync(HttpContext context)
    {
        JsonObject body = await RequestBody.ReadObjectAsync(context).ConfigureAwait(false);
        string[] roles = ReadRoles(body["roles"]);
        TimeSpan lifetime = ReadLifetime(body["lifetimeSeconds"]);
        string audience = ReadString(body, "audience", MaxAudienceLength) ?? EntraTokenIssuer.IoTHubAudience;
        string principalId = ReadString(body, "principalId", MaxNameLength) ?? Guid.NewGuid().ToString();
        if (!Guid.TryParse(principalId, out _))
            throw new IoTHubProtocolException(IoTHubErrorCode.ArgumentInvalid, "'principalId' must be a GUID.");
        string principalName = ReadString(body, "principalName", MaxNameLength) ?? "twinps-emulator-test-principal";

        IssuedToken token = issuer.Issue(roles, lifetime, audience, principalId, principalName);
        await HttpJson.WriteAsync(context, 200, w =>
        {
            w.WriteStartObject();
            w.WriteString("accessToken", token.AccessToken);
            w.WriteString("tokenType", "Bearer");
            w.WriteNumber("expiresOn", token.ExpiresOn.ToUnixTimeSeconds());
            w.WriteString("principalId", principalId);
            w.WriteEndObject();
        }).ConfigureAwait(false);
    }

    private static string[] ReadRoles(JsonNode? node)
    {
        if (node is not JsonArray array || array.Count == 0)
            throw new IoTHubProtocolException(IoTHubErrorCode.ArgumentInvalid,
                "'roles' must be a non-empty array of IoT Hub data roles: " + string.Join(", ", EntraRoles.Names) + ".");
        var roles = new List<string>();
        foreach (JsonNode? item in array)
        {
            string? given = item is JsonValue value && value.TryGetValue(out string? text) ? text : null;
            string? canonical = given is null || given.Length > MaxNameLength ? null : EntraRoles.Canonical(given);
            if (canonical is null)
                throw new IoTHubProtocolException(IoTHubErrorCode.ArgumentInvalid,
                    "Each role must be one of: " + string.Join(", ", EntraRoles.Names) + ".");
            if (!roles.Contains(canonical, StringComparer.Ordinal)) roles.Add(canonical);
        }

        return [.. roles];
    }

    private static TimeSpan ReadLifetime(JsonNode? node)
    {
        if (node is null) return DefaultLifetime;
        long max = (long)EntraTokenIssuer.MaxLifetime.TotalSeconds;
        if (node is JsonValue value && value.TryGetValue(out long seconds) && seconds >= -max && seconds <= max)
            return TimeSpan.FromSeconds(seconds);
        throw new IoTHubProtocolException(IoTHubErrorCode.ArgumentInvalid, string.Create(CultureInfo.InvariantCulture,
            $"'lifetimeSeconds' must be a whole number from {-max} to {max} (zero or less issues an already expired token)."));
    }

    private static string? ReadString(JsonObject body, string name, int maxLength)
    {
        JsonNode? node = body[name];
        if (node is null) return null;
        if (node is JsonValue value && value.TryGetValue(out string? text) && text.Length is > 0 && text.Length <= maxLength) return text;
        throw new IoTHubProtocolException(IoTHubErrorCode.ArgumentInvalid,
            string.Create(CultureInfo.InvariantCulture, $"'{name}' must be a string of 1 to {maxLength} characters."));
    }
}
