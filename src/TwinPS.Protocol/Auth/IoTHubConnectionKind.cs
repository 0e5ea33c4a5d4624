namespace TwinPS.Protocol;

/// <summary>Which identity a connection string authenticates.</summary>
public enum IoTHubConnectionKind
{
    /// <summary>A shared access policy of the hub (backend/service).</summary>
    Service,

    /// <summary>A device identity.</summary>
    Device,

    /// <summary>A module identity.</summary>
    Module,
}
