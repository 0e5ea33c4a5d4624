using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Claims;
using System.Security.Cryptography;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using TwinPS.Protocol;

namespace TwinPS.Emulator.Security;

/// <summary>
/// A TEST STAND-IN for Microsoft Entra ID, never a real Entra trust: the emulator's own token issuer. It signs
/// bearer tokens (RS256, with a key generated once per data folder and kept there owner-only) for the IoT Hub
/// audience <c>https://iothubs.azure.net</c>, carrying the IoT Hub data-plane roles of the principal in a
/// <c>roles</c> claim, and validates them on every REST request: signature, issuer, audience, expiry with a small
/// clock skew. Tokens of real Entra ID, or of another emulator's data folder, never validate here.
/// </summary>
internal sealed class EntraTokenIssuer : IDisposable
{
    /// <summary>The audience (resource) of IoT Hub's service API in Entra ID.</summary>
    public const string IoTHubAudience = "https://iothubs.azure.net";

    /// <summary>The signing key's file in the data folder (PKCS#8 PEM, owner-only).</summary>
    public const string SigningKeyFileName = "entra-signing-key.pem";

    /// <summary>The clock skew allowed on expiry unless --entra-clock-skew says otherwise.</summary>
    public static readonly TimeSpan DefaultClockSkew = TimeSpan.FromSeconds(60);

    /// <summary>The longest lifetime the test token endpoint issues (a real Entra access token lives 60-90 minutes).</summary>
    public static readonly TimeSpan MaxLifetime = TimeSpan.FromHours(24);

    private const string RolesClaim = "roles";
    private const int MaxCachedTokens = 10_000;
    private readonly RSA _key;
    private readonly RsaSecurityKey _securityKey;
    private readonly SigningCredentials _signing;
    private readonly TokenValidationParameters _validation;
    private readonly JsonWebTokenHandler _handler = new() { SetDefaultTimesOnTokenCreation = false };
    private readonly ConcurrentDictionary<string, EntraPrincipal> _validated = new(StringComparer.Ordinal);

    private EntraTokenIssuer(RSA key, string issuer, TimeSpan clockSkew)
    {
        _key = key;
        Issuer = issuer;
        ClockSkew = clockSkew;
        _securityKey = new RsaSecurityKey(key) { KeyId = KeyIdOf(key) };
        _signing = new SigningCredentials(_securityKey, SecurityAlgorithms.RsaSha256);
        _validation = new TokenValidationParameters
        {
            ValidIssuer = issuer,
            ValidAudience = IoTHubAudience,
            IssuerSigningKey = _securityKey,
            ValidAlgorithms = [SecurityAlgorithms.RsaSha256],
            RequireSignedTokens = true,
            RequireExpirationTime = true,
            ValidateIssuer = true,
            ValidateAudience = true,
            ValidateLifetime = true,
            ValidateIssuerSigningKey = true,
            ClockSkew = clockSkew,
        };
    }

    /// <summary>The <c>iss</c> of every token: names the emulator's hub, never an Entra tenant.</summary>
    public string Issuer { get; }

    /// <summary>The skew allowed when checking <c>exp</c> and <c>nbf</c>.</summary>
    public TimeSpan ClockSkew { get; }

    /// <summary>
    /// Loads the signing key from <paramref name="folder"/> (the data folder, or the throwaway folder of an in-memory
    /// run), creating it owner-only on first use.
    /// </summary>
    public static EntraTokenIssuer LoadOrCreate(string folder, string hubName, TimeSpan clockSkew)
    {
        ArgumentNullException.ThrowIfNull(folder);
        string path = Path.Combine(folder, SigningKeyFileName);
        var key = RSA.Create();
        try
        {
            if (File.Exists(path))
            {
                OwnerOnlyFiles.Restrict(path);
                key.ImportFromPem(File.ReadAllText(path));
            }
            else
            {
                key.KeySize = 2048;
                OwnerOnlyFiles.WriteAllText(path, key.ExportPkcs8PrivateKeyPem(), secret: true);
            }
        }
        catch
        {
            key.Dispose();
            throw;
        }

        return new EntraTokenIssuer(key, "https://twinps-emulator.invalid/" + hubName + "/", clockSkew);
    }

    /// <summary>
    /// Issues a token for <paramref name="roles"/> that expires <paramref name="lifetime"/> from now (zero or negative:
    /// already expired, for tests of the refusal). <paramref name="audience"/> other than the IoT Hub audience gives a
    /// token the hub refuses, as Entra would for a token requested for another resource.
    /// </summary>
    public IssuedToken Issue(IReadOnlyCollection<string> roles, TimeSpan lifetime, string audience, string principalId, string principalName)
    {
        DateTime now = DateTime.UtcNow;
        DateTime expires = now + lifetime;
        DateTime issuedAt = expires <= now ? expires - TimeSpan.FromMinutes(5) : now;
        var claims = new Dictionary<string, object>(StringComparer.Ordinal)
        {
            ["oid"] = principalId,
            ["sub"] = principalId,
            ["name"] = principalName,
            [RolesClaim] = roles.ToArray(),
        };
        string token = _handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = Issuer,
            Audience = audience,
            IssuedAt = issuedAt,
            NotBefore = issuedAt,
            Expires = expires,
            Claims = claims,
            SigningCredentials = _signing,
        });
        return new IssuedToken(token, new DateTimeOffset(expires, TimeSpan.Zero));
    }

    /// <summary>Validates a bearer token; throws 401 <c>IotHubUnauthorizedAccess</c> with the reason when it is not valid.</summary>
    public async ValueTask<EntraPrincipal> ValidateAsync(string token)
    {
        DateTimeOffset now = DateTimeOffset.UtcNow;
        if (_validated.TryGetValue(token, out EntraPrincipal? cached))
        {
            if (now > cached.ExpiresOn + ClockSkew) throw Unauthorized("the bearer token has expired");
            return cached;
        }

        TokenValidationResult result = await _handler.ValidateTokenAsync(token, _validation).ConfigureAwait(false);
        if (!result.IsValid)
        {
            throw Unauthorized(result.Exception switch
            {
                SecurityTokenExpiredException => "the bearer token has expired",
                SecurityTokenNotYetValidException => "the bearer token is not valid yet",
                SecurityTokenInvalidAudienceException => "the bearer token's audience is not " + IoTHubAudience,
                SecurityTokenInvalidIssuerException => "the bearer token was not issued by this emulator's token issuer",
                SecurityTokenSignatureKeyNotFoundException or SecurityTokenInvalidSignatureException =>
                    "the bearer token's signature is not valid (not issued by this emulator's token issuer)",
                SecurityTokenNoExpirationException => "the bearer token has no expiry",
                _ => "the bearer token is not valid",
            });
        }

        var jwt = (JsonWebToken)result.SecurityToken;
        string principalId = jwt.TryGetPayloadValue("oid", out string? oid) && !string.IsNullOrEmpty(oid) ? oid : jwt.Subject;
        string[] roles = result.ClaimsIdentity.FindAll(c => c.Type == RolesClaim || c.Type == ClaimTypes.Role)
            .Select(c => c.Value).Distinct(StringComparer.Ordinal).ToArray();
        var principal = new EntraPrincipal(principalId, roles, new DateTimeOffset(jwt.ValidTo, TimeSpan.Zero));
        if (_validated.Count >= MaxCachedTokens) _validated.Clear();
        _validated[token] = principal;
        return principal;
    }

    /// <inheritdoc />
    public void Dispose() => _key.Dispose();

    private static string KeyIdOf(RSA key) =>
        Convert.ToHexString(SHA256.HashData(key.ExportSubjectPublicKeyInfo()))[..16].ToLower(CultureInfo.InvariantCulture);

    private static IoTHubProtocolException Unauthorized(string reason) =>
        new(IoTHubErrorCode.IotHubUnauthorizedAccess, "Unauthorized: " + reason);
}

/// <summary>A bearer token the emulator's issuer signed, with its expiry.</summary>
internal sealed record IssuedToken(string AccessToken, DateTimeOffset ExpiresOn)
{
    /// <summary>Never shows the token.</summary>
    public override string ToString() => $"bearer token expiring {ExpiresOn:O}";
}

/// <summary>The principal of a validated bearer token and its IoT Hub data-plane roles.</summary>
internal sealed record EntraPrincipal(string Id, IReadOnlyList<string> Roles, DateTimeOffset ExpiresOn);
