# Runs tools/TestRunner.psm1's Invoke-TestRun over a fixture manifest, in this fresh process, exactly as
# build.ps1 Test does over tests/suites.psd1, and exits with its exit code. Used by Runner.Tests.ps1.
param(
    [Parameter(Mandatory)][string] $Root,
    [Parameter(Mandatory)][string] $ManifestPath,
    [Parameter(Mandatory)][string] $PesterPath,
    [Parameter(Mandatory)][string] $ModulePath,
    [Parameter(Mandatory)][string] $EmulatorDll
)
$ErrorActionPreference = 'Stop'
Import-Module (Join-Path $PSScriptRoot '../../tools/TestRunner.psm1') -Force
exit (Invoke-TestRun -Root $Root -ManifestPath $ManifestPath -ResultsDir (Join-Path $Root 'results') `
        -PesterPath $PesterPath -ModulePath $ModulePath -EmulatorDll $EmulatorDll)
