using System.Security.Cryptography;
using System.Text.Json;
using TwinPS.Emulator.Storage;

namespace TwinPS.Emulator.Security;

/// <summary>The four base rights of an IoT Hub shared access policy.</summary>
[Flags]
internal enum AccessRights
{
    None = 0,
    RegistryRead = 1,
    RegistryWrite = 2,
    ServiceConnect = 4,
    DeviceConnect = 8,
}

/// <summary>A shared access policy with its two keys.</summary>
internal sealed record SharedAccessPolicy(string Name, AccessRights Rights, string PrimaryKey, string SecondaryKey)
{
    /// <summary>Never shows the keys.</summary>
    public override string ToString() => $"{Name} ({Rights})";
}

/// <summary>The hub's default policies and the user's own, with keys generated once per data folder and kept in the store.</summary>
internal sealed class SharedAccessPolicies
{
    private const string MetaKey = "policies";

    private static readonly (string Name, AccessRights Rights)[] Defaults =
    [
        ("iothubowner", AccessRights.RegistryRead | AccessRights.RegistryWrite | AccessRights.ServiceConnect | AccessRights.DeviceConnect),
        ("service", AccessRights.ServiceConnect),
        ("device", AccessRights.DeviceConnect),
        ("registryRead", AccessRights.RegistryRead),
        ("registryReadWrite", AccessRights.RegistryRead | AccessRights.RegistryWrite),
    ];

    private readonly Dictionary<string, SharedAccessPolicy> _byName;

    /// <summary>How many default policies a hub has.</summary>
    public static int DefaultCount => Defaults.Length;

    /// <summary>How many default policies grant ServiceConnect.</summary>
    public static int DefaultServiceConnectCount => Defaults.Count(d => (d.Rights & AccessRights.ServiceConnect) != 0);

    /// <summary>Whether <paramref name="name"/> is a default policy's name (compared case-insensitively, so a custom policy cannot shadow one).</summary>
    public static bool IsDefaultName(string name) => Defaults.Any(d => string.Equals(d.Name, name, StringComparison.OrdinalIgnoreCase));

    private SharedAccessPolicies(IEnumerable<SharedAccessPolicy> policies)
    {
        _byName = policies.ToDictionary(p => p.Name, StringComparer.Ordinal);
    }

    public IEnumerable<SharedAccessPolicy> All => _byName.Values;

    /// <summary>Finds a policy by its exact name.</summary>
    public SharedAccessPolicy? Find(string name) => _byName.GetValueOrDefault(name);

    /// <summary>
    /// Loads the default policies and the user's own (<paramref name="custom"/>) from the store, generating and
    /// committing keys for any policy seen for the first time. A custom policy's keys are kept by name, so the same
    /// <c>--policy</c> on the next start has the same keys; its rights are whatever that start says.
    /// </summary>
    public static async Task<SharedAccessPolicies> LoadOrCreateAsync(HubStore store, IReadOnlyList<PolicyDefinition>? custom = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        string? json = store.GetMeta(MetaKey);
        var stored = json is null ? [] : JsonSerializer.Deserialize<Dictionary<string, string[]>>(json) ?? [];
        bool changed = false;
        var policies = new List<SharedAccessPolicy>();
        foreach ((string name, AccessRights rights) in Defaults.Concat((custom ?? []).Select(c => (c.Name, c.Rights))))
        {
            if (!stored.TryGetValue(name, out string[]? keys) || keys.Length != 2)
            {
                keys = [NewKey(), NewKey()];
                stored[name] = keys;
                changed = true;
            }

            policies.Add(new SharedAccessPolicy(name, rights, keys[0], keys[1]));
        }

        if (changed) await store.CommitAsync(new StoreOperation.PutMeta(MetaKey, JsonSerializer.Serialize(stored))).ConfigureAwait(false);
        return new SharedAccessPolicies(policies);
    }

    /// <summary>A new random 256-bit key, base64.</summary>
    public static string NewKey() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
}
