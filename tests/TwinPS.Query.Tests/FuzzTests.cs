using System.Text;
using System.Text.Json.Nodes;

namespace TwinPS.Query.Tests;

/// <summary>
/// Bounded fuzzing: random and mutated query texts either parse (and then evaluate without throwing) or raise
/// QuerySyntaxException with a position inside the text — never another exception, never a hang.
/// </summary>
public class FuzzTests
{
    private static readonly string[] Seeds =
    [
        "SELECT * FROM devices WHERE tags.location.region = 'US'",
        "SELECT * FROM devices WHERE tags.location.region = 'US' AND properties.reported.telemetryConfig.sendFrequencyInSecs >= 60",
        "SELECT properties.reported.telemetryConfig.status AS status, COUNT() AS numberOfDevices FROM devices GROUP BY properties.reported.telemetryConfig.status",
        "SELECT DeviceId, LastActivityTime FROM devices WHERE status = 'enabled' AND connectionState = 'Disconnected'",
        "SELECT * FROM devices.modules WHERE properties.reported.status = 'scanning' AND deviceId IN ['device1','device2']",
        "SELECT deviceId FROM devices.modules WHERE moduleId='$edgeAgent' AND properties.desired.$version = properties.reported.lastDesiredVersion",
        "SELECT * FROM devices.jobs WHERE devices.jobs.deviceId = 'myDeviceId'",
        "select deviceId from devices where not startswith(deviceId, 'keep1') and not endswith(deviceId, \"x\\\"y\")",
        "SELECT TOP 5 deviceId, tags.[[group]].name AS g FROM devices WHERE (tags.n * 2 + 1) % 3 <> -0x14 OR tags.v NIN [1, 'a', true, null]",
        "SELECT MIN(tags.a), MAX(tags.a), AVG(tags.a), SUM(tags.a) FROM devices WHERE IS_DEFINED(tags.a) AND tags.s = 'it\\'s \\u0041'",
    ];

    private static readonly string[] Vocabulary =
    [
        "SELECT", "FROM", "WHERE", "GROUP", "BY", "AS", "AND", "OR", "NOT", "IN", "NIN", "TOP", "true", "false", "null",
        "undefined", "devices", "devices.modules", "devices.jobs", "*", ",", ".", "(", ")", "[", "]", "[[", "]]", "=", "!=",
        "<>", "<", ">", "<=", ">=", "+", "-", "/", "%", "'a'", "\"b\"", "'", "\"", "\\", "0x1F", "12", "1.5e3", "tags", "x",
        "$version", "COUNT()", "IS_DEFINED(", "STARTSWITH(", "ENDSWITH(", "STARTS_WITH(", "ORDER", "\n", " ", "é", "\u0000",
    ];

    private static readonly List<JsonObject> Documents = SampleTwins.Load(SampleTwins.Abc.Concat(SampleTwins.Fleet));

    private static void Check(string text)
    {
        try
        {
            var query = IoTHubQuery.Parse(text);
            Assert.Null(IoTHubQuery.Diagnose(text));
            _ = query.Execute(Documents).ToList();
            _ = query.ResultItemType;
        }
        catch (QuerySyntaxException ex)
        {
            Assert.InRange(ex.Position, 0, Math.Max(text.Length, IoTHubQuery.MaxQueryLength));
            Assert.InRange(ex.Line, 1, int.MaxValue);
            Assert.InRange(ex.Column, 1, int.MaxValue);
            Assert.False(string.IsNullOrEmpty(ex.Token));
            Assert.StartsWith("Syntax error at line ", ex.Message, StringComparison.Ordinal);
        }
        catch (Exception ex)
        {
            Assert.Fail($"unexpected {ex.GetType().Name} for query: {text}\n{ex}");
        }
    }

    /// <summary>Runs a fuzz loop on its own thread and fails instead of hanging when it does not finish in time.</summary>
    private static void Bounded(Action loop)
    {
        var task = Task.Factory.StartNew(loop, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        Assert.True(task.Wait(TimeBounds.Eventually), $"a fuzz loop did not finish within {TimeBounds.Eventually.TotalSeconds} s");
    }

    [Fact]
    public void Seeds_are_valid_queries()
    {
        foreach (var seed in Seeds)
        {
            Assert.Null(IoTHubQuery.Diagnose(seed));
        }
    }

    [Fact]
    public void Mutated_valid_queries_parse_or_raise_a_syntax_error()
    {
        Bounded(() =>
        {
            var random = new Random(1127);
            for (var n = 0; n < 3000; n++)
            {
                var text = new StringBuilder(Seeds[random.Next(Seeds.Length)]);
                for (var edits = random.Next(1, 4); edits > 0 && text.Length > 0; edits--)
                {
                    var at = random.Next(text.Length);
                    switch (random.Next(4))
                    {
                        case 0: text.Remove(at, Math.Min(random.Next(1, 6), text.Length - at)); break;
                        case 1: text.Insert(at, Vocabulary[random.Next(Vocabulary.Length)]); break;
                        case 2: text[at] = (char)random.Next(32, 127); break;
                        default: text.Insert(at, text.ToString(random.Next(text.Length), 1)); break;
                    }
                }

                Check(text.ToString());
            }
        });
    }

    [Fact]
    public void Random_token_sequences_parse_or_raise_a_syntax_error()
    {
        Bounded(() =>
        {
            var random = new Random(2026);
            for (var n = 0; n < 2000; n++)
            {
                var words = Enumerable.Range(0, random.Next(1, 30)).Select(_ => Vocabulary[random.Next(Vocabulary.Length)]);
                Check((random.Next(2) == 0 ? "SELECT * FROM devices WHERE " : string.Empty) + string.Join(random.Next(2) == 0 ? " " : string.Empty, words));
            }
        });
    }

    [Fact]
    public void Random_characters_parse_or_raise_a_syntax_error()
    {
        Bounded(() =>
        {
            var random = new Random(42);
            for (var n = 0; n < 1000; n++)
            {
                Check(new string(Enumerable.Range(0, random.Next(0, 80)).Select(_ => (char)random.Next(0, 0x3000)).ToArray()));
            }
        });
    }

    [Theory]
    [InlineData("(", ")")]
    [InlineData("NOT ", "")]
    [InlineData("[ ", " ]")]
    [InlineData("IS_DEFINED(", ")")]
    [InlineData("- ", "")]
    public void Nesting_at_every_depth_up_to_the_length_limit_never_overflows_the_stack(string open, string close) => Bounded(() =>
    {
        for (var depth = 1; depth * (open.Length + close.Length) < IoTHubQuery.MaxQueryLength; depth = (depth * 3 / 2) + 1)
        {
            var prefix = open == "[ " ? "SELECT * FROM devices WHERE tags.x IN " : "SELECT * FROM devices WHERE ";
            var inner = open == "[ " ? "1" : "tags.x = 1";
            var text = prefix + string.Concat(Enumerable.Repeat(open, depth)) + inner + string.Concat(Enumerable.Repeat(close, depth));
            if (text.Length > IoTHubQuery.MaxQueryLength)
            {
                break;
            }

            Check(text);
            if (depth > IoTHubQuery.MaxNestingDepth + 1)
            {
                Assert.Contains("nested too deeply", IoTHubQuery.Diagnose(text)!.Message, StringComparison.Ordinal);
            }
        }
    });
}
