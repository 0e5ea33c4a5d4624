namespace TwinPS.Protocol;

/// <summary>The <c>api-version</c> of the IoT Hub service and device APIs (REST reference §1.1).</summary>
public static class IoTHubApiVersion
{
    /// <summary>The version TwinPS speaks, on REST requests and in the MQTT user name.</summary>
    public const string Current = "2021-04-12";

    /// <summary>The name of the query parameter that carries it.</summary>
    public const string QueryParameter = "api-version";

    /// <summary>The versions the service accepts (anything else is 400 <c>InvalidProtocolVersion</c>).</summary>
    public static IReadOnlySet<string> Accepted { get; } = new HashSet<string>(StringComparer.Ordinal)
    {
        Current, "2018-06-30", "2020-05-31-preview", "2020-09-30", "2024-03-31",
    };
}
