using System.Collections.Concurrent;
using TwinPS.Emulator.Hosting;
using TwinPS.Protocol;

namespace TwinPS.Emulator.Security;

/// <summary>
/// Verifies the service SAS token of a REST request (REST reference §2.1): the policy named by <c>skn</c>, the signature
/// with its primary or secondary key over the raw <c>sr</c>, the expiry, and <c>sr</c> naming this hub's host.
/// Device-scoped tokens are refused. Successful verifications are cached by token text until the token expires.
/// </summary>
internal sealed class RequestAuthenticator(EmulatorContext context)
{
    private const int MaxCachedTokens = 10_000;
    private readonly ConcurrentDictionary<string, (SharedAccessPolicy Policy, SharedAccessSignatureToken Token)> _verified = new(StringComparer.Ordinal);

    /// <summary>Returns the policy the token was signed with, or throws 401 <c>IotHubUnauthorizedAccess</c>.</summary>
    public SharedAccessPolicy Authenticate(string? authorization)
    {
        if (string.IsNullOrWhiteSpace(authorization)) throw Unauthorized("Authorization header missing");
        DateTimeOffset now = DateTimeOffset.UtcNow;
        if (_verified.TryGetValue(authorization, out var cached))
        {
            if (cached.Token.IsExpired(now)) throw Unauthorized("Unauthorized: the shared access signature has expired");
            return cached.Policy;
        }

        if (authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
            throw Unauthorized("Unauthorized: Microsoft Entra ID tokens are not supported by the emulator; use a shared access signature");

        SharedAccessSignatureToken token;
        try
        {
            token = SharedAccessSignature.Parse(authorization);
        }
        catch (SharedAccessSignatureFormatException ex)
        {
            throw Unauthorized("Unauthorized: " + ex.Message);
        }

        if (token.KeyName is null)
            throw Unauthorized("Unauthorized: the token has no 'skn' (a device-scoped token is not valid for service operations)");
        SharedAccessPolicy policy = context.Policies.Find(token.KeyName)
            ?? throw Unauthorized($"Unauthorized: no shared access policy named '{Shorten(token.KeyName)}'");
        if (!HubTokenRules.NamesTheHub(token, context))
            throw Unauthorized("Unauthorized: the token's resource (sr) does not name this hub");
        if (!token.IsSignatureValid(policy.PrimaryKey) && !token.IsSignatureValid(policy.SecondaryKey))
            throw Unauthorized("Unauthorized: the signature does not match the policy's keys");
        if (token.IsExpired(now)) throw Unauthorized("Unauthorized: the shared access signature has expired");
        if (HubTokenRules.ExpiresTooLate(token, now))
            throw Unauthorized("Unauthorized: the shared access signature expires more than 10 years from now (the longest lifetime IoT Hub supports)");

        if (_verified.Count >= MaxCachedTokens) _verified.Clear();
        _verified[authorization] = (policy, token);
        return policy;
    }

    /// <summary>Throws 401 when <paramref name="policy"/> lacks a right <paramref name="operation"/> needs (<see cref="HubOperations.Rights"/>).</summary>
    public static void Demand(SharedAccessPolicy policy, HubOperation operation)
    {
        ArgumentNullException.ThrowIfNull(policy);
        AccessRights required = HubOperations.RequiredRights(operation);
        if ((policy.Rights & required) != required)
            throw Unauthorized($"Unauthorized: the shared access policy '{policy.Name}' does not grant {required & ~policy.Rights} (needed for {operation})");
    }

    private static string Shorten(string value) => value.Length > 64 ? value[..64] + "…" : value;

    private static IoTHubProtocolException Unauthorized(string message) => new(IoTHubErrorCode.IotHubUnauthorizedAccess, message);
}
