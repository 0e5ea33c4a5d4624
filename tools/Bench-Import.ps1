#Requires -Version 7.4
<#
.SYNOPSIS
    Import-Module benchmark (not a test): how much `Import-Module out/TwinPS/TwinPS.psd1` adds to a bare
    `pwsh -NoProfile` start, with the module's dependency isolation (TwinPS.Loader and its own AssemblyLoadContext).
.DESCRIPTION
    Runs `pwsh -NoProfile -c exit` and `pwsh -NoProfile -c 'Import-Module <module>; exit'` side by side in one run,
    alternating the two (so that a change of load hits both alike), -Runs times each after one warm-up of each, and
    compares the medians. Each child also prints its own processor time at exit, so the section shows the CPU cost
    of the import too: on a loaded machine the wall time mostly measures waiting for a CPU, the processor time much
    less so. Both start as `dotnet pwsh.dll`, the same way. Rewrites the block between the import-benchmark markers
    of the output file. Shared set-up: tools/BenchCommon.ps1.
#>
[CmdletBinding()]
param(
    [string] $ModulePath = (Join-Path $PSScriptRoot '../out/TwinPS/TwinPS.psd1'),
    [string] $Output = (Join-Path $PSScriptRoot '../docs/benchmarks.md'),
    [ValidateRange(5, 200)] [int] $Runs = 30
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
. (Join-Path $PSScriptRoot 'BenchCommon.ps1')
$ModulePath = (Resolve-Path $ModulePath).Path

function Measure-ImportTime([string] $Module, [int] $Count) {
    <# Wall and processor milliseconds of bare and importing starts, alternating; returns the four lists. #>
    $cpu = '[Console]::Out.WriteLine([Diagnostics.Process]::GetCurrentProcess().TotalProcessorTime.TotalMilliseconds.ToString([Globalization.CultureInfo]::InvariantCulture))'
    $commands = [ordered]@{
        Bare   = "$cpu; exit"
        Import = "Import-Module '$Module'; $cpu; exit"
    }
    $r = @{}
    foreach ($k in $commands.Keys) {
        $r["${k}Wall"] = [Collections.Generic.List[double]]::new(); $r["${k}Cpu"] = [Collections.Generic.List[double]]::new()
        $null = Invoke-Child 'dotnet' @($script:BenchPwshDll, '-NoProfile', '-c', $commands[$k])   # warm the file cache
    }
    for ($i = 0; $i -lt $Count; $i++) {
        foreach ($k in $commands.Keys) {
            $child = Invoke-Child 'dotnet' @($script:BenchPwshDll, '-NoProfile', '-c', $commands[$k])
            if ($child.Error) { throw "The $k start wrote to stderr: $($child.Error)" }
            $r["${k}Wall"].Add($child.Milliseconds)
            $r["${k}Cpu"].Add([double]::Parse(($child.Output.Trim() -split "`n")[-1], $script:BenchInvariant))
        }
    }
    $r
}

$firstLoad = Get-LoadAverage
Write-Host "Import-Module: $Runs fresh processes each, bare and importing, alternating…"
$m = Measure-ImportTime $ModulePath $Runs
$lastLoad = Get-LoadAverage
$load = $firstLoad

$bareWall = Get-Median $m.BareWall; $importWall = Get-Median $m.ImportWall
$bareCpu = Get-Median $m.BareCpu; $importCpu = Get-Median $m.ImportCpu
$overWall = $importWall - $bareWall; $overCpu = $importCpu - $bareCpu
$rows = @(
    [pscustomobject]@{ Name = "``pwsh -NoProfile -c exit``, wall (median of $Runs)"; Value = ('{0:N0} ms' -f $bareWall); Load = $load }
    [pscustomobject]@{ Name = "``pwsh -NoProfile -c 'Import-Module out/TwinPS/TwinPS.psd1; exit'``, wall (median of $Runs)"; Value = ('{0:N0} ms' -f $importWall); Load = $load }
    [pscustomobject]@{ Name = 'Import-Module time over a bare start, wall (difference of the medians)'; Value = ('{0:N0} ms' -f $overWall); Goal = '≤ 250 ms'; Met = ($overWall -le 250); Load = $load }
    [pscustomobject]@{ Name = "Processor time of the bare start / the importing start (medians of $Runs)"; Value = ('{0:N0} ms / {1:N0} ms' -f $bareCpu, $importCpu); Load = $load }
    [pscustomobject]@{ Name = 'Import-Module processor time over a bare start (difference of the medians)'; Value = ('{0:N0} ms' -f $overCpu); Load = $load }
)

$sb = [Text.StringBuilder]::new()
$null = $sb.AppendLine('## Import-Module')
$null = $sb.AppendLine()
$null = $sb.AppendLine(("Measured {0:yyyy-MM-dd HH:mm} UTC by ``tools/Bench-Import.ps1`` (``dotnet pwsh -NoProfile -File ./build.ps1 Bench``), in one run: " -f [datetime]::UtcNow) +
    "a bare ``pwsh -NoProfile -c exit`` and ``pwsh -NoProfile -c 'Import-Module out/TwinPS/TwinPS.psd1; exit'`` started alternately, $Runs times each after one warm-up start of each, both as ``dotnet pwsh.dll``. " +
    'The module loads with its dependency isolation (TwinPS.Loader.dll in the default load context, TwinPS.dll and every dependency in TwinPS''s own AssemblyLoadContext, type accelerators for its public types). ' +
    'Each child printed its own processor time (all threads) at exit; wall time includes the process start and the wait for a CPU.')
$null = $sb.AppendLine()
$null = $sb.AppendLine(('Machine: {0}. ' -f (Get-MachineDescription)) + (Get-LoadSentence $firstLoad $lastLoad))
$null = $sb.AppendLine()
$null = $sb.Append((Format-BenchTable $rows))
$null = $sb.AppendLine()
$null = $sb.AppendLine('What this run shows:')
$null = $sb.AppendLine()
$null = $sb.AppendLine(('- Import-Module added {0:N0} ms of wall time to a bare `pwsh -NoProfile` start of {1:N0} ms, and {2:N0} ms of processor time to its {3:N0} ms (medians of {4}; {5}).' -f `
            $overWall, $bareWall, $overCpu, $bareCpu, $Runs, (Get-LoadDescription $load)))
$null = $sb.AppendLine(('- Wall time of the {0} bare starts ranged {1:N0}–{2:N0} ms and of the importing starts {3:N0}–{4:N0} ms (10th–90th percentile).' -f `
            $Runs, (Get-Percentile $m.BareWall 10), (Get-Percentile $m.BareWall 90), (Get-Percentile $m.ImportWall 10), (Get-Percentile $m.ImportWall 90)))
$section = $sb.ToString()
Write-Host $section
Write-BenchSection $Output 'import-benchmark' $section
