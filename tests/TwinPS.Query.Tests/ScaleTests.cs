using System.Diagnostics;
using System.Text.Json.Nodes;
using Xunit.Abstractions;

namespace TwinPS.Query.Tests;

/// <summary>100,000 generated device twins, built once for all scale tests.</summary>
public sealed class LargeFleet
{
    public LargeFleet()
    {
        Twins = new List<JsonObject>(Count);
        for (var i = 0; i < Count; i++)
        {
            Twins.Add(new JsonObject
            {
                ["deviceId"] = "dev-" + i.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["status"] = i % 10 == 0 ? "disabled" : "enabled",
                ["tags"] = new JsonObject
                {
                    ["location"] = new JsonObject { ["region"] = i % 2 == 0 ? "US" : "EU", ["plant"] = Plants[i % 100] },
                },
                ["properties"] = new JsonObject
                {
                    ["desired"] = new JsonObject { ["$version"] = 1 },
                    ["reported"] = new JsonObject { ["temperature"] = i % 50, ["$version"] = 2 },
                },
            });
        }
    }

    public const int Count = 100_000;

    private static readonly string[] Plants = Enumerable.Range(0, 100).Select(p => "plant" + p.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();

    public List<JsonObject> Twins { get; }
}

/// <summary>The evaluator over a fleet of the size the emulator scans in memory (counts only; nothing is timed as a pass condition).</summary>
public class ScaleTests(LargeFleet fleet, ITestOutputHelper output) : IClassFixture<LargeFleet>
{
    [Fact]
    public void Equality_filter_over_100000_twins_finds_every_match()
    {
        var query = IoTHubQuery.Parse("SELECT * FROM devices WHERE tags.location.plant = 'plant42'");

        var watch = Stopwatch.StartNew();
        var rows = query.Execute(fleet.Twins).ToList();
        watch.Stop();

        Assert.Equal(LargeFleet.Count / 100, rows.Count);
        Assert.All(rows, row => Assert.Equal("plant42", (string)row["tags"]!["location"]!["plant"]!));
        output.WriteLine($"{LargeFleet.Count:N0} twins, equality filter: {watch.Elapsed.TotalMilliseconds:F1} ms");
    }

    [Fact]
    public void Compound_filter_projection_and_group_by_over_100000_twins()
    {
        var projected = IoTHubQuery.Parse(
            "SELECT deviceId, properties.reported.temperature AS t FROM devices WHERE status = 'enabled' AND tags.location.region = 'US' AND properties.reported.temperature >= 40")
            .Execute(fleet.Twins).ToList();
        var groups = IoTHubQuery.Parse("SELECT tags.location.region AS region, COUNT() AS n, AVG(properties.reported.temperature) AS avg FROM devices GROUP BY tags.location.region")
            .Execute(fleet.Twins).ToList();

        // Per 50 consecutive ids: even i with i % 50 in 40..48 and i % 10 != 0, i.e. 42, 44, 46, 48.
        Assert.Equal(LargeFleet.Count / 50 * 4, projected.Count);
        Assert.All(projected, row => Assert.True(row["t"]!.GetValue<int>() >= 40));
        Assert.Equal(
            SampleTwins.Canonical("""{"region":"US","n":50000,"avg":24}""", """{"region":"EU","n":50000,"avg":25}"""),
            SampleTwins.Canonical(groups));
    }
}
