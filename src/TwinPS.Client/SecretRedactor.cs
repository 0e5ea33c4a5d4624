using System.Text.RegularExpressions;

namespace TwinPS.Client;

/// <summary>Removes secrets (SAS signatures, shared access keys, whole SAS tokens) from text meant for people or logs.</summary>
public static partial class SecretRedactor
{
    /// <summary>The text that replaces a secret.</summary>
    public const string Placeholder = "<redacted>";

    /// <summary>Returns <paramref name="text"/> with <c>sig=</c>, <c>SharedAccessKey=</c>, <c>SharedAccessSignature=</c>, <c>SharedAccessSignature …</c>
    /// and JSON key fields (<c>primaryKey</c>, <c>secondaryKey</c>, <c>sharedAccessKey</c>, <c>key</c>) values replaced by a placeholder.</summary>
    public static string Redact(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return text ?? string.Empty;
        }

        var result = SasTokenPattern().Replace(text, "SharedAccessSignature " + Placeholder);
        result = SignaturePattern().Replace(result, "$1" + Placeholder);
        result = KeyPattern().Replace(result, "$1" + Placeholder);
        result = JsonKeyPattern().Replace(result, "$1" + Placeholder + "\"");
        return result;
    }

    [GeneratedRegex(@"SharedAccessSignature\s+[^\s""',;]+", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex SasTokenPattern();

    [GeneratedRegex(@"(\bsig=)[^&\s""';]+", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex SignaturePattern();

    [GeneratedRegex(@"(\b(?:SharedAccessKey|SharedAccessSignature)\s*=\s*)[^;\s""']+", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex KeyPattern();

    [GeneratedRegex(@"(""(?:primaryKey|secondaryKey|sharedAccessKey|key)""\s*:\s*"")[^""]*""", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex JsonKeyPattern();
}
