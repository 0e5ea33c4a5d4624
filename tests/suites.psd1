# What 'build.ps1 Test' must run (read by tools/TestRunner.psm1; see tests/README.md).
# Every suite is expected by name. MinTests is the floor of tests that must run (pass or fail) in the suite:
# a suite that runs fewer, or nothing, fails the run. Raise a floor when you add tests; lower it only when
# you remove tests on purpose, and say so in the commit message. Paths are relative to the repository root.
@{
    Suites = @(
        @{ Name = 'TwinPS.Protocol.Tests'; Kind = 'xunit'; Path = 'tests/TwinPS.Protocol.Tests/TwinPS.Protocol.Tests.csproj'; MinTests = 323 }
        @{ Name = 'TwinPS.Query.Tests'; Kind = 'xunit'; Path = 'tests/TwinPS.Query.Tests/TwinPS.Query.Tests.csproj'; MinTests = 274 }
        @{ Name = 'TwinPS.Client.Tests'; Kind = 'xunit'; Path = 'tests/TwinPS.Client.Tests/TwinPS.Client.Tests.csproj'; MinTests = 228 }
        @{ Name = 'TwinPS.Emulator.Tests'; Kind = 'xunit'; Path = 'tests/TwinPS.Emulator.Tests/TwinPS.Emulator.Tests.csproj'; MinTests = 539 }
        # Pester suites: every *.Tests.ps1 file under Path must also run at least one test.
        @{ Name = 'Pester'; Kind = 'Pester'; Path = 'tests/pester'; MinTests = 602 }
        @{ Name = 'Runner'; Kind = 'Pester'; Path = 'tests/runner'; MinTests = 9 }
        # Conformance: the script declares its steps (EXPECT lines); each declared step must pass or fail.
        @{ Name = 'Conformance'; Kind = 'Conformance'; Path = 'tests/conformance/conformance.js'; MinTests = 37 }
    )
    # Every *.Tests.csproj under these folders must be listed above, so that a new or renamed project cannot
    # silently stay out of the run.
    XunitSearch = @('tests')
}
