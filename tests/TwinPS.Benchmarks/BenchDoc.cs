using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace TwinPS.Benchmarks;

/// <summary>
/// What every benchmark section of docs/benchmarks.md shares: the machine line, the load average at the time of a
/// measurement, the table, and the rewrite of one section between its own markers (nothing outside is touched, so
/// each benchmark, including ones added later, rewrites only its own section).
/// </summary>
internal static class BenchDoc
{
    public const string DefaultDocument = "# Benchmarks\n\nBenchmarks are not tests: they measure and record. Each section is written by its own benchmark, between its markers; every figure and note in it comes from that run.\n\n";

    /// <summary>The 1, 5 and 15 minute load averages from /proc/loadavg, e.g. "3.48 2.83 7.14".</summary>
    public static string LoadAverage()
    {
        if (!File.Exists("/proc/loadavg")) return "unknown";
        return string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
    }

    /// <summary>"quiet" or "loaded", from the 1-minute load average against the CPU count (recorded, never asserted).</summary>
    public static string Describe(string loadAverage)
    {
        string first = loadAverage.Split(' ')[0];
        if (!double.TryParse(first, NumberStyles.Float, CultureInfo.InvariantCulture, out double load)) return "load unknown";
        return load <= Environment.ProcessorCount
            ? $"quiet: 1-minute load {first} ≤ {Environment.ProcessorCount} CPUs"
            : $"loaded: 1-minute load {first} > {Environment.ProcessorCount} CPUs, other work shared the machine";
    }

    public static string Machine()
    {
        string cpu = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown";
        string mem = File.ReadLines("/proc/meminfo").FirstOrDefault(l => l.StartsWith("MemTotal", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown";
        return $"{Environment.ProcessorCount} CPUs ({cpu}), {mem} memory, {RuntimeInformation.FrameworkDescription} on {RuntimeInformation.OSDescription}";
    }

    /// <summary>A Markdown table with a load-average column (the load when each measurement started).</summary>
    public static void AppendTable(StringBuilder sb, IEnumerable<BenchRow> rows)
    {
        sb.AppendLine("| Measurement | Result | Goal | Met | Load average when it started (1/5/15 min) |");
        sb.AppendLine("|---|---|---|---|---|");
        foreach (var r in rows)
            sb.AppendLine(CultureInfo.InvariantCulture, $"| {r.Name} | {r.Value} | {r.Goal} | {(r.Met is null ? "—" : r.Met.Value ? "yes" : "**no**")} | {r.Load} |");
    }

    /// <summary>Rewrites the block between <c>&lt;!-- {marker}:start --&gt;</c> and <c>&lt;!-- {marker}:end --&gt;</c>, or appends it.</summary>
    public static void WriteSection(string path, string marker, string section)
    {
        string start = $"<!-- {marker}:start -->", end = $"<!-- {marker}:end -->";
        string block = start + "\n" + section + end + "\n";
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        string text = File.Exists(path) ? File.ReadAllText(path) : DefaultDocument;
        int a = text.IndexOf(start, StringComparison.Ordinal), b = text.IndexOf(end, StringComparison.Ordinal);
        text = a >= 0 && b > a ? text[..a] + block + text[(b + end.Length)..].TrimStart('\n') : text.TrimEnd('\n') + "\n\n" + block;
        File.WriteAllText(path, text);
    }

    /// <summary>
    /// Percentile over ALL attempts, misses included (a miss sorts after every latency): the text is "miss" when the
    /// percentile falls among the misses, so a lost patch can never make the latency look better.
    /// </summary>
    public static string Percentile(IReadOnlyList<double?> attempts, double p)
    {
        if (attempts.Count == 0) return "—";
        var sorted = attempts.Select(a => a ?? double.PositiveInfinity).Order().ToList();
        double v = sorted[Math.Clamp((int)Math.Ceiling(p / 100.0 * sorted.Count) - 1, 0, sorted.Count - 1)];
        return double.IsPositiveInfinity(v) ? "miss" : v.ToString("N1", CultureInfo.InvariantCulture);
    }
}

/// <summary>One table row; <see cref="Load"/> is the load average when the measurement started.</summary>
internal sealed record BenchRow(string Name, string Value, string Goal, bool? Met, string Load);
