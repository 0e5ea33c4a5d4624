using System.Text.Json.Nodes;

namespace TwinPS.Client;

/// <summary>What a bulk registry entry does (wire <c>importMode</c> values).</summary>
public enum ImportMode
{
    /// <summary><c>create</c>: fails if the device exists.</summary>
    Create,

    /// <summary><c>update</c>.</summary>
    Update,

    /// <summary><c>updateIfMatchETag</c>.</summary>
    UpdateIfMatchETag,

    /// <summary><c>createOrUpdate</c>.</summary>
    CreateOrUpdate,

    /// <summary><c>createOrUpdateIfMatchETag</c>.</summary>
    CreateOrUpdateIfMatchETag,

    /// <summary><c>delete</c>.</summary>
    Delete,

    /// <summary><c>deleteIfMatchETag</c>.</summary>
    DeleteIfMatchETag,

    /// <summary><c>updateTwin</c>.</summary>
    UpdateTwin,

    /// <summary><c>updateTwinIfMatchETag</c>.</summary>
    UpdateTwinIfMatchETag,
}

/// <summary>One entry of a bulk registry request (<c>POST /devices</c>).</summary>
public sealed class ExportImportDevice
{
    /// <summary>An entry for <paramref name="device"/> with the given mode; the device's keys, thumbprints, status and edge flag are carried.</summary>
    public ExportImportDevice(DeviceIdentity device, ImportMode mode)
    {
        ArgumentNullException.ThrowIfNull(device);
        Device = device;
        ImportMode = mode;
    }

    /// <summary>An entry for a bare device id (e.g. a delete).</summary>
    public ExportImportDevice(string deviceId, ImportMode mode)
        : this(new DeviceIdentity(deviceId), mode)
    {
    }

    /// <summary>The identity this entry describes.</summary>
    public DeviceIdentity Device { get; }

    /// <summary>What to do.</summary>
    public ImportMode ImportMode { get; }

    /// <summary>Twin etag for <see cref="ImportMode.UpdateTwinIfMatchETag"/> (unquoted).</summary>
    public string? TwinETag { get; set; }

    /// <summary>Tags to set with the twin modes.</summary>
    public JsonObject? Tags { get; set; }

    /// <summary>Desired properties to set with the twin modes.</summary>
    public JsonObject? Desired { get; set; }

    /// <summary>The wire value of a mode (camelCase).</summary>
    public static string ToWireValue(ImportMode mode)
    {
        var name = mode.ToString();
        return char.ToLowerInvariant(name[0]) + name[1..];
    }

    /// <summary>The JSON entry as sent (contains the device's keys if it has any; never log it).</summary>
    internal JsonObject ToRequestEntry()
    {
        var identity = Device.ToRequestBody(includeETag: false);
        var entry = new JsonObject
        {
            ["id"] = Device.DeviceId,
            ["importMode"] = ToWireValue(ImportMode),
            ["status"] = Device.Status,
        };
        if (Device.ETag is not null)
        {
            entry["eTag"] = Unquote(Device.ETag);
        }

        if (Device.StatusReason is not null)
        {
            entry["statusReason"] = Device.StatusReason;
        }

        if (ImportMode is not (ImportMode.Delete or ImportMode.DeleteIfMatchETag))
        {
            entry["authentication"] = identity["authentication"]?.DeepClone();
            entry["capabilities"] = identity["capabilities"]?.DeepClone();
        }

        if (TwinETag is not null)
        {
            entry["twinETag"] = Unquote(TwinETag);
        }

        if (Tags is not null)
        {
            entry["tags"] = TwinPatch.WithoutReadOnly(Tags);
        }

        if (Desired is not null)
        {
            entry["properties"] = new JsonObject { ["desired"] = TwinPatch.WithoutReadOnly(Desired) };
        }

        return entry;
    }

    private static string Unquote(string etag) =>
        etag.Length >= 2 && etag[0] == '"' && etag[^1] == '"' ? etag[1..^1] : etag;
}

/// <summary>The outcome of a bulk registry request. Per-device failures are listed here, not thrown.</summary>
public sealed class BulkRegistryOperationResult
{
    /// <summary>Creates a result.</summary>
    public BulkRegistryOperationResult(bool isSuccessful, IReadOnlyList<DeviceRegistryOperationError> errors, IReadOnlyList<DeviceRegistryOperationWarning> warnings)
    {
        IsSuccessful = isSuccessful;
        Errors = errors ?? throw new ArgumentNullException(nameof(errors));
        Warnings = warnings ?? throw new ArgumentNullException(nameof(warnings));
    }

    /// <summary>Whether every entry succeeded.</summary>
    public bool IsSuccessful { get; }

    /// <summary>Entries that failed.</summary>
    public IReadOnlyList<DeviceRegistryOperationError> Errors { get; }

    /// <summary>Warnings (e.g. <c>DeviceRegisteredWithoutTwin</c>).</summary>
    public IReadOnlyList<DeviceRegistryOperationWarning> Warnings { get; }

    internal static BulkRegistryOperationResult FromJson(JsonObject json)
    {
        var errors = new List<DeviceRegistryOperationError>();
        if (json["errors"] is JsonArray errorArray)
        {
            foreach (var e in errorArray.OfType<JsonObject>())
            {
                errors.Add(new DeviceRegistryOperationError(
                    JsonFields.GetString(e, "deviceId") ?? string.Empty,
                    JsonFields.GetString(e, "moduleId"),
                    e["errorCode"]?.ToString() ?? "Unknown",
                    JsonFields.GetString(e, "errorStatus"),
                    JsonFields.GetString(e, "operation")));
            }
        }

        var warnings = new List<DeviceRegistryOperationWarning>();
        if (json["warnings"] is JsonArray warningArray)
        {
            foreach (var w in warningArray.OfType<JsonObject>())
            {
                warnings.Add(new DeviceRegistryOperationWarning(
                    JsonFields.GetString(w, "deviceId") ?? string.Empty,
                    w["warningCode"]?.ToString() ?? "Unknown",
                    JsonFields.GetString(w, "warningStatus")));
            }
        }

        return new BulkRegistryOperationResult(JsonFields.GetBool(json, "isSuccessful") ?? errors.Count == 0, errors, warnings);
    }
}

/// <summary>One failed bulk entry.</summary>
/// <param name="DeviceId">The device.</param>
/// <param name="ModuleId">The module, if any.</param>
/// <param name="ErrorCode">Symbolic error code, e.g. <c>DeviceAlreadyExists</c>.</param>
/// <param name="ErrorStatus">The hub's text.</param>
/// <param name="Operation">The operation, if the hub said.</param>
public sealed record DeviceRegistryOperationError(string DeviceId, string? ModuleId, string ErrorCode, string? ErrorStatus, string? Operation);

/// <summary>One bulk warning.</summary>
/// <param name="DeviceId">The device.</param>
/// <param name="WarningCode">e.g. <c>DeviceRegisteredWithoutTwin</c>.</param>
/// <param name="WarningStatus">The hub's text.</param>
public sealed record DeviceRegistryOperationWarning(string DeviceId, string WarningCode, string? WarningStatus);

/// <summary>Device counts (<c>GET /statistics/devices</c>); they lag reality.</summary>
/// <param name="TotalDeviceCount">All devices.</param>
/// <param name="EnabledDeviceCount">Enabled devices.</param>
/// <param name="DisabledDeviceCount">Disabled devices.</param>
public sealed record RegistryStatistics(long TotalDeviceCount, long EnabledDeviceCount, long DisabledDeviceCount);
