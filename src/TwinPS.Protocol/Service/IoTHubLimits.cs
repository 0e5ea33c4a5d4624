namespace TwinPS.Protocol;

/// <summary>Published limits of the IoT Hub service API (REST reference §3–§4) that both sides of the wire enforce.</summary>
public static class IoTHubLimits
{
    /// <summary>Most entries in one bulk registry request (<c>POST /devices</c>); more is 400 <c>TooManyDevices</c>.</summary>
    public const int MaxBulkEntries = 100;

    /// <summary>Largest page of a query (<c>x-ms-max-item-count</c>), of twins or of jobs; also the hub's default.</summary>
    public const int MaxQueryPageSize = 100;

    /// <summary>Longest query text, in characters.</summary>
    public const int MaxQueryLength = 8192;

    /// <summary>Most devices the (deprecated) registry list <c>GET /devices?top=N</c> returns; also its default.</summary>
    public const int MaxDeviceListTop = 1000;
}
