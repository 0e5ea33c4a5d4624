namespace TwinPS.Protocol;

/// <summary>
/// The IoT Hub operation throttle a request counts against (throttling reference §3.1 and §3.5). Each has its own
/// budget on a hub: the emulator keeps one bucket per class, and the client learns one rate per class on a connection.
/// </summary>
public enum ThrottleClass
{
    /// <summary>Anything not metered by a known throttle (e.g. statistics).</summary>
    Other,

    /// <summary>Twin reads (device and module; REST GET and MQTT twin GET). Cost 1 per request.</summary>
    TwinRead,

    /// <summary>Twin updates (device and module; REST PATCH/PUT and MQTT reported PATCH). Cost 1.</summary>
    TwinUpdate,

    /// <summary>Queries: every page of <c>POST /devices/query</c> (continuations too). Cost 1.</summary>
    Query,

    /// <summary>Identity registry operations: cost 1 per operation, and one per entry of a bulk <c>POST /devices</c>.</summary>
    Registry,

    /// <summary>Jobs operations (create, get, list, cancel). Cost 1.</summary>
    JobOperation,

    /// <summary>Per-device job operations (a twin update or a method call the job runner makes for one device). Cost 1.</summary>
    JobDevice,

    /// <summary>Direct methods: cost <see cref="DirectMethodRequest.ThrottleUnits"/> (4 KB meter units of payload, at least one).</summary>
    Method,
}

/// <summary>Names and published facts of the <see cref="ThrottleClass"/> values.</summary>
public static class ThrottleClasses
{
    /// <summary>Every class a hub meters (all but <see cref="ThrottleClass.Other"/>).</summary>
    public static IReadOnlyList<ThrottleClass> Metered { get; } = Enum.GetValues<ThrottleClass>().Where(c => c != ThrottleClass.Other).ToArray();

    /// <summary>The length of an array indexed by <c>(int)</c> <see cref="ThrottleClass"/>.</summary>
    public static int SlotCount { get; } = Enum.GetValues<ThrottleClass>().Length;

    /// <summary>The short name (<c>twinRead</c>, <c>twinUpdate</c>, <c>query</c>, …) used by the emulator's <c>--rate</c> and statistics.</summary>
    public static string NameOf(ThrottleClass throttleClass) => throttleClass switch
    {
        ThrottleClass.TwinRead => "twinRead",
        ThrottleClass.TwinUpdate => "twinUpdate",
        ThrottleClass.Query => "query",
        ThrottleClass.Registry => "registry",
        ThrottleClass.JobOperation => "jobOperation",
        ThrottleClass.JobDevice => "jobDevice",
        ThrottleClass.Method => "method",
        _ => throw new ArgumentOutOfRangeException(nameof(throttleClass)),
    };

    /// <summary>Parses a metered class's short name (case-insensitive).</summary>
    public static bool TryParse(string? name, out ThrottleClass throttleClass)
    {
        foreach (ThrottleClass c in Metered)
        {
            if (string.Equals(NameOf(c), name, StringComparison.OrdinalIgnoreCase))
            {
                throttleClass = c;
                return true;
            }
        }

        throttleClass = default;
        return false;
    }

    /// <summary>
    /// The "Operation type" a 429 message names. <c>CRUD</c> for the registry is observed on a live hub; the others are
    /// UNCONFIRMED choices (docs/emulator-fidelity.md).
    /// </summary>
    public static string OperationType(ThrottleClass throttleClass) => throttleClass switch
    {
        ThrottleClass.TwinRead => "TwinRead",
        ThrottleClass.TwinUpdate => "TwinUpdate",
        ThrottleClass.Query => "Query",
        ThrottleClass.Registry => "CRUD",
        ThrottleClass.JobOperation => "JobsOperation",
        ThrottleClass.JobDevice => "JobsDeviceOperation",
        ThrottleClass.Method => "DirectMethod",
        _ => throw new ArgumentOutOfRangeException(nameof(throttleClass)),
    };

    /// <summary>
    /// The published sustained rate of a class on a Free or Standard tier (<c>F1</c>, <c>S1</c>, <c>S2</c>, <c>S3</c>)
    /// with <paramref name="units"/> units, in the class's cost units per second (requests; registry entries; 4 KB
    /// method meters). Throttling reference §3.1: "per unit" means multiplied by the unit count.
    /// </summary>
    public static double RatePerSecond(string tier, ThrottleClass throttleClass, int units)
    {
        ArgumentNullException.ThrowIfNull(tier);
        bool s3 = string.Equals(tier, "S3", StringComparison.OrdinalIgnoreCase);
        bool s2 = string.Equals(tier, "S2", StringComparison.OrdinalIgnoreCase);
        return throttleClass switch
        {
            // All tiers: 100/min/unit (S3: 5,000/min/unit).
            ThrottleClass.Registry => (s3 ? 5000.0 : 100.0) * units / 60.0,

            // 20/min/unit (S3: 1,000/min/unit).
            ThrottleClass.Query => (s3 ? 1000.0 : 20.0) * units / 60.0,

            // F1/S1: 100/s per hub; S2: max(100/s, 10/s/unit); S3: 500/s/unit.
            ThrottleClass.TwinRead => s3 ? 500.0 * units : s2 ? Math.Max(100.0, 10.0 * units) : 100.0,

            // F1/S1: 50/s per hub; S2: max(50/s, 5/s/unit); S3: 250/s/unit.
            ThrottleClass.TwinUpdate => s3 ? 250.0 * units : s2 ? Math.Max(50.0, 5.0 * units) : 50.0,

            // 100/min/unit (S3: 5,000/min/unit).
            ThrottleClass.JobOperation => (s3 ? 5000.0 : 100.0) * units / 60.0,

            // F1/S1: 10/s; S2: max(10/s, 1/s/unit); S3: 50/s/unit.
            ThrottleClass.JobDevice => s3 ? 50.0 * units : s2 ? Math.Max(10.0, 1.0 * units) : 10.0,

            // F1/S1: 160 KB/s/unit; S2: 480 KB/s/unit; S3: 24 MB/s/unit; metered in DirectMethodRequest.ThrottleMeterBytes units.
            ThrottleClass.Method => (s3 ? 24.0 * 1024.0 : s2 ? 480.0 : 160.0) * 1024.0 / DirectMethodRequest.ThrottleMeterBytes * units,

            _ => throw new ArgumentOutOfRangeException(nameof(throttleClass)),
        };
    }
}
