using Azure.Core;
using Azure.Identity;

namespace TwinPS.Client;

/// <summary>
/// A <see cref="TokenCredential"/> whose tokens come from the local emulator's own token issuer (a TEST STAND-IN for
/// Microsoft Entra ID, never a real Entra trust), for a principal holding the given IoT Hub data-plane roles. Each
/// call asks the emulator for a fresh token of <see cref="Lifetime"/> (Azure.Core's bearer-token policy caches it and
/// asks again before it expires), for the audience of the requested scope, as Entra would. The tokens are never
/// stored here and never appear in <see cref="ToString"/>.
/// </summary>
public sealed class EmulatorTokenCredential : TokenCredential, IDisposable
{
    private const string DefaultScopeSuffix = "/.default";
    private readonly IoTHubServiceClient _owner;
    private int _tokensIssued;

    /// <summary>Creates a credential that asks the emulator behind <paramref name="ownerClient"/> (an <c>iothubowner</c> SAS client) for tokens.</summary>
    /// <param name="ownerClient">A client of the emulator signed with the <c>iothubowner</c> policy; the credential owns it from now on.</param>
    /// <param name="roles">The IoT Hub data-plane roles of the principal.</param>
    /// <param name="lifetime">The lifetime of each token.</param>
    public EmulatorTokenCredential(IoTHubServiceClient ownerClient, IReadOnlyList<string> roles, TimeSpan lifetime)
    {
        ArgumentNullException.ThrowIfNull(ownerClient);
        ArgumentNullException.ThrowIfNull(roles);
        if (roles.Count == 0)
        {
            throw new ArgumentException("At least one role is needed.", nameof(roles));
        }

        _owner = ownerClient;
        Roles = roles.ToArray();
        Lifetime = lifetime;
        PrincipalId = Guid.NewGuid();
    }

    /// <summary>The roles every token carries.</summary>
    public IReadOnlyList<string> Roles { get; }

    /// <summary>The lifetime of each token.</summary>
    public TimeSpan Lifetime { get; }

    /// <summary>The principal's object id (<c>oid</c>), the same in every token of this credential.</summary>
    public Guid PrincipalId { get; }

    /// <summary>The emulator that issues the tokens.</summary>
    public string HostName => _owner.HostName;

    /// <summary>How many tokens the emulator has issued to this credential (each refresh adds one).</summary>
    public int TokensIssued => Volatile.Read(ref _tokensIssued);

    /// <inheritdoc />
    public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
        GetTokenAsync(requestContext, cancellationToken).AsTask().GetAwaiter().GetResult();

    /// <inheritdoc />
    public override async ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken)
    {
        var scope = requestContext.Scopes.Length == 1 ? requestContext.Scopes[0] : null;
        if (scope is null)
        {
            throw new AuthenticationFailedException("The emulator's token issuer issues a token for exactly one scope.");
        }

        var audience = scope.EndsWith(DefaultScopeSuffix, StringComparison.OrdinalIgnoreCase) ? scope[..^DefaultScopeSuffix.Length] : scope;
        try
        {
            var token = await _owner.RequestEmulatorTokenAsync(new EmulatorTokenRequest(Roles, Lifetime, audience, PrincipalId), cancellationToken).ConfigureAwait(false);
            Interlocked.Increment(ref _tokensIssued);
            return token;
        }
        catch (IoTHubServiceException ex)
        {
            throw new AuthenticationFailedException($"The emulator at '{HostName}' did not issue a token: {ex.Message}", ex);
        }
    }

    /// <summary>Releases the emulator client.</summary>
    public void Dispose() => _owner.Dispose();

    /// <summary>Names the emulator and the roles, never a token.</summary>
    public override string ToString() => $"Emulator token credential for {HostName} ({string.Join(", ", Roles)}; tokens of {Lifetime})";
}
