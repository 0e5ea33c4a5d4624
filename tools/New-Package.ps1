#Requires -Version 7.4
<#
.SYNOPSIS
    Writes the PowerShell Gallery package (.nupkg) of a built TwinPS module folder.

.DESCRIPTION
    Checks the manifest (Test-ModuleManifest, and the Gallery metadata: Description, Author, Tags, ProjectUri,
    LicenseUri, ReleaseNotes, CompatiblePSEditions, PowerShellVersion), then packs the folder with PSResourceGet's
    Compress-PSResource (Microsoft.PowerShell.PSResourceGet, in PowerShell 7.4 and later): the same package that
    Publish-PSResource uploads, made offline. Returns the .nupkg file. Used by 'build.ps1 Package' and by
    tests/pester/Package.Tests.ps1.

.EXAMPLE
    dotnet pwsh -NoProfile -File tools/New-Package.ps1 -ModulePath out/TwinPS -OutputPath out/package
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)][string] $ModulePath,
    [Parameter(Mandatory)][string] $OutputPath
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

$ModulePath = (Resolve-Path $ModulePath).Path
$manifestPath = Join-Path $ModulePath 'TwinPS.psd1'
$manifest = Test-ModuleManifest -Path $manifestPath
$data = Import-PowerShellDataFile $manifestPath
$psData = $data.PrivateData.PSData
$problems = @(
    if (-not $manifest.Description) { 'Description is empty' }
    if (-not $manifest.Author) { 'Author is empty' }
    if (-not $psData.Tags) { 'PrivateData.PSData.Tags is empty' }
    foreach ($uri in 'ProjectUri', 'LicenseUri') {
        if (-not ($psData.ContainsKey($uri) -and [Uri]::IsWellFormedUriString($psData[$uri], 'Absolute'))) { "PrivateData.PSData.$uri is not an absolute URI" }
    }
    if (-not $psData.ReleaseNotes) { 'PrivateData.PSData.ReleaseNotes is empty' }
    if (@($data.CompatiblePSEditions) -ne @('Core')) { "CompatiblePSEditions must be @('Core')" }
    if ([version] $data.PowerShellVersion -lt [version] '7.4') { 'PowerShellVersion must be 7.4 or later' }
    if (-not (Test-Path (Join-Path $ModulePath 'LICENSE'))) { 'the module folder has no LICENSE file' }
)
if ($problems) { throw "The module is not ready for the PowerShell Gallery: $($problems -join '; ')." }

New-Item -ItemType Directory -Force $OutputPath | Out-Null
$OutputPath = (Resolve-Path $OutputPath).Path
$target = Join-Path $OutputPath "TwinPS.$($manifest.Version).nupkg"
if (Test-Path $target) { Remove-Item $target }
Import-Module Microsoft.PowerShell.PSResourceGet -ErrorAction Stop
Compress-PSResource -Path $ModulePath -DestinationPath $OutputPath
if (-not (Test-Path $target)) { throw "Compress-PSResource did not write '$target'." }
Get-Item $target
