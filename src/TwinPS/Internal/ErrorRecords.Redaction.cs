using System.Text.RegularExpressions;

namespace TwinPS.Internal;

/// <summary>Removes secrets (shared access keys, SAS signatures) from text that may reach the user.</summary>
internal static partial class Redaction
{
    [GeneratedRegex(@"(SharedAccessKey=|SharedAccessSignature=|sig=)[^;&\s""']*", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex Secret();

    public static string Redact(string? text) =>
        string.IsNullOrEmpty(text) ? string.Empty : Secret().Replace(text, "$1***");
}
