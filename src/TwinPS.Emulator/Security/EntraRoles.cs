namespace TwinPS.Emulator.Security;

/// <summary>
/// The built-in IoT Hub data-plane roles of Azure RBAC and the data actions each grants (REST reference §8, from
/// Microsoft's built-in roles page). Which data actions an operation needs is in <see cref="HubOperations.Table"/>;
/// this class only answers "does one of these roles grant that data action". Owner and Contributor carry no data
/// actions, so they are not roles here.
/// </summary>
internal static class EntraRoles
{
    public const string DataContributor = "IoT Hub Data Contributor";
    public const string DataReader = "IoT Hub Data Reader";
    public const string RegistryContributor = "IoT Hub Registry Contributor";
    public const string TwinContributor = "IoT Hub Twin Contributor";

    private const string Prefix = HubOperations.DataActionPrefix;

    // Role name -> its dataActions, as the role definitions write them ('*' matches any characters, '/' included).
    private static readonly Dictionary<string, string[]> DataActions = new(StringComparer.OrdinalIgnoreCase)
    {
        [DataContributor] = [Prefix + "*"],
        [DataReader] = [Prefix + "*/read", Prefix + "fileUpload/notifications/action"],
        [RegistryContributor] = [Prefix + "devices/*"],
        [TwinContributor] = [Prefix + "twins/*"],
    };

    // The role definition ids, accepted in place of the names.
    private static readonly Dictionary<string, string> ById = new(StringComparer.OrdinalIgnoreCase)
    {
        ["4fc6c259-987e-4a07-842e-c321cc9d413f"] = DataContributor,
        ["b447c946-2db7-41ec-983d-d8bf3b1c77e3"] = DataReader,
        ["4ea46cd5-c1b2-4a8e-910b-273211f9ce47"] = RegistryContributor,
        ["494bdba2-168f-4f31-a0a1-191d2f7c028c"] = TwinContributor,
    };

    /// <summary>The four role names.</summary>
    public static IReadOnlyCollection<string> Names => DataActions.Keys;

    /// <summary>The canonical role name for a name or a role definition id; null when it is not an IoT Hub data role.</summary>
    public static string? Canonical(string nameOrId)
    {
        foreach (string name in DataActions.Keys)
        {
            if (string.Equals(name, nameOrId, StringComparison.OrdinalIgnoreCase)) return name;
        }

        return ById.GetValueOrDefault(nameOrId);
    }

    /// <summary>Whether any of <paramref name="roles"/> grants <paramref name="dataAction"/> (a full <c>Microsoft.Devices/IotHubs/…</c> action).</summary>
    public static bool Grants(IEnumerable<string> roles, string dataAction)
    {
        foreach (string role in roles)
        {
            string? canonical = Canonical(role);
            if (canonical is null) continue;
            foreach (string pattern in DataActions[canonical])
            {
                if (Matches(pattern, dataAction)) return true;
            }
        }

        return false;
    }

    /// <summary>Azure RBAC wildcard matching: each '*' matches any run of characters; case-insensitive.</summary>
    private static bool Matches(string pattern, string action)
    {
        string[] parts = pattern.Split('*');
        if (!action.StartsWith(parts[0], StringComparison.OrdinalIgnoreCase)) return false;
        int at = parts[0].Length;
        for (int i = 1; i < parts.Length; i++)
        {
            string part = parts[i];
            if (i == parts.Length - 1)
                return action.Length - at >= part.Length && action.EndsWith(part, StringComparison.OrdinalIgnoreCase);
            int found = action.IndexOf(part, at, StringComparison.OrdinalIgnoreCase);
            if (found < 0) return false;
            at = found + part.Length;
        }

        return at == action.Length;
    }
}
