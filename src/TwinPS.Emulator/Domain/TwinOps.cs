using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using TwinPS.Protocol;

namespace TwinPS.Emulator.Domain;

/// <summary>The outcome of a backend twin write: the new state and the desired notification (null when desired was untouched).</summary>
internal readonly record struct TwinChange(TwinState State, JsonObject? DesiredNotification);

/// <summary>
/// The emulator's only contact with <see cref="TwinState"/> (TwinPS.Protocol): every write works on a clone, so the
/// committed state readers see is never modified, and a rejected write leaves nothing behind.
/// </summary>
internal static class TwinOps
{
    public static TwinState New(string deviceId, string? moduleId)
    {
        _ = deviceId;
        _ = moduleId;
        return TwinState.Create(DateTimeOffset.UtcNow);
    }

    public static TwinState FromStorage(string json) => TwinState.FromStorageJson(json);

    public static string ToStorage(TwinState state) => state.ToStorageJson();

    public static string ETag(TwinState state) => state.ETag;

    public static long DesiredVersion(TwinState state) => state.DesiredVersion;

    public static long ReportedVersion(TwinState state) => state.ReportedVersion;

    /// <summary>Backend PATCH (merge) of a twin body; validation errors throw and change nothing.</summary>
    public static TwinChange Patch(TwinState current, JsonObject body)
    {
        TwinPatchBody parsed = TwinPatchBody.Parse(body, TwinWriteMode.Patch);
        TwinState next = current.Clone();
        JsonObject? notification = next.ApplyPatch(parsed, DateTimeOffset.UtcNow);
        return new TwinChange(next, notification);
    }

    /// <summary>Backend PUT (replace tags and desired).</summary>
    public static TwinChange Replace(TwinState current, JsonObject body)
    {
        TwinPatchBody parsed = TwinPatchBody.Parse(body, TwinWriteMode.Replace);
        TwinState next = current.Clone();
        JsonObject notification = next.Replace(parsed, DateTimeOffset.UtcNow);
        return new TwinChange(next, notification);
    }

    /// <summary>A device's reported patch.</summary>
    public static TwinState PatchReported(TwinState current, JsonObject patch)
    {
        TwinState next = current.Clone();
        next.PatchReported(patch, DateTimeOffset.UtcNow);
        return next;
    }

    public static JsonObject ToDeviceTwinJson(TwinState state) => state.ToDeviceTwinJson();

    /// <summary>The full service twin (identity mirror included) as a JSON object.</summary>
    public static JsonObject ToTwinJson(TwinState state, Identity identity, ConnectionInfo connection) =>
        state.ToTwinJson(Mirror(identity, connection));

    public static byte[] ToTwinJsonBytes(TwinState state, Identity identity, ConnectionInfo connection) =>
        JsonSerializer.SerializeToUtf8Bytes(ToTwinJson(state, identity, connection));

    private static TwinIdentityMirror Mirror(Identity identity, ConnectionInfo connection) => new()
    {
        DeviceId = identity.DeviceId,
        ModuleId = identity.ModuleId,
        DeviceEtag = identity.ETag,
        Status = identity.IsModule ? null : identity.Status,
        StatusReason = identity.IsModule ? null : identity.StatusReason,
        StatusUpdateTime = ParseTime(identity.StatusUpdatedTime),
        ConnectionState = connection.ConnectionState,
        LastActivityTime = ParseTime(connection.LastActivityTime),
        CloudToDeviceMessageCount = identity.CloudToDeviceMessageCount,
        AuthenticationType = identity.Authentication.Type,
        PrimaryThumbprint = identity.Authentication.PrimaryThumbprint,
        SecondaryThumbprint = identity.Authentication.SecondaryThumbprint,
        IotEdge = identity.IotEdge,
        DeviceScope = identity.DeviceScope,
        ParentScopes = identity.ParentScopes,
    };

    private static DateTimeOffset ParseTime(string text) =>
        DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out DateTimeOffset t)
            ? t
            : DateTimeOffset.MinValue;
}
