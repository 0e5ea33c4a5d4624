using System.Globalization;
using System.Text;

namespace TwinPS.Emulator.Domain;

/// <summary>How a device or module authenticates (the registry's <c>authentication</c> object).</summary>
/// <param name="Type"><c>sas</c>, <c>selfSigned</c>, <c>certificateAuthority</c> or <c>none</c>.</param>
internal sealed record IdentityAuthentication(
    string Type,
    string? PrimaryKey,
    string? SecondaryKey,
    string? PrimaryThumbprint,
    string? SecondaryThumbprint)
{
    /// <summary>Never shows keys.</summary>
    public override string ToString() => $"authentication type {Type}";
}

/// <summary>
/// An immutable device or module identity (the registry entry). Replaced as a whole on every change.
/// </summary>
internal sealed record Identity
{
    public const string DefaultTime = "0001-01-01T00:00:00Z";

    public required string DeviceId { get; init; }

    /// <summary>Null for a device identity.</summary>
    public string? ModuleId { get; init; }

    public string? ManagedBy { get; init; }

    public required string GenerationId { get; init; }

    /// <summary>The identity etag counter; the wire etag is base64 of its decimal ASCII text.</summary>
    public required long ETagCounter { get; init; }

    /// <summary><c>enabled</c> or <c>disabled</c> (modules: always <c>enabled</c>, not shown on the wire).</summary>
    public string Status { get; init; } = "enabled";

    public string? StatusReason { get; init; }

    public string StatusUpdatedTime { get; init; } = DefaultTime;

    public required IdentityAuthentication Authentication { get; init; }

    public bool IotEdge { get; init; }

    public string? DeviceScope { get; init; }

    public IReadOnlyList<string>? ParentScopes { get; init; }

    public int CloudToDeviceMessageCount { get; init; }

    public bool IsModule => ModuleId is not null;

    public bool IsEnabled => string.Equals(Status, "enabled", StringComparison.Ordinal);

    /// <summary>The wire etag: base64 of the decimal counter (<c>MQ==</c> = 1).</summary>
    public string ETag => Convert.ToBase64String(Encoding.ASCII.GetBytes(ETagCounter.ToString(CultureInfo.InvariantCulture)));

    /// <summary>Never shows keys.</summary>
    public override string ToString() => ModuleId is null ? $"device {DeviceId}" : $"module {DeviceId}/{ModuleId}";
}

/// <summary>Runtime connection facts (not persisted: after a restart every device is disconnected).</summary>
internal sealed record ConnectionInfo(bool Connected, string ConnectionStateUpdatedTime, string LastActivityTime)
{
    public static readonly ConnectionInfo Initial = new(false, Identity.DefaultTime, Identity.DefaultTime);

    public string ConnectionState => Connected ? "Connected" : "Disconnected";
}
