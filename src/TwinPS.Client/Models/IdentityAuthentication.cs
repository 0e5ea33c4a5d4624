using System.Text.Json;
using System.Text.Json.Nodes;

namespace TwinPS.Client;

/// <summary>
/// The <c>authentication</c> of a device or module document as the hub sends it: the type, the symmetric keys (taken out
/// of the document, so that it holds no secret) and the X.509 thumbprints. Names are matched case-insensitively, empty
/// values read as absent.
/// </summary>
internal readonly record struct IdentityAuthentication(
    DeviceAuthenticationType Type, string? PrimaryKey, string? SecondaryKey, string? PrimaryThumbprint, string? SecondaryThumbprint)
{
    /// <summary>Reads the <c>authentication</c> of <paramref name="document"/> and removes the keys from it; SAS when there is none.</summary>
    public static IdentityAuthentication TakeFrom(JsonObject document)
    {
        if (document["authentication"] is not JsonObject auth)
        {
            return new IdentityAuthentication(DeviceAuthenticationType.Sas, null, null, null, null);
        }

        string? primaryKey = null;
        string? secondaryKey = null;
        if (JsonFields.GetIgnoreCase(auth, "symmetricKey") is JsonObject keys)
        {
            primaryKey = NonEmpty(JsonFields.GetIgnoreCase(keys, "primaryKey"));
            secondaryKey = NonEmpty(JsonFields.GetIgnoreCase(keys, "secondaryKey"));
            foreach (var name in keys.Select(p => p.Key).ToList())
            {
                keys.Remove(name);
            }
        }

        var thumbs = JsonFields.GetIgnoreCase(auth, "x509Thumbprint") as JsonObject;
        return new IdentityAuthentication(
            DeviceIdentity.ParseAuthenticationType(JsonFields.GetString(auth, "type")),
            primaryKey,
            secondaryKey,
            thumbs is null ? null : NonEmpty(JsonFields.GetIgnoreCase(thumbs, "primaryThumbprint")),
            thumbs is null ? null : NonEmpty(JsonFields.GetIgnoreCase(thumbs, "secondaryThumbprint")));
    }

    private static string? NonEmpty(JsonNode? node) =>
        node is JsonValue v && v.GetValueKind() == JsonValueKind.String && v.GetValue<string>() is { Length: > 0 } s ? s : null;
}
