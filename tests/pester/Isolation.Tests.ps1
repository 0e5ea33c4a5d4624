# Dependency isolation: TwinPS loads Azure.Core, Azure.Identity, MSAL, System.ClientModel, MQTTnet (and its own
# assemblies) in its own AssemblyLoadContext, so that it works beside another copy of Azure.Core in the session, in
# either load order, and leaves that copy to whoever loaded it. Every scenario runs in a fresh pwsh process, because
# an assembly loaded into a process stays there. The other Azure.Core copies (1.44.1, older than TwinPS's, as
# Az.Accounts ships; 1.64.0, newer) come from the NuGet cache, put there by tests/tools/TestTools.csproj.

BeforeAll {
    . $PSScriptRoot/common.ps1

    $script:OlderAzureCore = Get-TwinTestNuGetFile 'azure.core/1.44.1/lib/net6.0/Azure.Core.dll'
    $script:NewerAzureCore = Get-TwinTestNuGetFile 'azure.core/1.64.0/lib/net8.0/Azure.Core.dll'
    # Azure.Core 1.64's AccessToken needs the System.ClientModel it was built against (TwinPS ships an older one).
    $script:NewerClientModel = Get-TwinTestNuGetFile 'system.clientmodel/1.16.0/lib/net8.0/System.ClientModel.dll'
    foreach ($path in $script:OlderAzureCore, $script:NewerAzureCore, $script:NewerClientModel) {
        if (-not (Test-Path $path)) { throw "'$path' is missing: restore tests/tools/TestTools.csproj (build.ps1 Test does)." }
    }
    $script:ModuleDirectory = Split-Path $script:TwinTestModulePath

    # The scenario, in one process: load the other Azure.Core copy and TwinPS in the given order, use both, and
    # report what each got. TwinPS's part is the issue's reproduction (Start-IoTHubEmulator | Connect-IoTHub,
    # twin cmdlets) plus the device side over MQTT, used before and after the other copy arrives.
    $script:LoadOrderScenario = @'
param([string] $ModulePath, [string] $OtherAssemblies, [string] $Order)
$ErrorActionPreference = 'Stop'
$global:hub = $null

function Use-OtherCopy {
    # What another module does: load its own Azure.Core (and what that copy needs) into the default context.
    foreach ($path in $OtherAssemblies -split ';') { Add-Type -Path $path }
    $token = [Azure.Core.AccessToken]::new('other-module-token', [DateTimeOffset]::UtcNow.AddMinutes(5))
    $context = [Azure.Core.TokenRequestContext]::new([string[]] @('https://example.invalid/.default'))
    [ordered]@{
        Version  = [Azure.Core.AccessToken].Assembly.GetName().Version.ToString()
        Location = [Azure.Core.AccessToken].Assembly.Location
        Works    = $token.Token -eq 'other-module-token' -and $context.Scopes[0] -eq 'https://example.invalid/.default'
    }
}

function Use-TwinPS([string] $DeviceId, [int] $Value) {
    if (-not (Get-Module TwinPS)) {
        Import-Module $ModulePath
        $global:hub = Start-IoTHubEmulator -InMemory
        $global:hub | Connect-IoTHub | Out-Null
    }
    $null = New-IoTDevice -DeviceId $DeviceId
    Set-IoTTwinDesired -DeviceId $DeviceId -Desired @{ value = $Value } -Confirm:$false
    $session = Get-IoTDeviceConnectionString -DeviceId $DeviceId | ForEach-Object { Connect-IoTDevice -ConnectionString $_ }
    try {
        Update-IoTTwinReported -Session $session -Reported @{ echo = $Value }
        $twin = Get-IoTTwin -DeviceId $DeviceId
    }
    finally { $session | Disconnect-IoTDevice }
    $twin.Desired.value -eq $Value -and $twin.Reported.echo -eq $Value
}

$result = [ordered]@{}
try {
    if ($Order -eq 'OtherFirst') {
        $result.Other = Use-OtherCopy
        $result.TwinPS = Use-TwinPS 'first' 1
    }
    else {
        $result.TwinPS = Use-TwinPS 'first' 1
        $result.Other = Use-OtherCopy
    }
    # TwinPS again, once both are loaded whatever the order.
    $result.TwinPSAfter = Use-TwinPS 'second' 2
}
finally {
    if ($global:hub) { $global:hub | Stop-IoTHubEmulator }
}

$moduleDirectory = [IO.Path]::GetFullPath((Split-Path $ModulePath))
$result.Assemblies = @([AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { -not $_.IsDynamic } | ForEach-Object {
        $name = $_.GetName().Name
        $context = [Runtime.Loader.AssemblyLoadContext]::GetLoadContext($_)
        if ($name -match '^(Azure\.|Microsoft\.Identity|System\.ClientModel|System\.Memory\.Data|MQTTnet|TwinPS)' -or
            ($_.Location -and $_.Location.StartsWith($moduleDirectory))) {
            [ordered]@{ Name = $name; Version = $_.GetName().Version.ToString(); Context = $context.Name; Location = $_.Location }
        }
    })
$result | ConvertTo-Json -Depth 5 -Compress
'@
}

Describe 'TwinPS beside another copy of Azure.Core (each case in a fresh pwsh)' {
    It 'works with the <Label> copy loaded <Order>, and that copy stays the one its owner loaded' -ForEach @(
        @{ Label = 'older (1.44.1)'; Version = '1.44.1.0'; Path = 'Older'; Order = 'OtherFirst' }
        @{ Label = 'newer (1.64.0)'; Version = '1.64.0.0'; Path = 'Newer'; Order = 'OtherFirst' }
        @{ Label = 'older (1.44.1)'; Version = '1.44.1.0'; Path = 'Older'; Order = 'TwinPSFirst' }
        @{ Label = 'newer (1.64.0)'; Version = '1.64.0.0'; Path = 'Newer'; Order = 'TwinPSFirst' }
    ) {
        $other = if ($Path -eq 'Older') { $script:OlderAzureCore } else { $script:NewerAzureCore }
        $assemblies = if ($Path -eq 'Older') { $other } else { "$script:NewerClientModel;$other" }
        $r = Invoke-TwinTestChild $script:LoadOrderScenario @{ ModulePath = $script:TwinTestModulePath; OtherAssemblies = $assemblies; Order = $Order }

        # TwinPS works, before and after the other copy arrived (twin REST on Azure.Core, the device side on MQTTnet).
        $r.TwinPS | Should -BeTrue
        $r.TwinPSAfter | Should -BeTrue
        # The other module got exactly the copy it loaded, not TwinPS's, and can use it.
        $r.Other.Version | Should -Be $Version
        $r.Other.Location | Should -Be $other
        $r.Other.Works | Should -BeTrue

        $azureCore = @($r.Assemblies | Where-Object Name -eq 'Azure.Core')
        $azureCore | Should -HaveCount 2
        ($azureCore | Where-Object Context -eq 'Default').Location | Should -Be $other
        $own = $azureCore | Where-Object Context -eq 'TwinPS'
        $own.Location | Should -BeLike "$script:ModuleDirectory*dependencies*Azure.Core.dll"

        # Of the module's own files, only the loader is in the default context; every dependency TwinPS used is in its own.
        $fromModule = @($r.Assemblies | Where-Object { $_.Location -like "$script:ModuleDirectory*" })
        @($fromModule | Where-Object Context -eq 'Default').Name | Should -Be @('TwinPS.Loader')
        $private = @($fromModule | Where-Object Context -eq 'TwinPS').Name
        foreach ($name in 'TwinPS', 'TwinPS.Client', 'Azure.Core', 'System.ClientModel', 'MQTTnet') {
            $private | Should -Contain $name
        }
    }
}

Describe 'The module layout keeps dependencies out of reach of PowerShell''s default resolution' {
    It 'ships only the loader at the top of the module folder, everything else under dependencies/' {
        @(Get-ChildItem $script:ModuleDirectory -Filter '*.dll').Name | Should -Be @('TwinPS.Loader.dll')
        $dependencies = @(Get-ChildItem (Join-Path $script:ModuleDirectory 'dependencies') -Filter '*.dll').Name
        foreach ($name in 'TwinPS.dll', 'Azure.Core.dll', 'Azure.Identity.dll', 'Microsoft.Identity.Client.dll', 'System.ClientModel.dll', 'MQTTnet.dll') {
            $dependencies | Should -Contain $name
        }
        $dependencies | Should -Not -Contain 'System.Management.Automation.dll'
    }

    It 'names the module''s public types as before: [TwinPS.Models.Twin] resolves to the type its objects have' {
        $twinType = (Get-Command Get-IoTTwin).ImplementingType.Assembly.GetType('TwinPS.Models.Twin')
        [TwinPS.Models.Twin] | Should -Be $twinType
        [Runtime.Loader.AssemblyLoadContext]::GetLoadContext($twinType.Assembly).Name | Should -Be 'TwinPS'
    }

    It 're-imports with -Force and after Remove-Module with every cmdlet exported (fresh pwsh)' {
        $r = Invoke-TwinTestChild @'
param([string] $ModulePath)
$ErrorActionPreference = 'Stop'
Import-Module $ModulePath
$first = @(Get-Command -Module TwinPS).Count
Import-Module $ModulePath -Force
$forced = @(Get-Command -Module TwinPS).Count
Remove-Module TwinPS
$removedType = [psobject].Assembly.GetType('System.Management.Automation.TypeAccelerators')::Get.ContainsKey('TwinPS.Models.Twin')
Import-Module $ModulePath
$again = @(Get-Command -Module TwinPS).Count
$hub = Start-IoTHubEmulator -InMemory
try { $hub | Connect-IoTHub | Out-Null; $works = @(Get-IoTDevice).Count -eq 0 } finally { $hub | Stop-IoTHubEmulator }
@{ First = $first; Forced = $forced; Again = $again; Works = $works; RemovedType = $removedType
   Exported = (Import-PowerShellDataFile $ModulePath).CmdletsToExport.Count } | ConvertTo-Json -Compress
'@ @{ ModulePath = $script:TwinTestModulePath }
        $r.First | Should -Be $r.Exported
        $r.Forced | Should -Be $r.Exported
        $r.Again | Should -Be $r.Exported
        $r.Works | Should -BeTrue
        # Remove-Module takes the type accelerators away with the module.
        $r.RemovedType | Should -BeFalse
    }
}

Describe 'A TokenCredential from the session''s own Azure.Core copy (fresh pwsh)' {
    It 'is accepted by Connect-IoTHub -Credential and asked for a token for the IoT Hub scope' {
        # The credential derives from the OTHER copy's Azure.Core.TokenCredential (1.44.1, as Az.Accounts would bring),
        # a different type from TwinPS's own; Connect-IoTHub adapts it and calls it for its token.
        $r = Invoke-TwinTestChild @'
param([string] $ModulePath, [string] $OtherAzureCore, [string] $CredentialSource)
$ErrorActionPreference = 'Stop'
Add-Type -Path $OtherAzureCore
# -IgnoreWarnings: CS1701, the old copy was built against an older System.Runtime (it binds to this one).
Add-Type -IgnoreWarnings -WarningAction SilentlyContinue -ReferencedAssemblies $OtherAzureCore -Path $CredentialSource
Import-Module $ModulePath
$hub = Start-IoTHubEmulator -InMemory
try {
    $credential = [SessionCopyCredential]::new()
    $credential.Issue = [Func[string]] { 'not-a-token-the-emulator-issued' }
    try {
        Connect-IoTHub -HostName "$($hub.HostName):$($hub.HttpsPort)" -Credential $credential -CACertificatePath $hub.CACertificatePath | Out-Null
        $outcome = 'connected'
    }
    catch { $outcome = $_.FullyQualifiedErrorId }
    $wrong = try { Connect-IoTHub -HostName "$($hub.HostName):$($hub.HttpsPort)" -Credential ([pscustomobject]@{ GetToken = 1 }) | Out-Null; 'accepted' } catch { $_.FullyQualifiedErrorId }
}
finally { $hub | Stop-IoTHubEmulator }
@{ Calls = $credential.Calls; Scopes = $credential.Scopes; Outcome = $outcome; Wrong = $wrong } | ConvertTo-Json -Compress
'@ @{ ModulePath = $script:TwinTestModulePath; OtherAzureCore = $script:OlderAzureCore; CredentialSource = $script:SessionCopyCredentialSource }
        $r.Calls | Should -BeGreaterOrEqual 1
        $r.Scopes | Should -Be 'https://iothubs.azure.net/.default'
        # A token the emulator did not issue: the hub's 401, not a type mismatch.
        $r.Outcome | Should -BeLike 'IotHubUnauthorizedAccess,*'
        $r.Wrong | Should -BeLike 'InvalidCredential,*'
    }
}
