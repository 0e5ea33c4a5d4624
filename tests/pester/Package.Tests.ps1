# The PowerShell Gallery package, as a user gets it: packed from the built module by tools/New-Package.ps1 (what
# 'build.ps1 Package' runs), put in a local folder repository, installed with PSResourceGet's Install-PSResource into a
# throwaway user scope, imported BY NAME in a fresh pwsh, and used for the README's quick start against an emulator
# from the installed package. No PowerShell Gallery access is needed.

BeforeAll {
    . $PSScriptRoot/common.ps1

    $script:ModuleDirectory = Split-Path $script:TwinTestModulePath
    $script:Work = Join-Path ([IO.Path]::GetTempPath()) ('twinps-package-' + [guid]::NewGuid().ToString('N'))
    $script:Repository = Join-Path $script:Work 'repository'
    # A throwaway HOME: PSResourceGet keeps its repository list and the CurrentUser install scope under it (on Linux and
    # macOS through HOME and XDG_DATA_HOME), and pwsh puts that scope's Modules folder on PSModulePath.
    $script:UserHome = Join-Path $script:Work 'home'
    $null = New-Item -ItemType Directory -Force $script:Repository, (Join-Path $script:UserHome '.local/share')

    function Invoke-PackageChild([string] $Script, [hashtable] $Parameters = @{}, [switch] $IsolatedHome) {
        <# Runs $Script in a fresh pwsh (this same PowerShell), optionally with the throwaway HOME; returns its output lines. #>
        $file = Join-Path $script:Work ('child-' + [guid]::NewGuid().ToString('N') + '.ps1')
        Set-Content -Path $file -Value $Script
        $saved = @{ HOME = $env:HOME; XDG_DATA_HOME = $env:XDG_DATA_HOME; PSModulePath = $env:PSModulePath }
        try {
            if ($IsolatedHome) {
                $env:HOME = $script:UserHome
                $env:XDG_DATA_HOME = Join-Path $script:UserHome '.local/share'
            }
            # A child pwsh builds its own PSModulePath; the Pester host's additions must not leak into it.
            $env:PSModulePath = $null
            $self = [Diagnostics.Process]::GetCurrentProcess().MainModule.FileName
            [string[]] $prefix = if ((Split-Path $self -Leaf) -like 'pwsh*') { @() } else { @(Join-Path $PSHOME 'pwsh.dll') }
            [string[]] $arguments = foreach ($key in $Parameters.Keys) { "-$key"; [string] $Parameters[$key] }
            $output = @(& $self @prefix -NoProfile -NonInteractive -File $file @arguments 2>&1 | ForEach-Object { "$_" })
            if ($LASTEXITCODE -ne 0) { throw "The child pwsh failed (exit code $LASTEXITCODE):`n$($output -join "`n")" }
            $output
        }
        finally {
            foreach ($name in $saved.Keys) { [Environment]::SetEnvironmentVariable($name, $saved[$name]) }
            Remove-Item $file -ErrorAction SilentlyContinue
        }
    }

    $packer = Join-Path $script:TwinTestRepoRoot 'tools/New-Package.ps1'
    $script:Package = @(Invoke-PackageChild "& '$packer' -ModulePath '$script:ModuleDirectory' -OutputPath '$script:Repository' | ForEach-Object FullName")[-1]
}

AfterAll {
    Remove-Item $script:Work -Recurse -Force -ErrorAction SilentlyContinue
}

Describe 'The PowerShell Gallery package' {
    It 'is a NuGet package with the Gallery metadata and the whole module' {
        $script:Package | Should -Exist
        Add-Type -AssemblyName System.IO.Compression.FileSystem
        $zip = [IO.Compression.ZipFile]::OpenRead($script:Package)
        try {
            $entries = $zip.Entries.FullName
            $reader = [IO.StreamReader]::new(($zip.Entries | Where-Object FullName -eq 'TwinPS.nuspec').Open())
            [xml] $nuspec = $reader.ReadToEnd()
            $reader.Dispose()
        }
        finally { $zip.Dispose() }

        foreach ($file in 'TwinPS.psd1', 'TwinPS.psm1', 'TwinPS.Loader.dll', 'LICENSE', 'dependencies/TwinPS.dll',
            'dependencies/Azure.Core.dll', 'en-US/TwinPS.dll-Help.xml', 'emulator/TwinPS.Emulator.dll', 'TwinPS.Format.ps1xml') {
            $entries | Should -Contain $file
        }
        $metadata = $nuspec.package.metadata
        $metadata.id | Should -Be 'TwinPS'
        $metadata.version | Should -Be (Import-PowerShellDataFile $script:TwinTestModulePath).ModuleVersion
        $metadata.projectUrl | Should -Match '^https://'
        $metadata.licenseUrl | Should -Match '^https://'
        $metadata.releaseNotes | Should -Not -BeNullOrEmpty
        $metadata.tags -split ' ' | Should -Contain 'IoTHub'
        $metadata.description | Should -Match 'IoT Hub'
    }

    It 'installs with Install-PSResource from a local folder repository and runs the quick start, imported by name' {
        $installed = @(Invoke-PackageChild -IsolatedHome -Parameters @{ Repository = $script:Repository } @'
param([string] $Repository)
$ErrorActionPreference = 'Stop'
Register-PSResourceRepository -Name local -Uri $Repository -Trusted
if ($IsWindows) {
    # Windows keeps the CurrentUser scope under Documents, which HOME does not move: save into a folder on PSModulePath.
    $modules = Join-Path $env:HOME 'Modules'
    Save-PSResource -Name TwinPS -Repository local -Path $modules -TrustRepository
    [Environment]::SetEnvironmentVariable('PSModulePath', "$modules;$env:PSModulePath", 'Process')
}
else {
    Install-PSResource -Name TwinPS -Repository local -Scope CurrentUser
}
(Get-InstalledPSResource -Name TwinPS -ErrorAction SilentlyContinue | Select-Object -First 1).Version.ToString()
'@)
        $installed[-1] | Should -Be (Import-PowerShellDataFile $script:TwinTestModulePath).ModuleVersion

        $result = Invoke-PackageChild -IsolatedHome @'
$ErrorActionPreference = 'Stop'
if ($IsWindows) { $env:PSModulePath = "$(Join-Path $env:HOME 'Modules');$env:PSModulePath" }
Import-Module TwinPS
$module = Get-Module TwinPS

# The README's quick start.
$hub = Start-IoTHubEmulator -InMemory
try {
    $hub | Connect-IoTHub | Out-Null
    New-IoTDevice -DeviceId myDeviceId | Out-Null
    $updated = Get-IoTTwin -DeviceId myDeviceId |
        Update-IoTTwin -Tag @{ location = @{ region = 'US'; plant = 'Redmond43' } } `
                       -Desired @{ telemetryConfig = @{ sendFrequency = '5m' } } -PassThru
    $found = @(Search-IoTTwin -Tag @{ 'location.plant' = 'Redmond43' })
    Search-IoTTwin -Tag @{ 'location.plant' = 'Redmond43' } | Set-IoTTwinDesired -Desired @{ telemetryConfig = @{ sendFrequency = '1m' } }
    $final = Get-IoTTwin -DeviceId myDeviceId
}
finally { $hub | Stop-IoTHubEmulator }
@{
    ModuleBase = $module.ModuleBase
    Commands   = @(Get-Command -Module TwinPS).Count
    Help       = (Get-Help Get-IoTTwin).Synopsis
    Plant      = $updated.Tags.location.plant
    Found      = $found.DeviceId
    Frequency  = $final.Desired.telemetryConfig.sendFrequency
} | ConvertTo-Json -Compress
'@ | Select-Object -Last 1 | ConvertFrom-Json

        $result.ModuleBase | Should -BeLike "$script:UserHome*"
        $result.Commands | Should -Be (Import-PowerShellDataFile $script:TwinTestModulePath).CmdletsToExport.Count
        $result.Help | Should -Not -BeNullOrEmpty
        $result.Plant | Should -Be 'Redmond43'
        $result.Found | Should -Be 'myDeviceId'
        $result.Frequency | Should -Be '1m'
    }
}
