using System.Text.Json;
using System.Text.Json.Nodes;
using TwinPS.Protocol;

namespace TwinPS.Emulator.Domain;

/// <summary>The requested (client-settable) part of a device or module identity, read from a PUT or bulk body.</summary>
internal sealed record IdentityRequest(
    string Status,
    string? StatusReason,
    IdentityAuthentication Authentication,
    bool IotEdge,
    string? DeviceScope,
    IReadOnlyList<string>? ParentScopes,
    string? ManagedBy);

/// <summary>Reads identity bodies and writes the registry's Device and Module shapes.</summary>
internal static class IdentityJson
{
    private static readonly JsonSerializerOptions StorageOptions = new() { DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull };

    /// <summary>Serialises an identity for the store (keys included).</summary>
    public static string ToStorageJson(Identity identity) => JsonSerializer.Serialize(identity, StorageOptions);

    /// <summary>Reads an identity written by <see cref="ToStorageJson"/>.</summary>
    public static Identity FromStorageJson(string json) =>
        JsonSerializer.Deserialize<Identity>(json, StorageOptions) ?? throw new InvalidDataException("Empty identity row.");

    /// <summary>Writes the Device (or Module) registry shape.</summary>
    public static void Write(Utf8JsonWriter writer, Identity identity, ConnectionInfo connection)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(identity);
        ArgumentNullException.ThrowIfNull(connection);
        writer.WriteStartObject();
        if (identity.IsModule)
        {
            writer.WriteString("moduleId", identity.ModuleId);
            if (identity.ManagedBy is null) writer.WriteNull("managedBy");
            else writer.WriteString("managedBy", identity.ManagedBy);
        }

        writer.WriteString("deviceId", identity.DeviceId);
        writer.WriteString("generationId", identity.GenerationId);
        writer.WriteString("etag", identity.ETag);
        writer.WriteString("connectionState", connection.ConnectionState);
        if (!identity.IsModule)
        {
            writer.WriteString("status", identity.Status);
            if (identity.StatusReason is null) writer.WriteNull("statusReason");
            else writer.WriteString("statusReason", identity.StatusReason);
        }

        writer.WriteString("connectionStateUpdatedTime", connection.ConnectionStateUpdatedTime);
        if (!identity.IsModule) writer.WriteString("statusUpdatedTime", identity.StatusUpdatedTime);
        writer.WriteString("lastActivityTime", connection.LastActivityTime);
        writer.WriteNumber("cloudToDeviceMessageCount", identity.CloudToDeviceMessageCount);
        writer.WriteStartObject("authentication");
        writer.WriteStartObject("symmetricKey");
        WriteNullable(writer, "primaryKey", identity.Authentication.PrimaryKey);
        WriteNullable(writer, "secondaryKey", identity.Authentication.SecondaryKey);
        writer.WriteEndObject();
        writer.WriteStartObject("x509Thumbprint");
        WriteNullable(writer, "primaryThumbprint", identity.Authentication.PrimaryThumbprint);
        WriteNullable(writer, "secondaryThumbprint", identity.Authentication.SecondaryThumbprint);
        writer.WriteEndObject();
        writer.WriteString("type", identity.Authentication.Type);
        writer.WriteEndObject();
        if (!identity.IsModule)
        {
            writer.WriteStartObject("capabilities");
            writer.WriteBoolean("iotEdge", identity.IotEdge);
            writer.WriteEndObject();
            if (identity.DeviceScope is not null) writer.WriteString("deviceScope", identity.DeviceScope);
            if (identity.ParentScopes is { Count: > 0 })
            {
                writer.WriteStartArray("parentScopes");
                foreach (string scope in identity.ParentScopes) writer.WriteStringValue(scope);
                writer.WriteEndArray();
            }
        }

        writer.WriteEndObject();
    }

    /// <summary>
    /// Reads the settable fields of a Device/Module (or ExportImportDevice) body. Empty or missing keys are generated.
    /// Throws <see cref="IoTHubProtocolException"/> (ArgumentInvalid) naming the offending field.
    /// </summary>
    public static IdentityRequest ReadRequest(JsonObject body, bool isModule)
    {
        ArgumentNullException.ThrowIfNull(body);
        string status = "enabled";
        if (!isModule && body.TryGetPropertyValue("status", out JsonNode? statusNode) && statusNode is not null)
        {
            string s = ReadString(statusNode, "status");
            status = s.ToLowerInvariant() switch
            {
                "enabled" => "enabled",
                "disabled" => "disabled",
                _ => throw Invalid($"Invalid value '{s}' for 'status': expected 'enabled' or 'disabled'."),
            };
        }

        string? statusReason = null;
        if (!isModule && body.TryGetPropertyValue("statusReason", out JsonNode? reasonNode) && reasonNode is not null)
        {
            statusReason = ReadString(reasonNode, "statusReason");
            IdentityRules.ValidateStatusReason(statusReason);
        }

        IdentityAuthentication auth = ReadAuthentication(body["authentication"], isModule);

        bool iotEdge = false;
        if (!isModule && body["capabilities"] is JsonObject caps && caps.TryGetPropertyValue("iotEdge", out JsonNode? edge) && edge is not null)
        {
            if (edge is not JsonValue ev || !ev.TryGetValue(out bool b)) throw Invalid("'capabilities.iotEdge' must be true or false.");
            iotEdge = b;
        }

        string? deviceScope = !isModule && body["deviceScope"] is JsonNode ds ? ReadString(ds, "deviceScope") : null;
        List<string>? parentScopes = null;
        if (!isModule && body["parentScopes"] is JsonArray ps)
        {
            parentScopes = [];
            foreach (JsonNode? p in ps)
            {
                if (p is null) throw Invalid("'parentScopes' must not contain null.");
                parentScopes.Add(ReadString(p, "parentScopes"));
            }
        }

        string? managedBy = isModule && body["managedBy"] is JsonNode mb ? ReadString(mb, "managedBy") : null;
        return new IdentityRequest(status, statusReason, auth, iotEdge, deviceScope, parentScopes, managedBy);
    }

    private static IdentityAuthentication ReadAuthentication(JsonNode? node, bool isModule)
    {
        if (node is null) return NewSasAuthentication();
        if (node is not JsonObject auth) throw Invalid("'authentication' must be an object.");

        string? type = auth["type"] is JsonNode t ? ReadString(t, "authentication.type") : null;
        string? primaryKey = null, secondaryKey = null, primaryThumb = null, secondaryThumb = null;
        if (auth["symmetricKey"] is JsonObject keys)
        {
            primaryKey = EmptyToNull(keys["primaryKey"] is JsonNode pk ? ReadString(pk, "authentication.symmetricKey.primaryKey") : null);
            secondaryKey = EmptyToNull(keys["secondaryKey"] is JsonNode sk ? ReadString(sk, "authentication.symmetricKey.secondaryKey") : null);
        }

        if (auth["x509Thumbprint"] is JsonObject thumbs)
        {
            primaryThumb = EmptyToNull(thumbs["primaryThumbprint"] is JsonNode pt ? ReadString(pt, "authentication.x509Thumbprint.primaryThumbprint") : null);
            secondaryThumb = EmptyToNull(thumbs["secondaryThumbprint"] is JsonNode st ? ReadString(st, "authentication.x509Thumbprint.secondaryThumbprint") : null);
        }

        type ??= primaryThumb is not null || secondaryThumb is not null ? "selfSigned" : "sas";
        switch (type.ToLowerInvariant())
        {
            case "sas":
                if ((primaryKey is null) != (secondaryKey is null))
                    throw Invalid("Both 'authentication.symmetricKey.primaryKey' and 'secondaryKey' must be given, or neither.");
                if (primaryKey is null) return NewSasAuthentication();
                IdentityRules.ValidateSymmetricKey(primaryKey, "'authentication.symmetricKey.primaryKey'");
                IdentityRules.ValidateSymmetricKey(secondaryKey, "'authentication.symmetricKey.secondaryKey'");
                return new IdentityAuthentication("sas", primaryKey, secondaryKey, null, null);
            case "selfsigned":
                if (primaryThumb is null) throw Invalid("'authentication.x509Thumbprint.primaryThumbprint' is required for type 'selfSigned'.");
                IdentityRules.ValidateThumbprint(primaryThumb, "'authentication.x509Thumbprint.primaryThumbprint'");
                if (secondaryThumb is not null) IdentityRules.ValidateThumbprint(secondaryThumb, "'authentication.x509Thumbprint.secondaryThumbprint'");
                return new IdentityAuthentication("selfSigned", null, null, primaryThumb.ToUpperInvariant(), secondaryThumb?.ToUpperInvariant());
            case "certificateauthority":
                return new IdentityAuthentication("certificateAuthority", null, null, null, null);
            case "none":
                if (isModule) return NewSasAuthentication();
                throw Invalid("Authentication type 'none' is not allowed for devices.");
            default:
                throw Invalid($"Invalid value '{type}' for 'authentication.type'.");
        }
    }

    private static IdentityAuthentication NewSasAuthentication() =>
        new("sas", IdentityRules.GenerateSymmetricKey(), IdentityRules.GenerateSymmetricKey(), null, null);

    private static string ReadString(JsonNode node, string path)
    {
        if (node is JsonValue v && v.TryGetValue(out string? s)) return s;
        throw Invalid($"'{path}' must be a string.");
    }

    private static string? EmptyToNull(string? s) => string.IsNullOrEmpty(s) ? null : s;

    private static IoTHubProtocolException Invalid(string message) => new(IoTHubErrorCode.ArgumentInvalid, message);

    private static void WriteNullable(Utf8JsonWriter writer, string name, string? value)
    {
        if (value is null) writer.WriteNull(name);
        else writer.WriteString(name, value);
    }
}
