namespace TwinPS.Emulator.Limits;

/// <summary>
/// A Standard or Free IoT Hub tier and its published operation throttles (throttling reference §3.1, "per unit" means
/// multiplied by the unit count). The Basic tiers are not offered: a Basic hub has no twins, methods or jobs, which the
/// emulator would have to refuse as well as throttle.
/// </summary>
internal sealed class HubTier
{
    private HubTier(string name, int maxUnits, int maxActiveJobs)
    {
        Name = name;
        MaxUnits = maxUnits;
        MaxActiveJobs = maxActiveJobs;
    }

    public static HubTier F1 { get; } = new("F1", 1, 1);

    public static HubTier S1 { get; } = new("S1", 200, 1);

    public static HubTier S2 { get; } = new("S2", 200, 5);

    public static HubTier S3 { get; } = new("S3", 10, 10);

    public static IReadOnlyList<HubTier> All { get; } = [F1, S1, S2, S3];

    /// <summary><c>F1</c>, <c>S1</c>, <c>S2</c> or <c>S3</c>.</summary>
    public string Name { get; }

    /// <summary>Most units a hub of this tier can have (F1: exactly one).</summary>
    public int MaxUnits { get; }

    /// <summary>
    /// Concurrent v2 jobs (queued, scheduled or running) the hub allows: 1/1/5/10 for F1/S1/S2/S3 (reference §3.5 item
    /// 5). The next job create is refused with 429 <c>ThrottlingMaxActiveJobCountExceeded</c>. Does not depend on units.
    /// </summary>
    public int MaxActiveJobs { get; }

    /// <summary>Looks a tier up by name (case-insensitive); null when unknown.</summary>
    public static HubTier? Find(string name) =>
        All.FirstOrDefault(t => string.Equals(t.Name, name, StringComparison.OrdinalIgnoreCase));

    /// <summary>
    /// The sustained rate of a throttle class for <paramref name="units"/> units, in the class's cost units per second
    /// (requests; registry entries; 4 KB method meters).
    /// </summary>
    public double RatePerSecond(ThrottleClass throttleClass, int units)
    {
        bool s3 = this == S3, s2 = this == S2;
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

            // F1/S1: 160 KB/s/unit; S2: 480 KB/s/unit; S3: 24 MB/s/unit; metered in 4 KB units.
            ThrottleClass.Method => (s3 ? 24.0 * 1024.0 : s2 ? 480.0 : 160.0) / 4.0 * units,

            _ => throw new ArgumentOutOfRangeException(nameof(throttleClass)),
        };
    }

    public override string ToString() => Name;
}
