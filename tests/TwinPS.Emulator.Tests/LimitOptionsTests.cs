using System.Diagnostics;
using TwinPS.Emulator.Tests.Infrastructure;

namespace TwinPS.Emulator.Tests;

/// <summary>The throttle and fault options on the command line: every invalid value or combination exits 2 with a message that says what is wrong.</summary>
public sealed class LimitOptionsTests
{
    [Theory]
    [InlineData("Option '--tier' needs F1, S1, S2 or S3, got 'S9'", "--tier", "S9")]
    [InlineData("Basic tiers", "--tier", "B1")]
    [InlineData("Option '--units' needs '--tier'", "--units", "2")]
    [InlineData("An F1 hub has at most 1 unit, got --units 2", "--tier", "F1", "--units", "2")]
    [InlineData("An S3 hub has at most 10 units", "--tier", "S3", "--units", "11")]
    [InlineData("Option '--units' needs a whole number from 1 to 200", "--tier", "S1", "--units", "0")]
    [InlineData("unknown class 'twinreads'", "--rate", "twinreads=5/s")]
    [InlineData("needs CLASS=N/s or CLASS=N/min", "--rate", "twinRead:5")]
    [InlineData("needs the unit '/s' or '/min', got '/h'", "--rate", "query=5/h")]
    [InlineData("needs a number greater than 0", "--rate", "query=-1/min")]
    [InlineData("Option '--throttle' needs 'shape' or 'strict', got 'hard'", "--tier", "S1", "--throttle", "hard")]
    [InlineData("need '--tier' or '--rate'", "--throttle", "strict")]
    [InlineData("need '--tier' or '--rate'", "--burst", "5")]
    [InlineData("Option '--burst' needs a number of seconds greater than 0", "--tier", "S1", "--burst", "0")]
    [InlineData("apply to '--throttle shape' only", "--tier", "S1", "--throttle", "strict", "--backlog", "10")]
    [InlineData("Option '--backlog' needs a whole number from 0 to 100000", "--tier", "S1", "--backlog", "x")]
    [InlineData("Option '--backlog-timeout' needs a number of seconds", "--tier", "S1", "--backlog-timeout", "-1")]
    [InlineData("Option '--fault-rate' needs a probability from 0 to 1, got '1.5'", "--fault-rate", "1.5")]
    [InlineData("Option '--fault-kind' got 'Flaky'", "--fault-rate", "0.1", "--fault-kind", "Flaky")]
    [InlineData("need '--fault-rate'", "--fault-kind", "ServerError")]
    [InlineData("need '--fault-rate'", "--fault-seed", "3")]
    [InlineData("Option '--fault-seed' needs a whole number", "--fault-rate", "0.1", "--fault-seed", "x")]
    [InlineData("applies to the SlowResponse fault kind", "--fault-rate", "0.1", "--fault-kind", "ServerError", "--fault-delay", "2")]
    public void Bad_limit_options_exit_2_with_a_message_naming_the_problem(string message, params string[] args)
    {
        using Process p = EmulatorProcess.StartRaw(args);
        string stdout = p.StandardOutput.ReadToEnd();
        string stderr = p.StandardError.ReadToEnd();
        Assert.True(p.WaitForExit(30_000));
        Assert.Equal(2, p.ExitCode);
        Assert.Equal(string.Empty, stdout);
        Assert.StartsWith("TwinPS.Emulator: ", stderr, StringComparison.Ordinal);
        Assert.Contains(message, stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Help_lists_the_limit_options()
    {
        using Process p = EmulatorProcess.StartRaw("--help");
        string stdout = p.StandardOutput.ReadToEnd();
        Assert.True(p.WaitForExit(30_000));
        Assert.Equal(0, p.ExitCode);
        foreach (string option in new[] { "--tier", "--units", "--rate", "--throttle", "--burst", "--backlog", "--backlog-timeout", "--fault-rate", "--fault-seed", "--fault-kind", "--fault-delay" })
            Assert.Contains(option + " ", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Strict_defaults_to_one_second_of_burst_and_no_backlog_and_faults_show_their_settings()
    {
        using EmulatorProcess emulator = Limits.Start("--tier", "S3", "--units", "2", "--throttle", "strict", "--fault-rate", "0.25", "--fault-seed", "-5", "--fault-kind", "slow-response", "--fault-kind", "ResetAfterCommit");
        var throttle = emulator.Ready["throttle"]!;
        Assert.Equal("strict", (string)throttle["mode"]!);
        Assert.Equal(1, (double)throttle["burstSeconds"]!);
        Assert.Null(throttle["backlog"]);
        Assert.Equal(10, (int)throttle["maxActiveJobs"]!);
        Assert.Equal(1000, (double)throttle["ratesPerSecond"]!["twinRead"]!);
        Assert.Equal(500, (double)throttle["ratesPerSecond"]!["twinUpdate"]!);
        Assert.Equal(100, (double)throttle["ratesPerSecond"]!["jobDevice"]!);
        Assert.Equal(2 * 6144, (double)throttle["ratesPerSecond"]!["method"]!);
        var faults = emulator.Ready["faults"]!;
        Assert.Equal(0.25, (double)faults["rate"]!);
        Assert.Equal(-5, (int)faults["seed"]!);
        Assert.Equal(["ResetAfterCommit", "SlowResponse"], faults["kinds"]!.AsArray().Select(k => (string)k!).ToArray());
        Assert.Equal(3, (double)faults["slowResponseSeconds"]!);
    }
}
