using System.Collections.Concurrent;
using TwinPS.Emulator.Hosting;
using TwinPS.Protocol;

namespace TwinPS.Emulator.Security;

/// <summary>
/// Authenticates a REST request. A service SAS token (REST reference §2.1): the policy named by <c>skn</c>, the
/// signature with its primary or secondary key over the raw <c>sr</c>, the expiry, and <c>sr</c> naming this hub's
/// host; device-scoped tokens are refused; successful verifications are cached by token text until the token
/// expires. Or a bearer token of the emulator's own token issuer (<see cref="EntraTokenIssuer"/>, a test stand-in for
/// Microsoft Entra ID) carrying IoT Hub data-plane roles. Either caller is then judged by the one table,
/// <see cref="HubOperations"/>.
/// </summary>
internal sealed class RequestAuthenticator(EmulatorContext context)
{
    private const int MaxCachedTokens = 10_000;
    private readonly ConcurrentDictionary<string, (SharedAccessPolicy Policy, SharedAccessSignatureToken Token)> _verified = new(StringComparer.Ordinal);

    /// <summary>Returns who is calling (a policy, or a principal with roles), or throws 401 <c>IotHubUnauthorizedAccess</c>.</summary>
    public async ValueTask<HubCaller> AuthenticateAsync(string? authorization)
    {
        if (authorization is not null && authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            string token = authorization["Bearer ".Length..].Trim();
            if (token.Length == 0) throw Unauthorized("Unauthorized: the bearer token is empty");
            return new HubCaller(null, await context.TokenIssuer.ValidateAsync(token).ConfigureAwait(false));
        }

        return new HubCaller(Authenticate(authorization), null);
    }

    /// <summary>Returns the policy the SAS token was signed with, or throws 401 <c>IotHubUnauthorizedAccess</c>.</summary>
    public SharedAccessPolicy Authenticate(string? authorization)
    {
        if (string.IsNullOrWhiteSpace(authorization)) throw Unauthorized("Authorization header missing");
        DateTimeOffset now = DateTimeOffset.UtcNow;
        if (_verified.TryGetValue(authorization, out var cached))
        {
            if (cached.Token.IsExpired(now)) throw Unauthorized("Unauthorized: the shared access signature has expired");
            return cached.Policy;
        }

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

    /// <summary>
    /// Throws 401 <c>IotHubUnauthorizedAccess</c> unless the caller may run <paramref name="operation"/>, judged by the
    /// operation's row in <see cref="HubOperations.Table"/>: a policy needs every right of the row; a principal needs a
    /// role granting every data action of the row (IoT Hub answers 401, not 403, for a principal without the role, and
    /// names the principal and the action: docs/emulator-fidelity.md).
    /// </summary>
    public static void Demand(HubCaller caller, HubOperation operation)
    {
        ArgumentNullException.ThrowIfNull(caller);
        OperationRule rule = HubOperations.RuleOf(operation);
        if (caller.Policy is SharedAccessPolicy policy)
        {
            if ((policy.Rights & rule.Rights) != rule.Rights)
                throw Unauthorized($"Unauthorized: the shared access policy '{policy.Name}' does not grant {rule.Rights & ~policy.Rights} (needed for {operation})");
            return;
        }

        EntraPrincipal principal = caller.Principal ?? throw new ArgumentException("A caller is a policy or a principal.", nameof(caller));
        if (rule.DataActions.Count == 0)
            throw Unauthorized($"Unauthorized: {operation} needs a shared access policy with {rule.Rights}; bearer tokens are not accepted for it");
        foreach (string action in rule.DataActions)
        {
            if (!EntraRoles.Grants(principal.Roles, action))
            {
                string roles = principal.Roles.Count == 0 ? "none" : string.Join(", ", principal.Roles.Select(Shorten));
                throw Unauthorized(
                    $"Unauthorized: Principal {Shorten(principal.Id)} is not authorized for {action} due to no assigned permissions (needed for {operation}; its IoT Hub data roles: {roles})");
            }
        }
    }

    private static string Shorten(string value) => value.Length > 64 ? value[..64] + "…" : value;

    private static IoTHubProtocolException Unauthorized(string message) => new(IoTHubErrorCode.IotHubUnauthorizedAccess, message);
}

/// <summary>The caller of a REST request: a shared access policy, or (bearer token) a principal with IoT Hub data roles.</summary>
internal sealed record HubCaller(SharedAccessPolicy? Policy, EntraPrincipal? Principal);
