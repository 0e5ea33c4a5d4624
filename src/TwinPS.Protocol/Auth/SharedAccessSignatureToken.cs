using System.Security.Cryptography;

namespace TwinPS.Protocol;

/// <summary>
/// A parsed SAS token. <see cref="ToString"/> redacts the signature. Verify with <see cref="IsSignatureValid"/>,
/// <see cref="IsExpired(DateTimeOffset)"/> and <see cref="ResourceMatches"/>.
/// </summary>
public sealed class SharedAccessSignatureToken
{
    /// <summary>
    /// How long after <c>se</c> a token is still accepted: 5 minutes, the C# SDK parser's <c>MaxClockSkew</c>
    /// (the service's own tolerance is unconfirmed).
    /// </summary>
    public static readonly TimeSpan DefaultClockSkew = TimeSpan.FromMinutes(5);

    private readonly byte[] _signature;

    internal SharedAccessSignatureToken(string rawResource, string resource, byte[] signature, string expiryText, DateTimeOffset expiresOn, string? keyName)
    {
        RawResource = rawResource;
        Resource = resource;
        _signature = signature;
        ExpiryText = expiryText;
        ExpiresOn = expiresOn;
        KeyName = keyName;
    }

    /// <summary>The <c>sr</c> field exactly as sent (the signature is computed over this).</summary>
    public string RawResource { get; }

    /// <summary>The <c>sr</c> field URL-decoded.</summary>
    public string Resource { get; }

    /// <summary>The signature (base64). Secret: never log it.</summary>
    public string Signature => Convert.ToBase64String(_signature);

    /// <summary>The <c>se</c> field (decimal Unix seconds) as sent.</summary>
    public string ExpiryText { get; }

    /// <summary>When the token expires.</summary>
    public DateTimeOffset ExpiresOn { get; }

    /// <summary>The policy name (<c>skn</c>), or null for a device/module key token.</summary>
    public string? KeyName { get; }

    /// <summary>
    /// True when the signature is the HMAC-SHA256 (keyed with the base64-decoded key) of the raw <c>sr</c> as sent, a
    /// newline and <c>se</c>. Constant-time comparison; false (never an exception) for a key that is not base64.
    /// </summary>
    public bool IsSignatureValid(string base64Key)
    {
        var key = base64Key is null ? null : SharedAccessSignature.DecodeKey(base64Key);
        if (key is null)
        {
            return false;
        }

        var expected = Convert.FromBase64String(SharedAccessSignature.ComputeSignature(key, RawResource, ExpiryText));
        return CryptographicOperations.FixedTimeEquals(expected, _signature);
    }

    /// <summary>Expired when <paramref name="now"/> is later than <see cref="ExpiresOn"/> plus <see cref="DefaultClockSkew"/> (5 minutes).</summary>
    public bool IsExpired(DateTimeOffset now) => IsExpired(now, DefaultClockSkew);

    /// <summary>Expired when <paramref name="now"/> is later than <see cref="ExpiresOn"/> plus <paramref name="allowedSkew"/>.</summary>
    public bool IsExpired(DateTimeOffset now, TimeSpan allowedSkew) => IsPastExpiry(now, ExpiresOn, allowedSkew);

    /// <summary>
    /// Whether <paramref name="now"/> is later than <paramref name="expiresOn"/> plus <paramref name="allowedSkew"/>,
    /// computed without adding to <paramref name="expiresOn"/> (an expiry near <see cref="DateTimeOffset.MaxValue"/> must
    /// not overflow).
    /// </summary>
    public static bool IsPastExpiry(DateTimeOffset now, DateTimeOffset expiresOn, TimeSpan allowedSkew) =>
        now > expiresOn && now - expiresOn > allowedSkew;

    /// <summary>
    /// Whether this token grants access to <paramref name="expectedResource"/> (e.g. the hub host name, or
    /// <c>{host}/devices/{id}</c>, given plain, not URL-encoded). The token's <c>sr</c> is URL-decoded; both are compared case-insensitively, trailing slashes ignored.
    /// A <c>:port</c> on the host is ignored unless both sides carry different ports. The token's resource may be a
    /// segment prefix of the expected one (<c>host/devices/a</c> covers <c>host/devices/a/modules/m</c>, never
    /// <c>host/devices/ab</c>), which is the documented rule for resource URIs. The caller must still verify the
    /// signature with the key of the identity being accessed.
    /// </summary>
    public bool ResourceMatches(string expectedResource)
    {
        if (string.IsNullOrEmpty(expectedResource))
        {
            return false;
        }

        var granted = Segments(Resource);
        var wanted = Segments(expectedResource);
        if (granted.Length == 0 || wanted.Length == 0 || granted.Length > wanted.Length)
        {
            return false;
        }

        if (!HostsMatch(granted[0], wanted[0]))
        {
            return false;
        }

        for (var i = 1; i < granted.Length; i++)
        {
            if (!string.Equals(granted[i], wanted[i], StringComparison.OrdinalIgnoreCase))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The token with the signature replaced by <c>***</c>.</summary>
    public override string ToString() =>
        $"{SharedAccessSignature.Prefix} sr={RawResource}&sig=***&se={ExpiryText}" + (KeyName is null ? string.Empty : $"&skn={Uri.EscapeDataString(KeyName)}");

    private static string[] Segments(string resource)
    {
        var trimmed = resource.Trim().TrimEnd('/');
        if (trimmed.Contains("://", StringComparison.Ordinal))
        {
            trimmed = trimmed[(trimmed.IndexOf("://", StringComparison.Ordinal) + 3)..];
        }

        return trimmed.Length == 0 ? [] : trimmed.Split('/');
    }

    private static bool HostsMatch(string granted, string wanted)
    {
        var (grantedHost, grantedPort) = SplitPort(granted);
        var (wantedHost, wantedPort) = SplitPort(wanted);
        if (grantedPort is not null && wantedPort is not null && grantedPort != wantedPort)
        {
            return false;
        }

        return string.Equals(grantedHost, wantedHost, StringComparison.OrdinalIgnoreCase);
    }

    private static (string Host, string? Port) SplitPort(string hostSegment)
    {
        var colon = hostSegment.LastIndexOf(':');
        if (colon <= 0 || hostSegment.EndsWith(']'))
        {
            return (hostSegment, null);
        }

        var port = hostSegment[(colon + 1)..];
        return port.Length > 0 && port.All(char.IsAsciiDigit) ? (hostSegment[..colon], port) : (hostSegment, null);
    }
}
