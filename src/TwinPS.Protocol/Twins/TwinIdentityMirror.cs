namespace TwinPS.Protocol;

/// <summary>
/// The read-only identity fields a twin mirrors from its device or module identity. The emulator fills it from the
/// registry; <see cref="TwinState.ToTwinJson"/> renders it. Defaults are a fresh, disconnected SAS device.
/// </summary>
public sealed record TwinIdentityMirror
{
    /// <summary>The device id.</summary>
    public required string DeviceId { get; init; }

    /// <summary>The module id (module twins only).</summary>
    public string? ModuleId { get; init; }

    /// <summary>The identity etag (base64 of an ASCII decimal, e.g. <c>MQ==</c>).</summary>
    public required string DeviceEtag { get; init; }

    /// <summary><c>enabled</c> or <c>disabled</c>; null leaves the field out.</summary>
    public string? Status { get; init; } = "enabled";

    /// <summary>Status reason; null leaves the field out.</summary>
    public string? StatusReason { get; init; }

    /// <summary>When the status last changed (<see cref="DateTimeOffset.MinValue"/> = never).</summary>
    public DateTimeOffset StatusUpdateTime { get; init; } = DateTimeOffset.MinValue;

    /// <summary><c>Connected</c> or <c>Disconnected</c>.</summary>
    public string ConnectionState { get; init; } = "Disconnected";

    /// <summary>Last activity (<see cref="DateTimeOffset.MinValue"/> = never).</summary>
    public DateTimeOffset LastActivityTime { get; init; } = DateTimeOffset.MinValue;

    /// <summary>Cloud-to-device messages queued.</summary>
    public int CloudToDeviceMessageCount { get; init; }

    /// <summary><c>sas</c>, <c>selfSigned</c>, <c>certificateAuthority</c> or <c>none</c>.</summary>
    public string AuthenticationType { get; init; } = "sas";

    /// <summary>Primary X.509 thumbprint (null when not used).</summary>
    public string? PrimaryThumbprint { get; init; }

    /// <summary>Secondary X.509 thumbprint (null when not used).</summary>
    public string? SecondaryThumbprint { get; init; }

    /// <summary>Plug and Play model id; <c>""</c> when not set.</summary>
    public string ModelId { get; init; } = string.Empty;

    /// <summary>Whether the device is an IoT Edge device.</summary>
    public bool IotEdge { get; init; }

    /// <summary>Device scope (edge hierarchies); null leaves the field out.</summary>
    public string? DeviceScope { get; init; }

    /// <summary>Parent scopes (edge hierarchies); null or empty leaves the field out.</summary>
    public IReadOnlyList<string>? ParentScopes { get; init; }
}
