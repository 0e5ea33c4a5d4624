# The test runner behind 'build.ps1 Test': runs every suite that tests/suites.psd1 expects, streams each
# suite's output as it runs, checks what ran against what was expected, and prints the summary last,
# ending with the one line 'N passed, N failed' (', N skipped' added when any were).
# See tests/README.md for the manifest and how to add a suite or a conformance step.
Set-StrictMode -Version Latest

# Environment variables that could turn tests or steps off. 'build.ps1 Test' always runs everything, so they
# are removed for the whole run (the conformance script honours SKIP_DEVICE for hand runs only).
$script:StepSwitchVariables = @('SKIP_DEVICE')

function Write-RunnerStep([string] $Message) {
    Write-Host "==> $Message" -ForegroundColor Cyan
}

function Invoke-RunnerChildPwsh {
    # Runs a script in a fresh process of this same PowerShell (the pinned local tool when started with
    # 'dotnet pwsh') with its output streamed to the host, and returns its exit code.
    param([Parameter(Mandatory)][string[]] $ArgumentList)
    $self = [System.Diagnostics.Process]::GetCurrentProcess().MainModule.FileName
    if ((Split-Path $self -Leaf) -like 'pwsh*') {
        & $self @ArgumentList | Out-Host
    }
    else {
        & $self (Join-Path $PSHOME 'pwsh.dll') @ArgumentList | Out-Host
    }
    return $LASTEXITCODE
}

function New-SuiteResult([string] $Suite, [string] $Kind) {
    [pscustomobject]@{
        Suite = $Suite
        Kind = $Kind
        Passed = 0
        Failed = 0
        Skipped = 0
        Problems = [System.Collections.Generic.List[string]]::new()
    }
}

function Add-SuiteProblem($Result, [string] $Problem) {
    # An unmet expectation counts as one failure of its suite, and its reason is printed in the summary.
    $Result.Problems.Add($Problem)
    $Result.Failed++
}

function Read-TrxCounts([string] $Path) {
    [xml] $trx = Get-Content -Raw $Path
    $c = $trx.TestRun.ResultSummary.Counters
    [pscustomobject]@{
        Passed = [int] $c.passed
        Failed = [int] $c.failed + [int] $c.error + [int] $c.timeout + [int] $c.aborted + [int] $c.notRunnable + [int] $c.disconnected
        Skipped = [int] $c.notExecuted + [int] $c.inconclusive
    }
}

function Invoke-XunitSuite {
    param(
        [Parameter(Mandatory)][string] $Name,
        [Parameter(Mandatory)][string] $Project,
        [Parameter(Mandatory)][string] $Configuration,
        [Parameter(Mandatory)][string] $ResultsDir
    )
    $result = New-SuiteResult $Name 'xunit'
    Write-RunnerStep "xunit: $Name"
    if (-not (Test-Path $Project -PathType Leaf)) {
        Add-SuiteProblem $result "project '$Project' does not exist (renamed or removed? update tests/suites.psd1)"
        return $result
    }
    $trxName = "$Name.trx"
    $trx = Join-Path $ResultsDir $trxName
    # Out-Host: the output streams while the suite runs and never becomes part of this function's result.
    & dotnet test $Project -c $Configuration --no-build --nologo `
        --logger "trx;LogFileName=$trxName" --logger 'console;verbosity=minimal' `
        --results-directory $ResultsDir | Out-Host
    $exit = $LASTEXITCODE
    if (Test-Path $trx) {
        $counts = Read-TrxCounts $trx
        $result.Passed = $counts.Passed
        $result.Failed = $counts.Failed
        $result.Skipped = $counts.Skipped
        if ($exit -ne 0 -and $counts.Failed -eq 0) { Add-SuiteProblem $result "dotnet test exited with $exit" }
    }
    else {
        Add-SuiteProblem $result "dotnet test exited with $exit and wrote no results"
    }
    return $result
}

function Invoke-PesterSuite {
    param(
        [Parameter(Mandatory)][string] $Name,
        [Parameter(Mandatory)][string] $Path,
        [Parameter(Mandatory)][string] $PesterPath,
        [Parameter(Mandatory)][string] $ResultsDir
    )
    $result = New-SuiteResult $Name 'Pester'
    Write-RunnerStep "Pester: $Name ($Path)"
    $files = @(Get-ChildItem $Path -Filter '*.Tests.ps1' -Recurse -File -ErrorAction SilentlyContinue)
    if ($files.Count -eq 0) {
        Add-SuiteProblem $result "no *.Tests.ps1 file in '$Path'"
        return $result
    }
    $summary = Join-Path $ResultsDir "$Name.pester-summary.json"
    $xml = Join-Path $ResultsDir "$Name.pester.xml"
    Remove-Item $summary -ErrorAction SilentlyContinue
    $exit = Invoke-RunnerChildPwsh @('-NoProfile', '-NonInteractive', '-File', (Join-Path $PSScriptRoot 'Run-PesterSuite.ps1'),
        '-PesterPath', $PesterPath, '-TestPath', $Path, '-SummaryPath', $summary, '-ResultPath', $xml)
    if (-not (Test-Path $summary)) {
        Add-SuiteProblem $result "the Pester run exited with $exit and wrote no summary"
        return $result
    }
    Read-PesterSummary $result $summary $files
    return $result
}

function Read-PesterSummary {
    # Reads the JSON summary that tools/Run-PesterSuite.ps1 wrote into the suite's result. Every test file is
    # expected to run at least one test: a file whose tests all vanished (or were all skipped) is a suite that
    # shrank without anyone noticing.
    param($Result, [string] $SummaryPath, [System.IO.FileInfo[]] $Files)
    $counts = Get-Content -Raw $SummaryPath | ConvertFrom-Json
    $Result.Passed = [int] $counts.Passed
    $Result.Failed = [int] $counts.Failed
    $Result.Skipped = [int] $counts.Skipped
    foreach ($file in $Files) {
        $container = @($counts.Containers | Where-Object { $_.Path -eq $file.FullName })
        if ($container.Count -eq 0) {
            Add-SuiteProblem $Result "$($file.Name) was not run"
        }
        elseif ($container[0].Passed + $container[0].Failed -eq 0) {
            Add-SuiteProblem $Result "$($file.Name) ran no test"
        }
    }
}

function Start-RunnerEmulator([string] $EmulatorDll) {
    # Starts the built emulator on free ports with a throwaway store and returns its ready line as an object.
    $psi = [System.Diagnostics.ProcessStartInfo]::new('dotnet')
    foreach ($a in @($EmulatorDll, '--https-port', '0', '--mqtt-port', '0', '--in-memory')) { $psi.ArgumentList.Add($a) }
    $psi.RedirectStandardOutput = $true
    $psi.RedirectStandardError = $true
    $psi.UseShellExecute = $false
    $process = [System.Diagnostics.Process]::Start($psi)
    $stderr = $process.StandardError.ReadToEndAsync()
    $lineTask = $process.StandardOutput.ReadLineAsync()
    if (-not $lineTask.Wait([TimeSpan]::FromSeconds(60)) -or $null -eq $lineTask.Result) {
        if (-not $process.HasExited) { $process.Kill($true) }
        throw "The emulator did not become ready: $($stderr.Result)"
    }
    $null = $process.StandardOutput.ReadToEndAsync()  # keep draining so that it never blocks on a full pipe
    $info = $lineTask.Result | ConvertFrom-Json
    $info | Add-Member -NotePropertyName Process -NotePropertyValue $process
    return $info
}

function Stop-RunnerEmulator($Emulator) {
    if ($null -eq $Emulator -or $Emulator.Process.HasExited) { return }
    # SIGTERM first, so that the emulator's clean shutdown path is exercised; kill if it hangs.
    if ($IsLinux -or $IsMacOS) { & kill -TERM $Emulator.Process.Id 2>$null }
    if (-not $Emulator.Process.WaitForExit(10000)) { $Emulator.Process.Kill($true) }
}

function Read-ConformanceOutput {
    # Reads the conformance protocol: 'EXPECT <step>' for every step the script declares (printed before any
    # runs), then 'PASS <step>', 'FAIL <step>: <reason>' or 'SKIP <step>: <reason>' for each. Every expected
    # step must pass or fail: one that was skipped or never reported is a failure of the suite.
    param($Result, [string[]] $Lines)
    $expected = [System.Collections.Generic.List[string]]::new()
    $reported = @{}
    foreach ($line in $Lines) {
        if ($line -match '^EXPECT (\S+)$') { $expected.Add($Matches[1]) }
        elseif ($line -match '^(PASS|FAIL|SKIP) ([^\s:]+)') {
            if ($reported.ContainsKey($Matches[2])) { Add-SuiteProblem $Result "step $($Matches[2]) reported twice" }
            $reported[$Matches[2]] = $Matches[1]
            switch ($Matches[1]) {
                'PASS' { $Result.Passed++ }
                'FAIL' { $Result.Failed++ }
                'SKIP' { $Result.Skipped++ }
            }
        }
    }
    if ($expected.Count -eq 0) { Add-SuiteProblem $Result 'the script declared no step (no EXPECT line)' }
    foreach ($step in $expected) {
        if (-not $reported.ContainsKey($step)) { Add-SuiteProblem $Result "expected step $step did not run" }
        elseif ($reported[$step] -eq 'SKIP') { Add-SuiteProblem $Result "expected step $step was skipped" }
    }
    foreach ($step in $reported.Keys) {
        if ($step -notin $expected -and $step -ne 'harness') { Add-SuiteProblem $Result "step $step ran but was not declared (EXPECT)" }
    }
}

function Invoke-ConformanceSuite {
    param(
        [Parameter(Mandatory)][string] $Name,
        [Parameter(Mandatory)][string] $Script,
        [Parameter(Mandatory)][string] $EmulatorDll
    )
    $result = New-SuiteResult $Name 'Conformance'
    Write-RunnerStep "Conformance: $Name ($Script) against a fresh emulator"
    if (-not (Test-Path $Script -PathType Leaf)) {
        Add-SuiteProblem $result "script '$Script' does not exist"
        return $result
    }
    if (-not (Get-Command node -ErrorAction SilentlyContinue)) {
        Add-SuiteProblem $result 'Node.js is required for the conformance suite (see README)'
        return $result
    }
    $dir = Split-Path $Script
    if (Test-Path (Join-Path $dir 'package-lock.json')) {
        Push-Location $dir
        try { & npm ci --no-audit --no-fund --loglevel=error | Out-Host; $npmExit = $LASTEXITCODE }
        finally { Pop-Location }
        if ($npmExit -ne 0) {
            Add-SuiteProblem $result "npm ci failed with exit code $npmExit"
            return $result
        }
    }

    $lines = [System.Collections.Generic.List[string]]::new()
    $emulator = Start-RunnerEmulator $EmulatorDll
    try {
        $env:SERVICE_CONNECTION_STRING = $emulator.serviceConnectionString
        $env:MQTT_PORT = [string] $emulator.mqttPort
        $env:NODE_EXTRA_CA_CERTS = $emulator.caCertificatePath
        # Each line is shown as it arrives and kept for the count.
        & node $Script 2>&1 | ForEach-Object {
            $line = "$_"
            $lines.Add($line)
            Write-Host "    $line"
        }
        $exit = $LASTEXITCODE
    }
    finally {
        Remove-Item Env:SERVICE_CONNECTION_STRING, Env:MQTT_PORT, Env:NODE_EXTRA_CA_CERTS -ErrorAction SilentlyContinue
        Stop-RunnerEmulator $emulator
    }
    Read-ConformanceOutput $result $lines.ToArray()
    if ($exit -ne 0 -and $result.Failed -eq 0) { Add-SuiteProblem $result "the script exited with $exit" }
    return $result
}

function Write-TestSummary {
    # Prints the problems, the table and the closing line (always last), and returns the exit code.
    param([Parameter(Mandatory)][AllowEmptyCollection()][object[]] $Results)
    Write-Host ''
    foreach ($r in $Results) {
        foreach ($p in $r.Problems) { Write-Host "FAILED EXPECTATION $($r.Suite): $p" -ForegroundColor Red }
    }
    $Results | Format-Table Suite, Kind, Passed, Failed, Skipped -AutoSize | Out-String | Write-Host
    $passed = [int] ($Results | Measure-Object Passed -Sum).Sum
    $failed = [int] ($Results | Measure-Object Failed -Sum).Sum
    $skipped = [int] ($Results | Measure-Object Skipped -Sum).Sum
    if ($passed -eq 0 -and $failed -eq 0) { $failed = 1; Write-Host 'FAILED EXPECTATION: nothing ran at all' -ForegroundColor Red }
    $line = "$passed passed, $failed failed"
    if ($skipped -gt 0) { $line += ", $skipped skipped" }
    Write-Host $line  # the one closing line that CI reads
    if ($failed -gt 0) { return 1 } else { return 0 }
}

function Invoke-TestRun {
    <#
    .SYNOPSIS
        Runs every suite listed in a manifest (tests/suites.psd1) and returns the exit code (0 only when all
        passed and every expectation held).
    #>
    param(
        [Parameter(Mandatory)][string] $Root,
        [Parameter(Mandatory)][string] $ManifestPath,
        [Parameter(Mandatory)][string] $ResultsDir,
        [Parameter(Mandatory)][string] $ModulePath,
        [Parameter(Mandatory)][string] $EmulatorDll,
        [Parameter(Mandatory)][string] $PesterPath,
        [string] $Configuration = 'Release'
    )
    foreach ($variable in $script:StepSwitchVariables) {
        if (Test-Path "Env:$variable") {
            Write-Host "    Ignoring $variable=$([Environment]::GetEnvironmentVariable($variable)): the test run always runs every step." -ForegroundColor Yellow
            Remove-Item "Env:$variable"
        }
    }
    New-Item -ItemType Directory -Force $ResultsDir | Out-Null
    $env:TWINPS_MODULE_PATH = $ModulePath

    $manifest = Import-PowerShellDataFile $ManifestPath
    $results = [System.Collections.Generic.List[object]]::new()
    $listed = [System.Collections.Generic.HashSet[string]]::new([StringComparer]::Ordinal)
    foreach ($suite in $manifest.Suites) {
        $path = [System.IO.Path]::GetFullPath((Join-Path $Root $suite.Path))
        $result = switch ($suite.Kind) {
            'xunit' {
                $null = $listed.Add($path)
                Invoke-XunitSuite -Name $suite.Name -Project $path -Configuration $Configuration -ResultsDir $ResultsDir
            }
            'Pester' { Invoke-PesterSuite -Name $suite.Name -Path $path -PesterPath $PesterPath -ResultsDir $ResultsDir }
            'Conformance' { Invoke-ConformanceSuite -Name $suite.Name -Script $path -EmulatorDll $EmulatorDll }
            default { throw "Unknown suite kind '$($suite.Kind)' for '$($suite.Name)' in $ManifestPath." }
        }
        # The floor: an expected suite that ran nothing, or fewer tests than it is known to have, fails.
        $floor = [Math]::Max(1, [int] $suite['MinTests'])
        $ran = $result.Passed + $result.Failed - $result.Problems.Count  # tests, not unmet expectations
        if ($ran -lt $floor) {
            Add-SuiteProblem $result "ran $ran tests, expected at least $floor"
        }
        $results.Add($result)
    }
    # A test project that the manifest does not list would never run: that is a failure until it is listed.
    foreach ($folder in @($manifest['XunitSearch'])) {
        if (-not $folder) { continue }
        foreach ($project in Get-ChildItem (Join-Path $Root $folder) -Filter '*.Tests.csproj' -Recurse -File -ErrorAction SilentlyContinue) {
            if (-not $listed.Contains($project.FullName)) {
                $unlisted = New-SuiteResult $project.BaseName 'xunit'
                Add-SuiteProblem $unlisted "test project $($project.FullName) is not listed in $(Split-Path $ManifestPath -Leaf)"
                $results.Add($unlisted)
            }
        }
    }
    return Write-TestSummary $results.ToArray()
}

Export-ModuleMember -Function Invoke-TestRun, Read-TrxCounts, Read-ConformanceOutput, Read-PesterSummary, New-SuiteResult
