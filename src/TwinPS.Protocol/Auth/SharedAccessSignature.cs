using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace TwinPS.Protocol;

/// <summary>Builds and parses IoT Hub shared access signature (SAS) tokens.</summary>
public static class SharedAccessSignature
{
    /// <summary>The token prefix, <c>SharedAccessSignature</c>.</summary>
    public const string Prefix = "SharedAccessSignature";

    /// <summary>
    /// Builds the header value <c>SharedAccessSignature sr=…&amp;sig=…&amp;se=…[&amp;skn=…]</c>. <c>sr</c> is the resource
    /// percent-encoded (RFC 3986, upper-case hex, so <c>/</c> → <c>%2F</c>, <c>:</c> → <c>%3A</c>); the signature is
    /// HMAC-SHA256 over <c>sr + "\n" + se</c> keyed with the base64-decoded key.
    /// </summary>
    public static string Build(string resource, string base64Key, string? keyName, DateTimeOffset expiresOn)
    {
        ArgumentException.ThrowIfNullOrEmpty(resource);
        ArgumentNullException.ThrowIfNull(base64Key);
        var key = DecodeKey(base64Key) ?? throw new IoTHubProtocolException(IoTHubErrorCode.ArgumentInvalid, "The shared access key is not valid base64.");
        var rawSr = Uri.EscapeDataString(resource);
        var se = expiresOn.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        var sig = Uri.EscapeDataString(ComputeSignature(key, rawSr, se));
        var token = $"{Prefix} sr={rawSr}&sig={sig}&se={se}";
        return string.IsNullOrEmpty(keyName) ? token : $"{token}&skn={Uri.EscapeDataString(keyName)}";
    }

    /// <summary>The resource of a service (hub-level) token: the host name as given.</summary>
    public static string ServiceResource(string hostName)
    {
        ArgumentException.ThrowIfNullOrEmpty(hostName);
        return hostName;
    }

    /// <summary>The resource of a device token, <c>{host}/devices/{id}</c>, or of a module token, <c>{host}/devices/{id}/modules/{mid}</c>.</summary>
    public static string DeviceResource(string hostName, string deviceId, string? moduleId = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(hostName);
        ArgumentException.ThrowIfNullOrEmpty(deviceId);
        return string.IsNullOrEmpty(moduleId) ? $"{hostName}/devices/{deviceId}" : $"{hostName}/devices/{deviceId}/modules/{moduleId}";
    }

    /// <summary>
    /// Parses a header value (or MQTT password). Field names are case-insensitive and in any order; <c>sr</c>, <c>sig</c>
    /// and <c>se</c> are required, <c>skn</c> is optional, unknown fields are ignored. Throws
    /// <see cref="SharedAccessSignatureFormatException"/> saying what is wrong.
    /// </summary>
    public static SharedAccessSignatureToken Parse(string headerValue)
    {
        if (string.IsNullOrWhiteSpace(headerValue))
        {
            throw new SharedAccessSignatureFormatException("The shared access signature is empty.");
        }

        var pieces = headerValue.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        if (pieces.Length != 2 || !string.Equals(pieces[0], Prefix, StringComparison.Ordinal))
        {
            throw new SharedAccessSignatureFormatException(
                "The shared access signature must be 'SharedAccessSignature' followed by one space and 'sr=…&sig=…&se=…'.");
        }

        string? rawSr = null, rawSig = null, rawSe = null, rawSkn = null;
        foreach (var field in pieces[1].Split('&'))
        {
            if (field.Length == 0)
            {
                continue;
            }

            var eq = field.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                throw new SharedAccessSignatureFormatException("The shared access signature has a field without a name or without '='.");
            }

            var name = field[..eq].ToUpperInvariant();
            var value = field[(eq + 1)..];
            switch (name)
            {
                case "SR": rawSr = SetOnce(rawSr, value, "sr"); break;
                case "SIG": rawSig = SetOnce(rawSig, value, "sig"); break;
                case "SE": rawSe = SetOnce(rawSe, value, "se"); break;
                case "SKN": rawSkn = SetOnce(rawSkn, value, "skn"); break;
                default: break; // Unknown fields are ignored.
            }
        }

        if (string.IsNullOrEmpty(rawSr))
        {
            throw new SharedAccessSignatureFormatException("The shared access signature is missing the 'sr' (resource) field.");
        }

        if (string.IsNullOrEmpty(rawSig))
        {
            throw new SharedAccessSignatureFormatException("The shared access signature is missing the 'sig' (signature) field.");
        }

        if (string.IsNullOrEmpty(rawSe))
        {
            throw new SharedAccessSignatureFormatException("The shared access signature is missing the 'se' (expiry) field.");
        }

        var resource = Decode(rawSr, "sr");
        var seText = Decode(rawSe, "se");
        if (!long.TryParse(seText, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)
            || seconds > DateTimeOffset.MaxValue.ToUnixTimeSeconds())
        {
            throw new SharedAccessSignatureFormatException("The shared access signature field 'se' must be whole seconds since 1970-01-01 UTC.");
        }

        var signatureText = Decode(rawSig, "sig");
        var signature = DecodeKey(signatureText)
            ?? throw new SharedAccessSignatureFormatException("The shared access signature field 'sig' is not URL-encoded base64.");
        if (signature.Length != 32)
        {
            throw new SharedAccessSignatureFormatException("The shared access signature field 'sig' is not an HMAC-SHA256 value (32 bytes).");
        }

        var keyName = rawSkn is null ? null : Decode(rawSkn, "skn");
        return new SharedAccessSignatureToken(rawSr, resource, signature, seText, DateTimeOffset.FromUnixTimeSeconds(seconds), string.IsNullOrEmpty(keyName) ? null : keyName);
    }

    /// <summary>Parses without throwing.</summary>
    public static bool TryParse(string? headerValue, [NotNullWhen(true)] out SharedAccessSignatureToken? token)
    {
        token = null;
        if (headerValue is null)
        {
            return false;
        }

        try
        {
            token = Parse(headerValue);
            return true;
        }
        catch (SharedAccessSignatureFormatException)
        {
            return false;
        }
    }

    internal static string ComputeSignature(byte[] key, string rawSr, string se)
    {
        var mac = HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(rawSr + "\n" + se));
        return Convert.ToBase64String(mac);
    }

    internal static byte[]? DecodeKey(string base64)
    {
        if (string.IsNullOrEmpty(base64))
        {
            return null;
        }

        var buffer = new byte[base64.Length];
        return Convert.TryFromBase64String(base64, buffer, out var written) && written > 0 ? buffer[..written] : null;
    }

    private static string SetOnce(string? current, string value, string name) =>
        current is null ? value : throw new SharedAccessSignatureFormatException($"The shared access signature has the field '{name}' more than once.");

    private static string Decode(string raw, string name)
    {
        try
        {
            return Uri.UnescapeDataString(raw);
        }
        catch (UriFormatException)
        {
            throw new SharedAccessSignatureFormatException($"The shared access signature field '{name}' is not valid URL encoding.");
        }
    }
}
