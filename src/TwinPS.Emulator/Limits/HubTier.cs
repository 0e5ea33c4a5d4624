using TwinPS.Protocol;

namespace TwinPS.Emulator.Limits;

/// <summary>
/// A Standard or Free IoT Hub tier as the emulator's <c>--tier</c> offers it. Its published operation throttles and job
/// slots are wire facts in TwinPS.Protocol (<see cref="ThrottleClasses.RatePerSecond"/>,
/// <see cref="JobLimits.ConcurrentJobSlots"/>). The Basic tiers are not offered: a Basic hub has no twins, methods or
/// jobs, which the emulator would have to refuse as well as throttle.
/// </summary>
internal sealed class HubTier
{
    private HubTier(string name, int maxUnits)
    {
        Name = name;
        MaxUnits = maxUnits;
        MaxActiveJobs = JobLimits.ConcurrentJobSlots(name) ?? throw new ArgumentOutOfRangeException(nameof(name));
    }

    public static HubTier F1 { get; } = new("F1", 1);

    public static HubTier S1 { get; } = new("S1", 200);

    public static HubTier S2 { get; } = new("S2", 200);

    public static HubTier S3 { get; } = new("S3", 10);

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
    public double RatePerSecond(ThrottleClass throttleClass, int units) => ThrottleClasses.RatePerSecond(Name, throttleClass, units);

    public override string ToString() => Name;
}
