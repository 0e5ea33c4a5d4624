using System.Text.Json.Nodes;

namespace TwinPS.Query.Tests;

/// <summary>Sample documents for the reference's test vectors (Part B.5), written as twin JSON.</summary>
internal static class SampleTwins
{
    /// <summary>T1, the twin from the query-language docs.</summary>
    public const string T1 = """
        {
          "deviceId": "myDeviceId",
          "etag": "AAAAAAAAAAc=",
          "status": "enabled",
          "statusUpdateTime": "0001-01-01T00:00:00Z",
          "connectionState": "Disconnected",
          "lastActivityTime": "0001-01-01T00:00:00Z",
          "cloudToDeviceMessageCount": 0,
          "authenticationType": "sas",
          "x509Thumbprint": { "primaryThumbprint": null, "secondaryThumbprint": null },
          "version": 11,
          "tags": { "location": { "region": "US", "plant": "Redmond43" } },
          "properties": {
            "desired": {
              "telemetryConfig": { "configId": "db00ebf5-eeeb-42be-86a1-458cccb69e57", "sendFrequencyInSecs": 300 },
              "$metadata": { "$lastUpdated": "2016-09-01T12:00:00Z" },
              "$version": 4
            },
            "reported": {
              "connectivity": { "type": "cellular" },
              "telemetryConfig": { "configId": "db00ebf5-eeeb-42be-86a1-458cccb69e57", "sendFrequencyInSecs": 300, "status": "Success" },
              "$metadata": { "$lastUpdated": "2016-09-01T12:00:00Z" },
              "$version": 7
            }
          }
        }
        """;

    /// <summary>T1 plus devices for the group/configuration/prefix vectors.</summary>
    public static readonly string[] Fleet =
    [
        T1,
        """{"deviceId":"test-01","status":"enabled","connectionState":"Connected","tags":{"group":{"name":"some_value"}},"configurations":{"myconfig":{"status":"Applied"}},"properties":{"desired":{"$version":1},"reported":{"connectivity":"wifi","$version":1}}}""",
        """{"deviceId":"test-02","status":"disabled","connectionState":"Disconnected","tags":{"group":{"name":"other_value"}},"configurations":{"myconfig":{"status":"Targeted"}},"properties":{"desired":{"$version":1},"reported":{"$version":1}}}""",
        """{"deviceId":"keep1-a","status":"enabled","connectionState":"Disconnected","tags":{"location":{"region":"EU"}},"properties":{"desired":{"$version":1},"reported":{"connectivity":"wired","$version":1}}}""",
        """{"deviceId":"keep2-b","status":"enabled","connectionState":"Connected","tags":{},"properties":{"desired":{"$version":1},"reported":{"$version":1}}}""",
        """{"deviceId":"Test-03","status":"enabled","connectionState":"Connected","properties":{"desired":{"$version":1},"reported":{"$version":1}}}""",
    ];

    /// <summary>Six twins: 3 Success, 2 Pending, 1 Error (vector D6).</summary>
    public static readonly string[] TelemetryStatuses =
        new[] { "Success", "Pending", "Success", "Error", "Pending", "Success" }
            .Select((status, i) => "{\"deviceId\":\"d" + i + "\",\"tags\":{},\"properties\":{\"desired\":{\"$version\":1},\"reported\":{\"telemetryConfig\":{\"status\":\"" + status + "\"},\"$version\":2}}}")
            .ToArray();

    /// <summary>The docs' hub for D8: one enabled and disconnected device among others.</summary>
    public static readonly string[] ActivityHub =
    [
        """{"deviceId":"AZ3166Device","status":"enabled","connectionState":"Disconnected","lastActivityTime":"2021-05-07T00:50:38.0543092Z","cloudToDeviceMessageCount":0}""",
        """{"deviceId":"online","status":"enabled","connectionState":"Connected","lastActivityTime":"2021-05-08T10:00:00.0000000Z","cloudToDeviceMessageCount":0}""",
        """{"deviceId":"retired","status":"disabled","connectionState":"Disconnected","lastActivityTime":"2020-01-01T00:00:00.0000000Z","cloudToDeviceMessageCount":0}""",
    ];

    /// <summary>Module twins (D9, D10, D13).</summary>
    public static readonly string[] Modules =
    [
        """{"deviceId":"device1","moduleId":"scanner","properties":{"desired":{"$version":1},"reported":{"status":"scanning","$version":3}}}""",
        """{"deviceId":"device1","moduleId":"idler","properties":{"desired":{"$version":1},"reported":{"status":"idle","$version":3}}}""",
        """{"deviceId":"device2","moduleId":"scanner","properties":{"desired":{"$version":1},"reported":{"status":"scanning","$version":3}}}""",
        """{"deviceId":"device3","moduleId":"scanner","properties":{"desired":{"$version":1},"reported":{"status":"scanning","$version":3}}}""",
        """{"deviceId":"edge1","moduleId":"$edgeAgent","properties":{"desired":{"$version":5},"reported":{"lastDesiredVersion":5,"lastDesiredStatus":{"code":400},"$version":9}}}""",
        """{"deviceId":"edge2","moduleId":"$edgeAgent","properties":{"desired":{"$version":5},"reported":{"lastDesiredVersion":5,"lastDesiredStatus":{"code":200},"$version":9}}}""",
        """{"deviceId":"edge3","moduleId":"$edgeAgent","properties":{"desired":{"$version":6},"reported":{"lastDesiredVersion":5,"lastDesiredStatus":{"code":400},"$version":9}}}""",
        """{"deviceId":"edge1","moduleId":"$edgeHub","properties":{"desired":{"$version":5},"reported":{"lastDesiredVersion":5,"lastDesiredStatus":{"code":400},"$version":9}}}""",
    ];

    /// <summary>Per-device job records (D14).</summary>
    public static readonly string[] DeviceJobs =
    [
        """{"deviceId":"myDeviceId","jobId":"job1","jobType":"scheduleUpdateTwin","status":"completed","startTimeUtc":"2024-01-01T00:00:00Z"}""",
        """{"deviceId":"otherDevice","jobId":"job1","jobType":"scheduleUpdateTwin","status":"completed","startTimeUtc":"2024-01-01T00:00:00Z"}""",
        """{"deviceId":"myDeviceId","jobId":"job2","jobType":"scheduleDeviceMethod","status":"failed","startTimeUtc":"2024-02-01T00:00:00Z"}""",
    ];

    /// <summary>The A/B/C dataset of the derived vectors (X1–X11).</summary>
    public static readonly string[] Abc =
    [
        """{"deviceId":"a1","tags":{"env":"prod"},"properties":{"desired":{"$version":1},"reported":{"fw":"1.0","temp":20,"$version":3}}}""",
        """{"deviceId":"b2","tags":{"env":"dev"},"properties":{"desired":{"$version":1},"reported":{"fw":"2.0","$version":2}}}""",
        """{"deviceId":"c3","tags":{},"properties":{"desired":{"$version":1},"reported":{"temp":"20","$version":2}}}""",
    ];

    public static List<JsonObject> Load(IEnumerable<string> json) =>
        json.Select(j => JsonNode.Parse(j)!.AsObject()).ToList();

    public static List<JsonObject> Run(string query, IEnumerable<string> json) =>
        IoTHubQuery.Parse(query).Execute(Load(json)).ToList();

    public static List<string> Ids(IEnumerable<JsonObject> rows) =>
        rows.Select(r => (string)r["deviceId"]!).ToList();

    /// <summary>Rows as compact JSON, sorted, for order-insensitive comparison.</summary>
    public static List<string> Canonical(IEnumerable<JsonNode?> rows) =>
        rows.Select(r => SortKeys(r)!.ToJsonString()).Order(StringComparer.Ordinal).ToList();

    private static JsonNode? SortKeys(JsonNode? node) => node switch
    {
        JsonObject o => new JsonObject(o.OrderBy(p => p.Key, StringComparer.Ordinal)
            .Select(p => KeyValuePair.Create(p.Key, SortKeys(p.Value)))),
        JsonArray a => new JsonArray(a.Select(SortKeys).ToArray()),
        _ => node?.DeepClone(),
    };

    public static List<string> Canonical(params string[] rows) =>
        Canonical(rows.Select(r => JsonNode.Parse(r)));
}
