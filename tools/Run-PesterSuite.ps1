# Runs one Pester suite (a folder of *.Tests.ps1 files) in this fresh process and writes a JSON summary with
# the totals and the per-file counts, for tools/TestRunner.psm1. Exits 0 only if the run itself completed.
param(
    [Parameter(Mandatory)][string] $PesterPath,
    [Parameter(Mandatory)][string] $TestPath,
    [Parameter(Mandatory)][string] $SummaryPath,
    [Parameter(Mandatory)][string] $ResultPath
)
$ErrorActionPreference = 'Stop'
Import-Module $PesterPath
$config = New-PesterConfiguration
$config.Run.Path = $TestPath
$config.Run.PassThru = $true
$config.Output.Verbosity = 'Normal'
$config.TestResult.Enabled = $true
$config.TestResult.OutputPath = $ResultPath
$result = Invoke-Pester -Configuration $config
[pscustomobject]@{
    Passed = $result.PassedCount
    Failed = $result.FailedCount + $result.FailedBlocksCount + $result.FailedContainersCount
    Skipped = $result.SkippedCount + $result.InconclusiveCount + $result.NotRunCount
    Containers = @($result.Containers | ForEach-Object {
            [pscustomobject]@{
                Path = "$($_.Item)"
                Passed = $_.PassedCount
                Failed = $_.FailedCount
                Skipped = $_.SkippedCount + $_.InconclusiveCount + $_.NotRunCount
            }
        })
} | ConvertTo-Json -Depth 4 | Set-Content $SummaryPath
