using System.Globalization;
using System.Text.Json;
using TwinPS.Emulator.Hosting;
using TwinPS.Protocol;

namespace TwinPS.Emulator.Limits;

/// <summary>The effective throttle configuration (<c>--tier</c>, <c>--units</c>, <c>--rate</c>, <c>--burst</c>, <c>--throttle</c>, <c>--backlog</c>, <c>--backlog-timeout</c>).</summary>
internal sealed class ThrottleSettings
{
    /// <summary>Default burst under shaping: one minute of the rate ("throttles are applied in minute ranges"; UNCONFIRMED).</summary>
    public const double DefaultShapeBurstSeconds = 60;

    /// <summary>Default burst under <c>--throttle strict</c>: one second of the rate.</summary>
    public const double DefaultStrictBurstSeconds = 1;

    /// <summary>Default backlog per class, in requests (UNCONFIRMED).</summary>
    public const int DefaultBacklog = 100;

    /// <summary>Default longest wait in the backlog (UNCONFIRMED).</summary>
    public static readonly TimeSpan DefaultBacklogTimeout = TimeSpan.FromSeconds(10);

    /// <summary>No throttling at all (an ideal hub, the default).</summary>
    public static ThrottleSettings None { get; } = new();

    public HubTier? Tier { get; init; }

    public int Units { get; init; } = 1;

    public ThrottleMode Mode { get; init; } = ThrottleMode.Shape;

    public double BurstSeconds { get; init; } = DefaultShapeBurstSeconds;

    public int Backlog { get; init; } = DefaultBacklog;

    public TimeSpan BacklogTimeout { get; init; } = DefaultBacklogTimeout;

    /// <summary>Rate per second (in cost units) of every throttled class; a class not listed is not throttled.</summary>
    public IReadOnlyDictionary<ThrottleClass, double> Rates { get; init; } = new Dictionary<ThrottleClass, double>();

    public bool IsEnabled => Rates.Count > 0;

    /// <summary>The ready line's <c>throttle</c> object.</summary>
    public void WriteJson(Utf8JsonWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteStartObject();
        if (Tier is null)
        {
            writer.WriteNull("tier");
            writer.WriteNull("units");
            writer.WriteNull("maxActiveJobs");
        }
        else
        {
            writer.WriteString("tier", Tier.Name);
            writer.WriteNumber("units", Units);
            writer.WriteNumber("maxActiveJobs", Tier.MaxActiveJobs);
        }

        writer.WriteString("mode", Mode == ThrottleMode.Strict ? "strict" : "shape");
        writer.WriteNumber("burstSeconds", BurstSeconds);
        if (Mode == ThrottleMode.Shape)
        {
            writer.WriteNumber("backlog", Backlog);
            writer.WriteNumber("backlogTimeoutSeconds", BacklogTimeout.TotalSeconds);
        }

        writer.WriteStartObject("ratesPerSecond");
        foreach (ThrottleClass c in ThrottleClasses.Metered)
        {
            if (Rates.TryGetValue(c, out double rate)) writer.WriteNumber(ThrottleClasses.NameOf(c), Math.Round(rate, 6));
        }

        writer.WriteEndObject();
        writer.WriteEndObject();
    }
}

/// <summary>The effective fault-injection configuration (<c>--fault-rate</c>, <c>--fault-seed</c>, <c>--fault-kind</c>, <c>--fault-delay</c>).</summary>
internal sealed class FaultSettings
{
    /// <summary>Default delay of a <see cref="FaultKind.SlowResponse"/> fault.</summary>
    public static readonly TimeSpan DefaultSlowDelay = TimeSpan.FromSeconds(3);

    public static FaultSettings None { get; } = new();

    /// <summary>Probability (0..1) that a request is given a fault.</summary>
    public double Rate { get; init; }

    /// <summary>Seed of the fault sequence (reported in the ready line, so a run can be repeated).</summary>
    public int Seed { get; init; }

    public IReadOnlyList<FaultKind> Kinds { get; init; } = FaultKinds.All;

    public TimeSpan SlowDelay { get; init; } = DefaultSlowDelay;

    public bool IsEnabled => Rate > 0;

    /// <summary>The ready line's <c>faults</c> object.</summary>
    public void WriteJson(Utf8JsonWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteStartObject();
        writer.WriteNumber("rate", Rate);
        writer.WriteNumber("seed", Seed);
        writer.WriteStartArray("kinds");
        foreach (FaultKind k in Kinds) writer.WriteStringValue(k.ToString());
        writer.WriteEndArray();
        writer.WriteNumber("slowResponseSeconds", SlowDelay.TotalSeconds);
        writer.WriteEndObject();
    }
}

/// <summary>
/// Collects the throttle and fault options while <see cref="EmulatorOptions.Parse"/> walks the command line, then
/// validates them together. Every error is an <see cref="OptionsException"/> with a message for the user.
/// </summary>
internal sealed class LimitOptionsParser
{
    public const string HelpText = """
        Real-hub conditions (default: an ideal hub, no throttling, no faults):
          --tier F1|S1|S2|S3   throttle at the tier's published rates (shaping by default)
          --units N            units of the tier (default 1; F1 1, S1/S2 1-200, S3 1-10)
          --rate CLASS=N/s     set one class's rate (or N/min); repeatable or comma-separated. Classes:
                               twinRead, twinUpdate, query, registry, jobOperation, jobDevice,
                               method (4 KB units of request payload). Without --tier only the
                               classes given are throttled.
          --throttle MODE      shape: over-rate requests wait in a backlog, then 429002/429003;
                               strict: 429001 ThrottlingException at once (default shape)
          --burst SECONDS      seconds of the rate a client may use at once before throttling
                               starts (default 60 when shaping, 1 when strict)
          --backlog N          requests that may wait per class when shaping (default 100)
          --backlog-timeout S  longest wait in the backlog, in seconds (default 10)
          --fault-rate P       probability 0..1 that a request meets a fault
          --fault-seed N       seed of the fault sequence (default: random, shown in the ready line)
          --fault-kind KINDS   comma-separated or repeated; default all: ServiceUnavailable (503),
                               ServerError (500), ResetBeforeProcessing, ResetAfterCommit,
                               ServiceUnavailableAfterCommit, SlowResponse, MqttDisconnect
          --fault-delay S      delay of a SlowResponse fault, in seconds (default 3)
        """;

    private readonly List<(ThrottleClass Class, double PerSecond)> _rates = [];
    private readonly List<FaultKind> _kinds = [];
    private HubTier? _tier;
    private int? _units;
    private ThrottleMode? _mode;
    private double? _burst;
    private int? _backlog;
    private double? _backlogTimeout;
    private double? _faultRate;
    private int? _faultSeed;
    private double? _faultDelay;

    /// <summary>Consumes one option if it is a limits option (lower-case name); false when it is not one of these.</summary>
    public bool TryApply(string name, Func<string> value)
    {
        ArgumentNullException.ThrowIfNull(value);
        switch (name)
        {
            case "--tier":
                string t = value();
                _tier = HubTier.Find(t) ?? throw new OptionsException(
                    $"Option '--tier' needs F1, S1, S2 or S3, got '{Shorten(t)}'." + (t.StartsWith('B') || t.StartsWith('b') ? " The Basic tiers have no twins, methods or jobs and are not emulated." : string.Empty));
                return true;
            case "--units":
                _units = ParseInt(name, value(), 1, 200);
                return true;
            case "--rate":
                foreach (string part in value().Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
                    _rates.Add(ParseRate(part));
                return true;
            case "--throttle":
                string m = value();
                _mode = m.ToLowerInvariant() switch
                {
                    "shape" => ThrottleMode.Shape,
                    "strict" => ThrottleMode.Strict,
                    _ => throw new OptionsException($"Option '--throttle' needs 'shape' or 'strict', got '{Shorten(m)}'."),
                };
                return true;
            case "--burst":
                _burst = ParseSeconds(name, value(), 3600);
                return true;
            case "--backlog":
                _backlog = ParseInt(name, value(), 0, 100_000);
                return true;
            case "--backlog-timeout":
                _backlogTimeout = ParseSeconds(name, value(), 600);
                return true;
            case "--fault-rate":
                string r = value();
                if (!double.TryParse(r, NumberStyles.Float, CultureInfo.InvariantCulture, out double p) || !(p >= 0 && p <= 1))
                    throw new OptionsException($"Option '--fault-rate' needs a probability from 0 to 1, got '{Shorten(r)}'.");
                _faultRate = p;
                return true;
            case "--fault-seed":
                _faultSeed = ParseInt(name, value(), int.MinValue, int.MaxValue);
                return true;
            case "--fault-kind":
                foreach (string part in value().Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
                {
                    FaultKind kind = FaultKinds.Parse(part) ?? throw new OptionsException(
                        $"Option '--fault-kind' got '{Shorten(part)}'; the kinds are {string.Join(", ", FaultKinds.All)}.");
                    if (!_kinds.Contains(kind)) _kinds.Add(kind);
                }

                return true;
            case "--fault-delay":
                _faultDelay = ParseSeconds(name, value(), 300);
                return true;
            default:
                return false;
        }
    }

    /// <summary>Validates the combination and builds the settings.</summary>
    public (ThrottleSettings Throttle, FaultSettings Faults) Build()
    {
        if (_units is not null && _tier is null)
            throw new OptionsException("Option '--units' needs '--tier'.");
        int units = _units ?? 1;
        if (_tier is not null && units > _tier.MaxUnits)
            throw new OptionsException($"An {_tier.Name} hub has at most {_tier.MaxUnits} unit{(_tier.MaxUnits == 1 ? string.Empty : "s")}, got --units {units}.");

        var rates = new Dictionary<ThrottleClass, double>();
        if (_tier is not null)
        {
            foreach (ThrottleClass c in ThrottleClasses.Metered) rates[c] = _tier.RatePerSecond(c, units);
        }

        foreach ((ThrottleClass c, double perSecond) in _rates) rates[c] = perSecond;

        bool throttled = rates.Count > 0;
        if (!throttled && (_mode is not null || _burst is not null || _backlog is not null || _backlogTimeout is not null))
            throw new OptionsException("Options '--throttle', '--burst', '--backlog' and '--backlog-timeout' need '--tier' or '--rate'.");
        ThrottleMode mode = _mode ?? ThrottleMode.Shape;
        if (mode == ThrottleMode.Strict && (_backlog is not null || _backlogTimeout is not null))
            throw new OptionsException("Options '--backlog' and '--backlog-timeout' apply to '--throttle shape' only.");

        var throttle = !throttled
            ? ThrottleSettings.None
            : new ThrottleSettings
            {
                Tier = _tier,
                Units = units,
                Mode = mode,
                BurstSeconds = _burst ?? (mode == ThrottleMode.Strict ? ThrottleSettings.DefaultStrictBurstSeconds : ThrottleSettings.DefaultShapeBurstSeconds),
                Backlog = _backlog ?? ThrottleSettings.DefaultBacklog,
                BacklogTimeout = _backlogTimeout is double s ? TimeSpan.FromSeconds(s) : ThrottleSettings.DefaultBacklogTimeout,
                Rates = rates,
            };

        if (_faultRate is null && (_faultSeed is not null || _kinds.Count > 0 || _faultDelay is not null))
            throw new OptionsException("Options '--fault-seed', '--fault-kind' and '--fault-delay' need '--fault-rate'.");
        if (_faultDelay is not null && _kinds.Count > 0 && !_kinds.Contains(FaultKind.SlowResponse))
            throw new OptionsException("Option '--fault-delay' applies to the SlowResponse fault kind, which '--fault-kind' leaves out.");
        var faults = _faultRate is not double rate || rate == 0
            ? FaultSettings.None
            : new FaultSettings
            {
                Rate = rate,
                Seed = _faultSeed ?? Random.Shared.Next(),
                Kinds = _kinds.Count > 0 ? _kinds.Order().ToArray() : FaultKinds.All,
                SlowDelay = _faultDelay is double d ? TimeSpan.FromSeconds(d) : FaultSettings.DefaultSlowDelay,
            };
        return (throttle, faults);
    }

    private static (ThrottleClass, double) ParseRate(string text)
    {
        int eq = text.IndexOf('=', StringComparison.Ordinal);
        int slash = text.LastIndexOf('/');
        if (eq <= 0 || slash < eq)
            throw new OptionsException($"Option '--rate' needs CLASS=N/s or CLASS=N/min, got '{Shorten(text)}'.");
        string className = text[..eq].Trim();
        if (!ThrottleClasses.TryParse(className, out ThrottleClass c))
            throw new OptionsException($"Option '--rate' got the unknown class '{Shorten(className)}'; the classes are {string.Join(", ", ThrottleClasses.Metered.Select(ThrottleClasses.NameOf))}.");
        string number = text[(eq + 1)..slash].Trim();
        string unit = text[(slash + 1)..].Trim().ToLowerInvariant();
        double seconds = unit switch
        {
            "s" or "sec" or "second" => 1,
            "min" or "minute" => 60,
            _ => throw new OptionsException($"Option '--rate' needs the unit '/s' or '/min', got '/{Shorten(unit)}' in '{Shorten(text)}'."),
        };
        if (!double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out double n) || !(n > 0) || n > 1_000_000)
            throw new OptionsException($"Option '--rate' needs a number greater than 0 and at most 1000000, got '{Shorten(number)}' in '{Shorten(text)}'.");
        return (c, n / seconds);
    }

    private static int ParseInt(string name, string text, int min, int max)
    {
        if (!int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int n) || n < min || n > max)
            throw new OptionsException($"Option '{name}' needs a whole number from {min} to {max}, got '{Shorten(text)}'.");
        return n;
    }

    private static double ParseSeconds(string name, string text, double max)
    {
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double s) || !(s > 0) || s > max)
            throw new OptionsException($"Option '{name}' needs a number of seconds greater than 0 and at most {max}, got '{Shorten(text)}'.");
        return s;
    }

    private static string Shorten(string s) => s.Length > 64 ? s[..64] + "…" : s;
}
