namespace TwinPS.Client.Device;

/// <summary>The state of an <see cref="IoTHubDeviceClient"/>'s MQTT connection.</summary>
public enum DeviceConnectionStatus
{
    /// <summary>Not connected and not trying to (before open, or after a failure that stops reconnecting).</summary>
    Disconnected,

    /// <summary>The first connection is being made.</summary>
    Connecting,

    /// <summary>Connected, subscribed, twin read.</summary>
    Connected,

    /// <summary>The connection dropped (or its token is being renewed); the client is reconnecting.</summary>
    Reconnecting,

    /// <summary>Closed by the caller; no further use.</summary>
    Closed,
}

/// <summary>A change of <see cref="IoTHubDeviceClient.Status"/>.</summary>
public sealed class DeviceConnectionStatusEventArgs : EventArgs
{
    /// <summary>Creates the event data.</summary>
    public DeviceConnectionStatusEventArgs(DeviceConnectionStatus status, string reason, Exception? error)
    {
        Status = status;
        Reason = reason;
        Error = error;
    }

    /// <summary>The new status.</summary>
    public DeviceConnectionStatus Status { get; }

    /// <summary>Why (no secrets).</summary>
    public string Reason { get; }

    /// <summary>The failure behind the change, if any.</summary>
    public Exception? Error { get; }
}
