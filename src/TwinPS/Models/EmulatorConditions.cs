using System.Collections.Specialized;
using System.Globalization;
using System.Text.Json.Nodes;

namespace TwinPS.Models;

/// <summary>
/// The throttling an emulator was started with (<c>Start-IoTHubEmulator -Tier/-Units/-Rate/-ThrottleMode/-Burst</c>), as
/// its ready line reports it.
/// </summary>
public sealed class EmulatorThrottleInfo
{
    private EmulatorThrottleInfo(string? tier, int? units, string mode, double burstSeconds, int? backlog, double? backlogTimeoutSeconds, int? maxActiveJobs, OrderedDictionary rates)
    {
        Tier = tier;
        Units = units;
        Mode = mode;
        BurstSeconds = burstSeconds;
        Backlog = backlog;
        BacklogTimeoutSeconds = backlogTimeoutSeconds;
        MaxActiveJobs = maxActiveJobs;
        RatesPerSecond = rates;
    }

    /// <summary>F1, S1, S2 or S3; null when only -Rate was given.</summary>
    public string? Tier { get; }

    /// <summary>Units of the tier; null without a tier.</summary>
    public int? Units { get; }

    /// <summary><c>Shape</c> (queue, then 429002/429003) or <c>Strict</c> (429001 at once).</summary>
    public string Mode { get; }

    /// <summary>Seconds of each class's rate a client may use at once before throttling starts.</summary>
    public double BurstSeconds { get; }

    /// <summary>Requests that may wait per class when shaping; null under Strict.</summary>
    public int? Backlog { get; }

    /// <summary>Longest wait in the backlog, in seconds; null under Strict.</summary>
    public double? BacklogTimeoutSeconds { get; }

    /// <summary>Concurrent jobs the tier allows; null without a tier.</summary>
    public int? MaxActiveJobs { get; }

    /// <summary>Each throttled class (twinRead, twinUpdate, query, registry, jobOperation, jobDevice, method) and its rate per second.</summary>
    public OrderedDictionary RatesPerSecond { get; }

    /// <inheritdoc />
    public override string ToString()
    {
        string what = Tier is null ? "custom rates" : string.Create(CultureInfo.InvariantCulture, $"{Tier} x{Units}");
        return string.Create(CultureInfo.InvariantCulture, $"{what}, {Mode}, burst {BurstSeconds} s");
    }

    internal static EmulatorThrottleInfo? FromJson(JsonNode? node)
    {
        if (node is not JsonObject json)
        {
            return null;
        }

        var rates = new OrderedDictionary(StringComparer.OrdinalIgnoreCase);
        if (json["ratesPerSecond"] is JsonObject rateJson)
        {
            foreach (KeyValuePair<string, JsonNode?> rate in rateJson)
            {
                rates[rate.Key] = (double?)rate.Value ?? 0;
            }
        }

        string mode = (string?)json["mode"] == "strict" ? "Strict" : "Shape";
        return new EmulatorThrottleInfo(
            (string?)json["tier"], (int?)json["units"], mode, (double?)json["burstSeconds"] ?? 0, (int?)json["backlog"],
            (double?)json["backlogTimeoutSeconds"], (int?)json["maxActiveJobs"], rates);
    }
}

/// <summary>The fault injection an emulator was started with (<c>Start-IoTHubEmulator -FaultRate/-FaultSeed/-FaultKind</c>).</summary>
public sealed class EmulatorFaultInfo
{
    private EmulatorFaultInfo(double rate, int seed, string[] kinds, double slowResponseSeconds)
    {
        Rate = rate;
        Seed = seed;
        Kinds = kinds;
        SlowResponseSeconds = slowResponseSeconds;
    }

    /// <summary>Probability (0 to 1) that a request meets a fault.</summary>
    public double Rate { get; }

    /// <summary>The seed of the fault sequence: start again with <c>-FaultSeed</c> of this value to meet the same faults.</summary>
    public int Seed { get; }

    /// <summary>The fault kinds in use.</summary>
    public string[] Kinds { get; }

    /// <summary>The delay of a SlowResponse fault, in seconds.</summary>
    public double SlowResponseSeconds { get; }

    /// <inheritdoc />
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"rate {Rate}, seed {Seed}, {string.Join(", ", Kinds)}");

    internal static EmulatorFaultInfo? FromJson(JsonNode? node)
    {
        if (node is not JsonObject json)
        {
            return null;
        }

        string[] kinds = json["kinds"] is JsonArray array ? array.Select(k => (string?)k ?? string.Empty).ToArray() : [];
        return new EmulatorFaultInfo((double?)json["rate"] ?? 0, (int?)json["seed"] ?? 0, kinds, (double?)json["slowResponseSeconds"] ?? 0);
    }
}
