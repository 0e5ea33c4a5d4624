using System.Security.Cryptography;
using System.Text.RegularExpressions;

namespace TwinPS.Protocol;

/// <summary>
/// Identity rules of IoT Hub (REST reference §4). Each Validate method throws <see cref="IoTHubProtocolException"/>
/// with code <see cref="IoTHubErrorCode.ArgumentInvalid"/> and a message naming the value's role (never a key).
/// </summary>
public static partial class IdentityRules
{
    /// <summary>Maximum length of a device or module id.</summary>
    public const int MaxIdLength = 128;

    /// <summary>Maximum length of a device's status reason.</summary>
    public const int MaxStatusReasonLength = 128;

    /// <summary>Maximum length of a job id.</summary>
    public const int MaxJobIdLength = 64;

    /// <summary>The characters a device or module id may use besides ASCII letters and digits.</summary>
    public const string IdSpecialCharacters = "-:.+%_#*?!(),=@;$'";

    /// <summary>Checks a device id: 1–128 chars of ASCII letters, digits and <c>- : . + % _ # * ? ! ( ) , = @ ; $ '</c>.</summary>
    public static void ValidateDeviceId(string? deviceId) => ValidateId(deviceId, "Device ID");

    /// <summary>True when <paramref name="deviceId"/> is a valid device id.</summary>
    public static bool IsValidDeviceId(string? deviceId) => deviceId is not null && IdPattern().IsMatch(deviceId);

    /// <summary>
    /// Checks a module id: the device id rules; a <c>$</c> prefix is reserved for system modules
    /// (<c>$edgeAgent</c>, <c>$edgeHub</c>) and allowed only when <paramref name="allowSystemModules"/> is true.
    /// </summary>
    public static void ValidateModuleId(string? moduleId, bool allowSystemModules)
    {
        ValidateId(moduleId, "Module ID");
        if (!allowSystemModules && moduleId!.StartsWith('$'))
        {
            throw Invalid($"Module ID '{moduleId}' is invalid: IDs starting with '$' are reserved for system modules.");
        }
    }

    /// <summary>Checks a symmetric key: base64 of 16 to 64 bytes. The message never contains the key.</summary>
    public static void ValidateSymmetricKey(string? key, string role = "Symmetric key")
    {
        if (string.IsNullOrEmpty(key))
        {
            throw Invalid($"{role} is empty.");
        }

        var buffer = new byte[key.Length];
        if (!Convert.TryFromBase64String(key, buffer, out var length))
        {
            throw Invalid($"{role} is not valid base64.");
        }

        if (length is < 16 or > 64)
        {
            throw Invalid($"{role} must be base64 of 16 to 64 bytes (it decodes to {length} bytes).");
        }
    }

    /// <summary>Checks an X.509 thumbprint: 40 (SHA-1) or 64 (SHA-256) hex characters with no separators.</summary>
    public static void ValidateThumbprint(string? thumbprint, string role = "X.509 thumbprint")
    {
        if (string.IsNullOrEmpty(thumbprint))
        {
            throw Invalid($"{role} is empty.");
        }

        if (thumbprint.Length is not (40 or 64) || !thumbprint.All(char.IsAsciiHexDigit))
        {
            throw Invalid($"{role} '{Shorten(thumbprint)}' is invalid: it must be 40 or 64 hexadecimal characters with no separators.");
        }
    }

    /// <summary>Checks a status reason: at most 128 characters (null is allowed).</summary>
    public static void ValidateStatusReason(string? statusReason)
    {
        if (statusReason is not null && statusReason.Length > MaxStatusReasonLength)
        {
            throw Invalid($"Status reason is too long: {statusReason.Length} characters, at most {MaxStatusReasonLength} are allowed.");
        }
    }

    /// <summary>
    /// Checks a job id: 1–64 characters of lower-case ASCII letters, digits, <c>-</c> and <c>'</c>. The docs allow
    /// upper-case letters too, but a live hub rejected them, so upper case is refused here.
    /// </summary>
    public static void ValidateJobId(string? jobId)
    {
        if (string.IsNullOrEmpty(jobId))
        {
            throw Invalid("Job ID is empty.");
        }

        if (jobId.Length > MaxJobIdLength)
        {
            throw Invalid($"Job ID '{Shorten(jobId)}' is too long: {jobId.Length} characters, at most {MaxJobIdLength} are allowed.");
        }

        if (!JobIdPattern().IsMatch(jobId))
        {
            throw Invalid($"Job ID '{Shorten(jobId)}' is invalid: use lower-case letters a-z, digits 0-9, '-' and ''' only.");
        }
    }

    /// <summary>A new symmetric key: 32 random bytes, base64.</summary>
    public static string GenerateSymmetricKey() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    private static void ValidateId(string? id, string role)
    {
        if (string.IsNullOrEmpty(id))
        {
            throw Invalid($"{role} is empty.");
        }

        if (id.Length > MaxIdLength)
        {
            throw Invalid($"{role} '{Shorten(id)}' is too long: {id.Length} characters, at most {MaxIdLength} are allowed.");
        }

        if (!IdPattern().IsMatch(id))
        {
            var bad = id.First(c => !(char.IsAsciiLetterOrDigit(c) || IdSpecialCharacters.Contains(c, StringComparison.Ordinal)));
            var shown = char.IsControl(bad) || char.IsWhiteSpace(bad) ? $"U+{(int)bad:X4}" : $"'{bad}'";
            throw Invalid($"{role} '{Shorten(id)}' contains the character {shown}, which is not allowed. Use ASCII letters, digits and {IdSpecialCharacters}");
        }
    }

    private static string Shorten(string value)
    {
        var clean = new string(value.Take(64).Select(c => char.IsControl(c) ? '?' : c).ToArray());
        return value.Length > 64 ? clean + "…" : clean;
    }

    private static IoTHubProtocolException Invalid(string message) => new(IoTHubErrorCode.ArgumentInvalid, message);

    [GeneratedRegex(@"^[A-Za-z0-9\-:.+%_#*?!(),=@;$']{1,128}$", RegexOptions.CultureInvariant)]
    private static partial Regex IdPattern();

    [GeneratedRegex(@"^[a-z0-9\-']{1,64}$", RegexOptions.CultureInvariant)]
    private static partial Regex JobIdPattern();
}
