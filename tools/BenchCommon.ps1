#Requires -Version 7.4
<#
.SYNOPSIS
    Shared set-up of the benchmark scripts (dot-source it): load average and machine lines, child processes (pwsh,
    dotnet, node) with a JSON last line, the emulator as its own process, medians and percentiles, and the writer that
    replaces one marked section of docs/benchmarks.md. Benchmarks record, they never assert.
#>

$script:BenchPwshDll = Join-Path $PSHOME 'pwsh.dll'
$script:BenchInvariant = [Globalization.CultureInfo]::InvariantCulture

function New-BenchWorkFolder([string] $Name) {
    # A fresh temporary folder for one benchmark run (child scripts, ready files, data folders).
    $path = Join-Path ([IO.Path]::GetTempPath()) ("twinps-$Name-bench-" + [guid]::NewGuid().ToString('N'))
    New-Item -ItemType Directory $path | Out-Null
    $path
}

function Get-LoadAverage {
    # The 1/5/15-minute load averages, recorded before each measurement and printed, never asserted.
    ((Get-Content /proc/loadavg -Raw) -split ' ')[0..2] -join ' '
}

function Get-LoadDescription([string] $Load) {
    # 'quiet' or 'loaded' from the 1-minute load against the CPU count, as every section says it. The load counts every
    # runnable process, the benchmark's own earlier steps (its emulator and clients) included, so it says busy, not whose.
    $first = [double]::Parse(($Load -split ' ')[0], $script:BenchInvariant)
    if ($first -le [Environment]::ProcessorCount) { "quiet: 1-minute load $(($Load -split ' ')[0]) ≤ $([Environment]::ProcessorCount) CPUs" }
    else { "loaded: 1-minute load $(($Load -split ' ')[0]) > $([Environment]::ProcessorCount) CPUs, counting the benchmark's own earlier steps and any other work" }
}

function Get-MachineDescription([switch] $WithNode) {
    # "2 CPUs (model), N kB memory, .NET x on OS, PowerShell y[, Node.js z]" for the Machine line of a section.
    $cpu = ((Get-Content /proc/cpuinfo | Where-Object { $_ -like 'model name*' } | Select-Object -First 1) -split ':', 2)[1].Trim()
    $mem = ((Get-Content /proc/meminfo | Where-Object { $_ -like 'MemTotal*' }) -split ':', 2)[1].Trim()
    $text = '{0} CPUs ({1}), {2} memory, .NET {3} on {4}, PowerShell {5}' -f [Environment]::ProcessorCount, $cpu, $mem, [Environment]::Version,
        [Runtime.InteropServices.RuntimeInformation]::OSDescription, $PSVersionTable.PSVersion
    if ($WithNode) { $text += ', Node.js ' + ((& node --version) -join '') }
    $text
}

function Get-LoadSentence([string] $FirstLoad, [string] $LastLoad) {
    'The last column is the load average (1/5/15 min) just before each measurement; at the start it was {0} ({1}), at the end {2} ({3}).' -f `
        $FirstLoad, (Get-LoadDescription $FirstLoad), $LastLoad, (Get-LoadDescription $LastLoad)
}

function Invoke-Child([string] $Exe, [string[]] $Arguments, [hashtable] $Environment = @{}) {
    # Runs a process to its end; throws with its output when it fails. Milliseconds is the wall time including start.
    $info = [Diagnostics.ProcessStartInfo]::new($Exe)
    foreach ($a in $Arguments) { $info.ArgumentList.Add($a) }
    foreach ($k in $Environment.Keys) { $info.Environment[$k] = [string] $Environment[$k] }
    $info.RedirectStandardOutput = $true
    $info.RedirectStandardError = $true
    $info.UseShellExecute = $false
    $sw = [Diagnostics.Stopwatch]::StartNew()
    $p = [Diagnostics.Process]::Start($info)
    $errTask = $p.StandardError.ReadToEndAsync()
    $out = $p.StandardOutput.ReadToEnd()
    $p.WaitForExit()
    $sw.Stop()
    $err = $errTask.GetAwaiter().GetResult()
    if ($p.ExitCode -ne 0) { throw "'$Exe $($Arguments -join ' ')' exited with $($p.ExitCode): $err$out" }
    [pscustomobject]@{ Milliseconds = $sw.Elapsed.TotalMilliseconds; Output = $out; Error = $err }
}

function ConvertFrom-LastJsonLine([string] $Output, [switch] $AsHashtable) {
    ($Output.Trim() -split "`n")[-1] | ConvertFrom-Json -AsHashtable:$AsHashtable
}

function Invoke-PwshJson([string] $Script, [hashtable] $Environment = @{}, [switch] $AsHashtable, [string] $WorkFolder = $Work) {
    # Runs a script's text in a fresh `dotnet pwsh.dll -NoProfile`; its last stdout line is a JSON result. The script file
    # goes to -WorkFolder (default: the calling script's $Work folder).
    $file = Join-Path $WorkFolder ("child-" + [guid]::NewGuid().ToString('N') + '.ps1')
    Set-Content -Path $file -Value $Script
    $r = Invoke-Child 'dotnet' @($script:BenchPwshDll, '-NoProfile', '-NonInteractive', '-File', $file) $Environment
    ConvertFrom-LastJsonLine $r.Output -AsHashtable:$AsHashtable
}

function Start-BenchEmulator([string] $EmulatorDll, [string[]] $Arguments) {
    # The emulator as its own process; returns its ready line (parsed) with Process and ReadyLine added. Its output is
    # drained so it never blocks on a full pipe.
    $info = [Diagnostics.ProcessStartInfo]::new('dotnet')
    foreach ($a in @($EmulatorDll) + $Arguments) { $info.ArgumentList.Add($a) }
    $info.RedirectStandardOutput = $true
    $info.RedirectStandardError = $true
    $info.UseShellExecute = $false
    $p = [Diagnostics.Process]::Start($info)
    $null = $p.StandardError.ReadToEndAsync()
    $line = $p.StandardOutput.ReadLine()
    if (-not $line) { throw "The emulator did not start ($($Arguments -join ' '))." }
    $null = $p.StandardOutput.ReadToEndAsync()
    $ready = $line | ConvertFrom-Json
    $ready | Add-Member -NotePropertyName Process -NotePropertyValue $p
    $ready | Add-Member -NotePropertyName ReadyLine -NotePropertyValue $line
    $ready
}

function Stop-BenchEmulator($Emulator) {
    # SIGTERM (a clean shutdown), then a kill after 30 s.
    if ($null -eq $Emulator -or $Emulator.Process.HasExited) { return }
    & kill -TERM $Emulator.Process.Id
    if (-not $Emulator.Process.WaitForExit(30000)) { $Emulator.Process.Kill($true) }
}

function Get-ProcessMemory([int] $ProcessId) {
    # VmRSS now and VmHWM (peak resident set) of a process, in MB.
    $status = Get-Content "/proc/$ProcessId/status"
    $kb = { param($name) [double]((($status | Where-Object { $_ -like "${name}:*" }) -split '\s+')[1]) }
    [pscustomobject]@{ RssMB = [math]::Round((& $kb 'VmRSS') / 1024); PeakMB = [math]::Round((& $kb 'VmHWM') / 1024) }
}

function Get-Median([double[]] $Values) {
    $s = @($Values | Sort-Object)
    if ($s.Count % 2) { $s[[int][math]::Floor($s.Count / 2)] } else { ($s[$s.Count / 2 - 1] + $s[$s.Count / 2]) / 2 }
}

function Get-Percentile([double[]] $Values, [double] $P) {
    $s = @($Values | Sort-Object)
    $s[[math]::Clamp([int][math]::Ceiling($P / 100 * $s.Count) - 1, 0, $s.Count - 1)]
}

function Format-BenchTable($Rows, [string] $DefaultGoal = '—') {
    # Rows with Name, Value, Goal, Met ($null: no goal), Load: the five-column table every section uses.
    $sb = [Text.StringBuilder]::new()
    $null = $sb.AppendLine('| Measurement | Result | Goal | Met | Load average when it started (1/5/15 min) |')
    $null = $sb.AppendLine('|---|---|---|---|---|')
    foreach ($r in $Rows) {
        $metValue = $r.PSObject.Properties['Met']?.Value
        $met = if ($null -eq $metValue) { '—' } elseif ($metValue) { 'yes' } else { '**no**' }
        $goal = if ($r.PSObject.Properties['Goal']?.Value -and $r.Goal -ne '—') { $r.Goal } else { $DefaultGoal }
        $null = $sb.AppendLine("| $($r.Name -replace '\|', '\|') | $($r.Value) | $goal | $met | $($r.Load) |")
    }
    $sb.ToString()
}

function Write-BenchSection([string] $Output, [string] $Marker, [string] $Section) {
    # Replaces the block between <!-- $Marker:start --> and <!-- $Marker:end --> (or appends it).
    $start = "<!-- ${Marker}:start -->"; $end = "<!-- ${Marker}:end -->"
    $block = "$start`n$Section$end`n"
    $text = if (Test-Path $Output) { Get-Content -Raw $Output } else { "# Benchmarks`n`n" }
    $a = $text.IndexOf($start); $b = $text.IndexOf($end)
    $text = if ($a -ge 0 -and $b -gt $a) { $text.Substring(0, $a) + $block + $text.Substring($b + $end.Length).TrimStart("`n") } else { $text.TrimEnd("`n") + "`n`n" + $block }
    Set-Content -Path $Output -Value $text -NoNewline
    Write-Host "Results written to $Output"
}
