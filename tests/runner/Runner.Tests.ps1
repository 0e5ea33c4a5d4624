# Tests of the test runner itself (tools/TestRunner.psm1, what 'build.ps1 Test' runs): each fixture run is a
# real run of Invoke-TestRun in a child pwsh over fixture folders, and each case must change the closing
# line or fail the run.
BeforeAll {
    $ErrorActionPreference = 'Stop'
    $script:PesterPath = (Get-Module Pester).Path
    $modulePath = if ($env:TWINPS_MODULE_PATH) { $env:TWINPS_MODULE_PATH } else { Join-Path $PSScriptRoot '../../out/TwinPS/TwinPS.psd1' }
    $script:ModulePath = $modulePath
    $script:EmulatorDll = Join-Path (Split-Path $modulePath) 'emulator/TwinPS.Emulator.dll'
    Import-Module (Join-Path $PSScriptRoot '../../tools/TestRunner.psm1') -Force

    function New-Fixture {
        <# A fixture root with the given files (relative path -> content) and a manifest suites.psd1. #>
        param([hashtable] $Files, [string] $Manifest)
        $root = Join-Path $TestDrive ([guid]::NewGuid().ToString('n'))
        New-Item -ItemType Directory $root | Out-Null
        foreach ($relative in $Files.Keys) {
            $path = Join-Path $root $relative
            New-Item -ItemType Directory -Force (Split-Path $path) | Out-Null
            Set-Content -Path $path -Value $Files[$relative]
        }
        Set-Content -Path (Join-Path $root 'suites.psd1') -Value $Manifest
        return $root
    }

    function Set-FixtureEnvironment([hashtable] $Environment) {
        $saved = @{}
        foreach ($name in $Environment.Keys) {
            $saved[$name] = [Environment]::GetEnvironmentVariable($name)
            [Environment]::SetEnvironmentVariable($name, $Environment[$name])
        }
        return $saved
    }

    function Restore-FixtureEnvironment([hashtable] $Saved) {
        foreach ($name in $Saved.Keys) { [Environment]::SetEnvironmentVariable($name, $Saved[$name]) }
    }

    function New-RunOutcome([string[]] $Lines, [int] $Exit) {
        $nonEmpty = @($Lines | Where-Object { $_.Trim() })
        [pscustomobject]@{ Lines = $Lines; Text = $Lines -join "`n"; Last = $nonEmpty[-1]; Exit = $Exit }
    }

    function Invoke-FixtureRun {
        <# Runs the runner over a fixture in a child pwsh, as build.ps1 does; returns its stdout lines, closing line and exit code. #>
        param([string] $Root, [hashtable] $Environment = @{})
        $self = [System.Diagnostics.Process]::GetCurrentProcess().MainModule.FileName
        $prefix = if ((Split-Path $self -Leaf) -like 'pwsh*') { @() } else { @(Join-Path $PSHOME 'pwsh.dll') }
        $arguments = @($prefix) + @('-NoProfile', '-NonInteractive', '-File', (Join-Path $PSScriptRoot 'Invoke-FixtureRun.ps1'),
            '-Root', $Root, '-ManifestPath', (Join-Path $Root 'suites.psd1'), '-PesterPath', $script:PesterPath,
            '-ModulePath', $script:ModulePath, '-EmulatorDll', $script:EmulatorDll)
        $saved = Set-FixtureEnvironment $Environment
        try { $lines = @(& $self @arguments 2>&1 | ForEach-Object { "$_" }); $exit = $LASTEXITCODE }
        finally { Restore-FixtureEnvironment $saved }
        New-RunOutcome $lines $exit
    }

    function Invoke-FixtureRunHere {
        <# The same run in this process (faster: no pwsh start); the runner's host output is read from the information stream. #>
        param([string] $Root, [hashtable] $Environment = @{})
        $saved = Set-FixtureEnvironment $Environment
        try {
            $output = Invoke-TestRun -Root $Root -ManifestPath (Join-Path $Root 'suites.psd1') -ResultsDir (Join-Path $Root 'results') `
                -PesterPath $script:PesterPath -ModulePath $script:ModulePath -EmulatorDll $script:EmulatorDll 6>&1
        }
        finally { Restore-FixtureEnvironment $saved }
        $exit = @($output | Where-Object { $_ -is [int] })
        $exit | Should -HaveCount 1 -Because 'Invoke-TestRun returns exactly one exit code and writes everything else to the host'
        $lines = @($output | Where-Object { $_ -is [System.Management.Automation.InformationRecord] } | ForEach-Object { "$($_.MessageData)" -split "`r?`n" })
        New-RunOutcome $lines $exit[0]
    }

    $script:PassingPester = "Describe 'fixture' { It 'passes' { 1 | Should -Be 1 } }"
}

Describe 'The test runner (tools/TestRunner.psm1)' {
    It 'counts a skipped test, prints it in the closing line, and streams each suite before the summary' {
        $root = New-Fixture -Files @{
            'p/Skip.Tests.ps1' = "Describe 'fixture' { It 'passes' { 1 | Should -Be 1 }; It 'is skipped' -Skip { 1 | Should -Be 2 } }"
        } -Manifest "@{ Suites = @(@{ Name = 'Fixture'; Kind = 'Pester'; Path = 'p'; MinTests = 1 }) }"
        $run = Invoke-FixtureRun $root
        $run.Last | Should -BeExactly '1 passed, 0 failed, 1 skipped'
        $run.Exit | Should -Be 0
        # The suite's own output (Pester's result line) comes before the summary table, not inside it.
        $suiteLine = [array]::FindIndex([string[]] $run.Lines, [Predicate[string]] { param($l) $l -match 'Tests Passed: 1,' })
        $tableLine = [array]::FindIndex([string[]] $run.Lines, [Predicate[string]] { param($l) $l -match '^Suite\s+Kind\s+Passed\s+Failed\s+Skipped' })
        $suiteLine | Should -BeGreaterThan -1
        $tableLine | Should -BeGreaterThan $suiteLine
    }

    It 'fails the run for an expected Pester folder with no test file' {
        $root = New-Fixture -Files @{ 'p/README.md' = 'no tests here' } -Manifest "@{ Suites = @(@{ Name = 'Empty'; Kind = 'Pester'; Path = 'p'; MinTests = 1 }) }"
        $run = Invoke-FixtureRunHere $root
        $run.Last | Should -BeExactly '0 passed, 2 failed'
        $run.Exit | Should -Be 1
        $run.Text | Should -Match "FAILED EXPECTATION Empty: no \*\.Tests\.ps1 file in"
        $run.Text | Should -Match 'FAILED EXPECTATION Empty: ran 0 tests, expected at least 1'
    }

    It 'fails a Pester suite for a test file that ran no test or was not run at all' {
        # The summary as tools/Run-PesterSuite.ps1 writes it (Pester itself is run for real in the first test).
        $dir = Join-Path $TestDrive 'hollow'
        New-Item -ItemType Directory -Force $dir | Out-Null
        $files = foreach ($name in 'Good.Tests.ps1', 'Hollow.Tests.ps1', 'Lost.Tests.ps1') { New-Item -ItemType File -Force (Join-Path $dir $name) }
        $summary = Join-Path $dir 'summary.json'
        @{
            Passed = 3; Failed = 0; Skipped = 1
            Containers = @(
                @{ Path = $files[0].FullName; Passed = 3; Failed = 0; Skipped = 0 }
                @{ Path = $files[1].FullName; Passed = 0; Failed = 0; Skipped = 1 }
            )
        } | ConvertTo-Json -Depth 4 | Set-Content $summary
        $result = New-SuiteResult 'Fixture' 'Pester'
        Read-PesterSummary $result $summary $files
        $result.Passed | Should -Be 3
        $result.Skipped | Should -Be 1
        $result.Failed | Should -Be 2
        $result.Problems | Should -Be @('Hollow.Tests.ps1 ran no test', 'Lost.Tests.ps1 was not run')
    }

    It 'fails the run for a suite that ran fewer tests than its floor' {
        $root = New-Fixture -Files @{
            'c/steps.js' = "console.log('EXPECT one'); console.log('PASS one');"
        } -Manifest "@{ Suites = @(@{ Name = 'Shrunk'; Kind = 'Conformance'; Path = 'c/steps.js'; MinTests = 2 }) }"
        $run = Invoke-FixtureRunHere $root
        $run.Last | Should -BeExactly '1 passed, 1 failed'
        $run.Exit | Should -Be 1
        $run.Text | Should -Match 'FAILED EXPECTATION Shrunk: ran 1 tests, expected at least 2'
    }

    It 'fails the run for an expected xunit project that does not exist' {
        $root = New-Fixture -Files @{} -Manifest "@{ Suites = @(@{ Name = 'Gone.Tests'; Kind = 'xunit'; Path = 'tests/Gone.Tests/Gone.Tests.csproj'; MinTests = 1 }) }"
        $run = Invoke-FixtureRunHere $root
        $run.Last | Should -BeExactly '0 passed, 2 failed'
        $run.Exit | Should -Be 1
        $run.Text | Should -Match "FAILED EXPECTATION Gone\.Tests: project '.*Gone\.Tests\.csproj' does not exist"
    }

    It 'fails the run for a test project that the manifest does not list' {
        $root = New-Fixture -Files @{ 'tests/New.Tests/New.Tests.csproj' = '<Project />' } -Manifest "@{ Suites = @(); XunitSearch = @('tests') }"
        $run = Invoke-FixtureRunHere $root
        $run.Exit | Should -Be 1
        $run.Last | Should -BeExactly '0 passed, 1 failed'
        $run.Text | Should -Match 'FAILED EXPECTATION New\.Tests: test project .*New\.Tests\.csproj is not listed in suites\.psd1'
    }

    It 'runs every conformance step with SKIP_DEVICE=1 in the environment' {
        # The fixture script honours SKIP_DEVICE the way tests/conformance/conformance.js does.
        $root = New-Fixture -Files @{
            'c/steps.js' = @'
console.log('EXPECT service-step'); console.log('EXPECT device-step');
console.log('PASS service-step');
if (process.env.SKIP_DEVICE === '1') console.log('SKIP device-step: SKIP_DEVICE=1'); else console.log('PASS device-step');
'@
        } -Manifest "@{ Suites = @(@{ Name = 'Steps'; Kind = 'Conformance'; Path = 'c/steps.js'; MinTests = 2 }) }"
        $run = Invoke-FixtureRunHere $root -Environment @{ SKIP_DEVICE = '1' }
        $run.Last | Should -BeExactly '2 passed, 0 failed'
        $run.Exit | Should -Be 0
        $run.Text | Should -Match 'Ignoring SKIP_DEVICE=1'
    }

    It 'fails the run for a declared conformance step that was skipped or never reported' {
        $root = New-Fixture -Files @{
            'c/steps.js' = @'
console.log('EXPECT one'); console.log('EXPECT two'); console.log('EXPECT three');
console.log('PASS one'); console.log('SKIP two: not today');
'@
        } -Manifest "@{ Suites = @(@{ Name = 'Steps'; Kind = 'Conformance'; Path = 'c/steps.js'; MinTests = 1 }) }"
        $run = Invoke-FixtureRunHere $root
        $run.Last | Should -BeExactly '1 passed, 2 failed, 1 skipped'
        $run.Exit | Should -Be 1
        $run.Text | Should -Match 'FAILED EXPECTATION Steps: expected step two was skipped'
        $run.Text | Should -Match 'FAILED EXPECTATION Steps: expected step three did not run'
    }

    It 'counts skipped, inconclusive and broken xunit results from a TRX file' {
        $trx = Join-Path $TestDrive 'fixture.trx'
        Set-Content $trx @'
<?xml version="1.0" encoding="utf-8"?>
<TestRun xmlns="http://microsoft.com/schemas/VisualStudio/TeamTest/2010">
  <ResultSummary outcome="Failed">
    <Counters total="9" executed="7" passed="4" failed="1" error="1" timeout="0" aborted="0" inconclusive="1" passedButRunAborted="0" notRunnable="0" notExecuted="1" disconnected="0" warning="0" completed="0" inProgress="0" pending="0" />
  </ResultSummary>
</TestRun>
'@
        $counts = Read-TrxCounts $trx
        $counts.Passed | Should -Be 4
        $counts.Failed | Should -Be 2
        $counts.Skipped | Should -Be 2
    }
}
