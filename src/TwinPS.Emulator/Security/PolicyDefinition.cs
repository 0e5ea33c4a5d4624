using TwinPS.Emulator.Hosting;

namespace TwinPS.Emulator.Security;

/// <summary>A shared access policy the user defines on the command line (<c>--policy NAME=Right,Right</c>).</summary>
internal sealed record PolicyDefinition(string Name, AccessRights Rights)
{
    /// <summary>IoT Hub allows at most 16 shared access policies per hub, at most 10 of them with ServiceConnect.</summary>
    public const int MaxPolicies = 16;

    /// <summary>See <see cref="MaxPolicies"/>.</summary>
    public const int MaxServiceConnectPolicies = 10;

    /// <summary>Parses <c>NAME=Right[,Right…]</c>; throws <see cref="OptionsException"/> with a message for the user.</summary>
    public static PolicyDefinition Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        int eq = text.IndexOf('=', StringComparison.Ordinal);
        if (eq <= 0) throw new OptionsException($"Option '--policy' needs NAME=RIGHT[,RIGHT...], got '{text}'.");
        string name = text[..eq].Trim();
        if (name.Length > 64 || !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_'))
            throw new OptionsException($"Option '--policy': the name '{name}' must be 1-64 letters, digits, '.', '-' or '_'.");
        if (SharedAccessPolicies.IsDefaultName(name))
            throw new OptionsException($"Option '--policy': '{name}' is one of the hub's default policies; give your policy another name.");

        AccessRights rights = AccessRights.None;
        foreach (string part in text[(eq + 1)..].Split(',', StringSplitOptions.TrimEntries))
        {
            if (!Enum.TryParse(part, ignoreCase: true, out AccessRights right) || right == AccessRights.None || !Enum.IsDefined(right) || part.Any(char.IsAsciiDigit))
                throw new OptionsException($"Option '--policy {name}': '{part}' is not a right; use RegistryRead, RegistryWrite, ServiceConnect or DeviceConnect.");
            rights |= right;
        }

        return new PolicyDefinition(name, rights);
    }

    /// <summary>Refuses more policies than a hub may have.</summary>
    public static void CheckQuota(IReadOnlyCollection<PolicyDefinition> custom)
    {
        ArgumentNullException.ThrowIfNull(custom);
        int total = SharedAccessPolicies.DefaultCount + custom.Count;
        if (total > MaxPolicies)
            throw new OptionsException($"Option '--policy': a hub has at most {MaxPolicies} shared access policies; with the {SharedAccessPolicies.DefaultCount} default ones that leaves {MaxPolicies - SharedAccessPolicies.DefaultCount}, {custom.Count} were given.");
        int serviceConnect = SharedAccessPolicies.DefaultServiceConnectCount + custom.Count(p => (p.Rights & AccessRights.ServiceConnect) != 0);
        if (serviceConnect > MaxServiceConnectPolicies)
            throw new OptionsException($"Option '--policy': a hub has at most {MaxServiceConnectPolicies} policies with ServiceConnect ({serviceConnect} with the defaults).");
    }
}
