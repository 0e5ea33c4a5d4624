using System.Text.Json;

namespace TwinPS.Emulator.Limits;

/// <summary>The faults the emulator can inject (<c>--fault-kind</c>).</summary>
internal enum FaultKind
{
    /// <summary>503 <c>ServiceUnavailable</c> (503001) before the request is processed (REST), or <c>res/503</c> (MQTT twin request).</summary>
    ServiceUnavailable,

    /// <summary>500 <c>ServerError</c> (500001) before the request is processed (REST), or <c>res/500</c> (MQTT twin request).</summary>
    ServerError,

    /// <summary>The HTTPS connection is reset before the request is processed (nothing applied).</summary>
    ResetBeforeProcessing,

    /// <summary>A REST write is processed in full (committed when valid), then the connection is reset instead of answering.</summary>
    ResetAfterCommit,

    /// <summary>
    /// A REST write is processed in full (committed when valid), then answered 503 <c>ServiceUnavailable</c> (503001)
    /// instead of its own answer: a server error the client cannot tell from one that applied nothing.
    /// </summary>
    ServiceUnavailableAfterCommit,

    /// <summary>The answer is delayed by <c>--fault-delay</c> seconds, then the request is processed normally.</summary>
    SlowResponse,

    /// <summary>
    /// The device's MQTT connection is closed: on a twin GET before answering, on a reported-properties PATCH after it is
    /// committed (the answer is lost), and instead of delivering a desired-properties notification (the patch is
    /// committed, the notification is lost).
    /// </summary>
    MqttDisconnect,
}

/// <summary>Where a fault could be injected; each site allows some kinds.</summary>
internal enum FaultSite
{
    /// <summary>A REST request that changes nothing (GET, the query POST).</summary>
    RestRead,

    /// <summary>A REST request that may change the hub (PUT, PATCH, DELETE, other POSTs).</summary>
    RestWrite,

    /// <summary>An MQTT twin GET.</summary>
    MqttTwinGet,

    /// <summary>An MQTT reported-properties PATCH.</summary>
    MqttReportedPatch,

    /// <summary>A desired-properties notification to a device.</summary>
    MqttDesiredNotification,
}

/// <summary>Names of <see cref="FaultKind"/> values.</summary>
internal static class FaultKinds
{
    public static IReadOnlyList<FaultKind> All { get; } = Enum.GetValues<FaultKind>();

    /// <summary>Parses a kind name, case-insensitive, ignoring '-' and '_' (<c>reset-after-commit</c> = <c>ResetAfterCommit</c>).</summary>
    public static FaultKind? Parse(string text)
    {
        string plain = text.Replace("-", string.Empty, StringComparison.Ordinal).Replace("_", string.Empty, StringComparison.Ordinal);
        foreach (FaultKind k in All)
        {
            if (string.Equals(k.ToString(), plain, StringComparison.OrdinalIgnoreCase)) return k;
        }

        return null;
    }

    /// <summary>Whether <paramref name="kind"/> can happen at <paramref name="site"/>.</summary>
    public static bool AppliesTo(FaultKind kind, FaultSite site) => site switch
    {
        FaultSite.RestRead => kind is FaultKind.ServiceUnavailable or FaultKind.ServerError or FaultKind.ResetBeforeProcessing or FaultKind.SlowResponse,
        FaultSite.RestWrite => kind is not FaultKind.MqttDisconnect,
        FaultSite.MqttTwinGet or FaultSite.MqttReportedPatch =>
            kind is FaultKind.ServiceUnavailable or FaultKind.ServerError or FaultKind.SlowResponse or FaultKind.MqttDisconnect,
        FaultSite.MqttDesiredNotification => kind is FaultKind.MqttDisconnect,
        _ => false,
    };
}

/// <summary>
/// Seeded fault injection (<c>--fault-rate</c>, <c>--fault-seed</c>, <c>--fault-kind</c>). Every REST data request, MQTT
/// twin request and desired notification draws from one pseudo-random sequence: with probability <c>--fault-rate</c> it
/// gets a fault, chosen uniformly among the selected kinds that apply there. The sequence is fixed by the seed, so a
/// client that sends its requests one at a time meets the same faults on every run. The test-support endpoints
/// (<c>/$twinps/…</c>) never draw.
/// </summary>
internal sealed class FaultInjector
{
    private readonly Random? _random;
    private readonly object _gate = new();
    private readonly long[] _injected = new long[FaultKinds.All.Count];
    private readonly FaultKind[][] _eligible;

    public FaultInjector(FaultSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        Settings = settings;
        if (settings.IsEnabled) _random = new Random(settings.Seed);
        _eligible = Enum.GetValues<FaultSite>()
            .Select(site => settings.Kinds.Where(k => FaultKinds.AppliesTo(k, site)).ToArray())
            .ToArray();
    }

    public FaultSettings Settings { get; }

    public bool IsEnabled => _random is not null;

    /// <summary>The fault this request meets, or null. Counts it as injected.</summary>
    public FaultKind? Decide(FaultSite site)
    {
        if (_random is null) return null;
        FaultKind kind;
        lock (_gate)
        {
            if (_random.NextDouble() >= Settings.Rate) return null;
            FaultKind[] eligible = _eligible[(int)site];
            if (eligible.Length == 0) return null;
            kind = eligible[eligible.Length == 1 ? 0 : _random.Next(eligible.Length)];
        }

        Interlocked.Increment(ref _injected[(int)kind]);
        return kind;
    }

    /// <summary>How many faults of a kind were injected.</summary>
    public long InjectedCount(FaultKind kind) => Interlocked.Read(ref _injected[(int)kind]);

    /// <summary>Writes <c>{"total":n,"byKind":{"ServiceUnavailable":n,…}}</c>.</summary>
    public void WriteStatistics(Utf8JsonWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteStartObject();
        writer.WriteNumber("total", FaultKinds.All.Sum(InjectedCount));
        writer.WriteStartObject("byKind");
        foreach (FaultKind k in FaultKinds.All) writer.WriteNumber(k.ToString(), InjectedCount(k));
        writer.WriteEndObject();
        writer.WriteEndObject();
    }
}
