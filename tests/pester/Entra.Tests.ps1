# Microsoft Entra ID end to end against the emulator's own token issuer (a test stand-in for Entra ID):
# New-IoTHubEmulatorCredential | Connect-IoTHub -HostName … -Credential, the whole backend scenario under each IoT Hub
# data-plane role (allowed and refused as documented), expired and wrong-audience tokens, token refresh, and
# Connect-IoTHub -Name. The emulator runs with --entra-clock-skew 0, so that a token the client failed to refresh
# would be refused the moment it expires.

BeforeAll {
    . $PSScriptRoot/common.ps1
    $script:hub = Start-TwinTestHub -EmulatorArguments '--entra-clock-skew', '0'
    $script:hubHost = "localhost:$($script:hub.httpsPort)"

    # A TokenCredential that hands out a fixed token (or throws), compiled against the module's own Azure.Core
    # loaded into the default context, as a user's copy would be.
    $dependencies = Join-Path (Split-Path $script:TwinTestModulePath) 'dependencies'
    if (-not ('TwinPSTest.FixedTokenCredential' -as [type])) {
        Add-Type -Path (Join-Path $dependencies 'System.ClientModel.dll'), (Join-Path $dependencies 'Azure.Core.dll')
        Add-Type -ReferencedAssemblies (Join-Path $dependencies 'Azure.Core.dll'), (Join-Path $dependencies 'System.ClientModel.dll'), 'System.Memory', 'System.Runtime', 'System.Threading', 'netstandard' -IgnoreWarnings -WarningAction SilentlyContinue -TypeDefinition @'
using System;
using System.Threading;
using System.Threading.Tasks;
using Azure.Core;
namespace TwinPSTest
{
    public sealed class FixedTokenCredential : TokenCredential
    {
        public string Token;
        public int Calls;
        public string Scopes;
        public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref Calls);
            Scopes = string.Join(" ", requestContext.Scopes);
            if (Token == null) throw new InvalidOperationException("no token for this test");
            return new AccessToken(Token, DateTimeOffset.UtcNow.AddHours(1));
        }
        public override ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken)
            => new ValueTask<AccessToken>(GetToken(requestContext, cancellationToken));
    }
}
'@
    }

    function New-RawToken([string[]] $Role, [long] $LifetimeSeconds = 3600, [string] $Audience = 'https://iothubs.azure.net') {
        (Invoke-TwinTestRest $script:hub POST '/$twinps/token' @{ roles = $Role; lifetimeSeconds = $LifetimeSeconds; audience = $Audience }).accessToken
    }

    function Connect-AsRole([string[]] $Role, [TimeSpan] $Lifetime = (New-TimeSpan -Hours 1)) {
        $credential = $script:hub | New-IoTHubEmulatorCredential -Role $Role -Lifetime $Lifetime
        $null = Connect-IoTHub -HostName $script:hubHost -Credential $credential -CACertificatePath $script:hub.caCertificatePath -MqttPort $script:hub.mqttPort
        $credential
    }

    function New-ScheduledJob([string] $DeviceId) {
        <# A twin update job scheduled 6 days ahead (set up with the owner policy), for Get-IoTJob and Stop-IoTJob. #>
        $jobId = 'entra-job-' + [guid]::NewGuid().ToString('N').Substring(0, 8)
        $null = Invoke-TwinTestRest $script:hub PUT "/jobs/v2/$jobId" @{
            jobId = $jobId; type = 'scheduleUpdateTwin'; queryCondition = "deviceId = '$DeviceId'"
            startTime = [DateTimeOffset]::UtcNow.AddDays(6).ToString('o'); maxExecutionTimeInSeconds = 60; updateTwin = @{ etag = '*'; tags = @{ byJob = 1 } }
        }
        $jobId
    }

    function Start-MethodAnswerer([string] $DeviceId) {
        <# The device, over MQTT with its own key (Entra is for the service side only), answering one call in a
           background runspace. #>
        $device = Invoke-TwinTestRest $script:hub GET "/devices/$DeviceId"
        $session = Connect-IoTDevice -ConnectionString "HostName=localhost;DeviceId=$DeviceId;SharedAccessKey=$($device.authentication.symmetricKey.primaryKey)" -MqttPort $script:hub.mqttPort
        $ps = [powershell]::Create()
        $null = $ps.AddScript({
                param($modulePath, $session)
                Import-Module $modulePath
                Wait-IoTDeviceMethod -Session $session -Count 1 -Timeout 60 | Send-IoTDeviceMethodResponse -Status 200 -Payload @{ done = $true }
            }).AddArgument($script:TwinTestModulePath).AddArgument($session)
        [pscustomobject]@{ Session = $session; PowerShell = $ps; Handle = $ps.BeginInvoke() }
    }

    function Stop-MethodAnswerer($Answerer, [bool] $Called) {
        if ($Called) { $null = $Answerer.PowerShell.EndInvoke($Answerer.Handle) } else { $Answerer.PowerShell.Stop() }
        $Answerer.PowerShell.Dispose()
        $Answerer.Session | Disconnect-IoTDevice
    }

    # The backend scenario, one step per operation; each step returns $true when it ran, or the error id it got.
    function Invoke-BackendStep([string] $Step, [string] $DeviceId, [string] $JobId, [bool] $Allowed) {
        $ErrorActionPreference = 'Stop'   # per-device errors are non-terminating; each step must stop on its first
        try {
            switch ($Step) {
                'New-IoTDevice' { $null = New-IoTDevice -DeviceId "$DeviceId-new" -Confirm:$false }
                'Get-IoTDevice' { (Get-IoTDevice -DeviceId $DeviceId).DeviceId | Should -Be $DeviceId }
                'Get-IoTDeviceConnectionString' { Get-IoTDeviceConnectionString -DeviceId $DeviceId | Should -Not -BeNullOrEmpty }
                'Set-IoTDevice' { $null = Set-IoTDevice -DeviceId $DeviceId -Status Enabled -Force -Confirm:$false }
                'New-IoTModule' { $null = New-IoTModule -DeviceId $DeviceId -ModuleId 'm2' -Confirm:$false }
                'Get-IoTModule' { (Get-IoTModule -DeviceId $DeviceId -ModuleId 'm1').ModuleId | Should -Be 'm1' }
                'Get-IoTTwin' { (Get-IoTTwin -DeviceId $DeviceId).DeviceId | Should -Be $DeviceId }
                'Get-IoTTwin -ModuleId' { (Get-IoTTwin -DeviceId $DeviceId -ModuleId 'm1').ModuleId | Should -Be 'm1' }
                'Search-IoTTwin' { @(Search-IoTTwin -Query "SELECT * FROM devices WHERE deviceId = '$DeviceId'") | Should -HaveCount 1 }
                'Set-IoTTwinDesired' { Set-IoTTwinDesired -DeviceId $DeviceId -Desired @{ interval = 5 } -Force -Confirm:$false }
                'Update-IoTTwinTag' { Update-IoTTwinTag -DeviceId $DeviceId -Tag @{ owner = 'entra' } -Force -Confirm:$false }
                'Start-IoTTwinUpdateJob' {
                    $job = Start-IoTTwinUpdateJob -Condition "deviceId = '$DeviceId'" -Tag @{ byEntraJob = 1 } -StartTime ([DateTimeOffset]::UtcNow.AddDays(6)) -Confirm:$false
                    $job.JobId | Should -Not -BeNullOrEmpty
                }
                'Get-IoTJob' { (Get-IoTJob -JobId $JobId).JobId | Should -Be $JobId }
                'Stop-IoTJob' { (Stop-IoTJob -JobId $JobId -PassThru -Confirm:$false).Status | Should -Be 'cancelled' }
                'Invoke-IoTDeviceMethod' {
                    $answerer = if ($Allowed) { Start-MethodAnswerer $DeviceId }
                    try { (Invoke-IoTDeviceMethod -DeviceId $DeviceId -MethodName reboot -ResponseTimeout 30 -ConnectTimeout 10 -Confirm:$false).Status | Should -Be 200 }
                    finally { if ($answerer) { Stop-MethodAnswerer $answerer $true } }
                }
                'Remove-IoTModule' { Remove-IoTModule -DeviceId $DeviceId -ModuleId 'm1' -Force -Confirm:$false }
                'Remove-IoTDevice' { Remove-IoTDevice -DeviceId $DeviceId -Force -Confirm:$false }
            }
            $true
        }
        catch { $_.FullyQualifiedErrorId.Split(',')[0] }
    }
}

AfterAll {
    Disconnect-IoTHub
    Stop-TwinTestHub $script:hub
}

Describe 'Connect-IoTHub -Credential (New-IoTHubEmulatorCredential) runs the backend scenario under each data-plane role' {
    # As documented (New-IoTHubEmulatorCredential help, docs/emulator-fidelity.md "Rights per operation"): Data Reader
    # reads everything and writes nothing; Twin Contributor reads and writes twins and queries; Registry Contributor
    # manages device and module identities; only Data Contributor runs jobs and direct methods.
    It '<Role> may run exactly the steps its role grants' -ForEach @(
        @{ Role = 'IoT Hub Data Contributor'
            Allowed = @('New-IoTDevice', 'Get-IoTDevice', 'Get-IoTDeviceConnectionString', 'Set-IoTDevice', 'New-IoTModule', 'Get-IoTModule',
                'Get-IoTTwin', 'Get-IoTTwin -ModuleId', 'Search-IoTTwin', 'Set-IoTTwinDesired', 'Update-IoTTwinTag',
                'Start-IoTTwinUpdateJob', 'Get-IoTJob', 'Stop-IoTJob', 'Invoke-IoTDeviceMethod', 'Remove-IoTModule', 'Remove-IoTDevice')
            Refused = @() }
        @{ Role = 'IoT Hub Data Reader'
            Allowed = @('Get-IoTDevice', 'Get-IoTDeviceConnectionString', 'Get-IoTModule', 'Get-IoTTwin', 'Get-IoTTwin -ModuleId', 'Search-IoTTwin', 'Get-IoTJob')
            Refused = @('New-IoTDevice', 'Set-IoTDevice', 'New-IoTModule', 'Set-IoTTwinDesired', 'Update-IoTTwinTag', 'Start-IoTTwinUpdateJob',
                'Stop-IoTJob', 'Invoke-IoTDeviceMethod', 'Remove-IoTModule', 'Remove-IoTDevice') }
        @{ Role = 'IoT Hub Twin Contributor'
            Allowed = @('Get-IoTTwin', 'Get-IoTTwin -ModuleId', 'Search-IoTTwin', 'Set-IoTTwinDesired', 'Update-IoTTwinTag')
            Refused = @('New-IoTDevice', 'Get-IoTDevice', 'Get-IoTDeviceConnectionString', 'Set-IoTDevice', 'New-IoTModule', 'Get-IoTModule',
                'Start-IoTTwinUpdateJob', 'Get-IoTJob', 'Stop-IoTJob', 'Invoke-IoTDeviceMethod', 'Remove-IoTModule', 'Remove-IoTDevice') }
        @{ Role = 'IoT Hub Registry Contributor'
            Allowed = @('New-IoTDevice', 'Get-IoTDevice', 'Get-IoTDeviceConnectionString', 'Set-IoTDevice', 'New-IoTModule', 'Get-IoTModule',
                'Remove-IoTModule', 'Remove-IoTDevice')
            Refused = @('Get-IoTTwin', 'Get-IoTTwin -ModuleId', 'Search-IoTTwin', 'Set-IoTTwinDesired', 'Update-IoTTwinTag', 'Start-IoTTwinUpdateJob',
                'Get-IoTJob', 'Stop-IoTJob', 'Invoke-IoTDeviceMethod') }
    ) {
        $deviceId = 'entra-' + [guid]::NewGuid().ToString('N').Substring(0, 8)
        New-TwinTestDevice $script:hub $deviceId
        New-TwinTestModule $script:hub $deviceId 'm1'
        $jobId = New-ScheduledJob $deviceId
        $credential = Connect-AsRole $Role
        (Get-IoTHubConnection).AuthenticationType | Should -Be 'EntraId'

        # The refused steps first (a refused write must change nothing), then the allowed ones (removals last).
        $outcome = [ordered]@{}
        foreach ($step in $Refused) { $outcome[$step] = Invoke-BackendStep $step $deviceId $jobId $false }
        $twin = Get-TwinTestTwin $script:hub $deviceId
        if ($Refused -contains 'Update-IoTTwinTag') { $twin.tags.owner | Should -BeNullOrEmpty }
        if ($Refused -contains 'Set-IoTTwinDesired') { $twin.properties.desired.interval | Should -BeNullOrEmpty }
        if ($Refused -contains 'Stop-IoTJob') { (Invoke-TwinTestRest $script:hub GET "/jobs/v2/$jobId").status | Should -Not -Be 'cancelled' }
        if ($Refused -contains 'Remove-IoTModule') { $script:hub.Http.Send('GET', "/devices/$deviceId/modules/m1", $null).Status | Should -Be 200 }
        if ($Refused -contains 'New-IoTModule') { $script:hub.Http.Send('GET', "/devices/$deviceId/modules/m2", $null).Status | Should -Be 404 }
        foreach ($step in $Allowed) { $outcome[$step] = Invoke-BackendStep $step $deviceId $jobId $true }
        foreach ($step in $Allowed) { $outcome[$step] | Should -BeTrue -Because "$Role may run $step" }
        foreach ($step in $Refused) { $outcome[$step] | Should -Be 'IotHubUnauthorizedAccess' -Because "$Role may not run $step" }
        $credential.TokensIssued | Should -BeGreaterOrEqual 1
    }

    It 'reports a refusal as an authentication error that names the missing permission' {
        $null = Connect-AsRole 'IoT Hub Data Reader'
        $err = { New-IoTDevice -DeviceId 'entra-refused' -Confirm:$false -ErrorAction Stop } | Should -Throw -PassThru
        $err.FullyQualifiedErrorId | Should -BeLike 'IotHubUnauthorizedAccess,*'
        $err.CategoryInfo.Category | Should -Be 'AuthenticationError'
        $err.Exception.Message | Should -Match 'devices/write'
        $script:hub.Http.Send('GET', '/devices/entra-refused', $null).Status | Should -Be 404
    }
}

Describe 'Tokens the hub refuses, and token refresh' {
    It 'refuses an expired token at Connect-IoTHub' {
        $credential = [TwinPSTest.FixedTokenCredential]::new()
        $credential.Token = New-RawToken -Role 'IoT Hub Data Contributor' -LifetimeSeconds -60
        $err = { Connect-IoTHub -HostName $script:hubHost -Credential $credential -CACertificatePath $script:hub.caCertificatePath -NoSessionDefault } |
            Should -Throw -PassThru
        $err.FullyQualifiedErrorId | Should -BeLike 'IotHubUnauthorizedAccess,*'
        $err.Exception.Message | Should -Match 'expired'
        $err.Exception.Message | Should -Not -Match ([regex]::Escape($credential.Token))
        $credential.Scopes | Should -Be 'https://iothubs.azure.net/.default'
    }

    It 'refuses a token for another audience' {
        $credential = [TwinPSTest.FixedTokenCredential]::new()
        $credential.Token = New-RawToken -Role 'IoT Hub Data Contributor' -Audience 'https://management.azure.com'
        $err = { Connect-IoTHub -HostName $script:hubHost -Credential $credential -CACertificatePath $script:hub.caCertificatePath -NoSessionDefault } |
            Should -Throw -PassThru
        $err.FullyQualifiedErrorId | Should -BeLike 'IotHubUnauthorizedAccess,*'
        $err.Exception.Message | Should -Match 'audience'
    }

    It 'accepts a valid token from a TokenCredential of the session''s own Azure.Core copy' {
        $credential = [TwinPSTest.FixedTokenCredential]::new()
        $credential.Token = New-RawToken -Role 'IoT Hub Data Reader'
        $connection = Connect-IoTHub -HostName $script:hubHost -Credential $credential -CACertificatePath $script:hub.caCertificatePath -NoSessionDefault
        @(Get-IoTDevice -Connection $connection) | Should -Not -BeNullOrEmpty
        $credential.Calls | Should -BeGreaterOrEqual 1
    }

    It 'keeps working past the lifetime of its tokens: the credential is asked again and the emulator issues new ones' {
        $credential = Connect-AsRole 'IoT Hub Data Contributor' -Lifetime (New-TimeSpan -Seconds 2)
        $deviceId = 'entra-refresh-' + [guid]::NewGuid().ToString('N').Substring(0, 6)
        $null = New-IoTDevice -DeviceId $deviceId -Confirm:$false
        $first = $credential.TokensIssued
        # Every token issued so far has expired 2 s from now, and the emulator (--entra-clock-skew 0) refuses an
        # expired token at once: keep writing until then and for another lifetime, and until new tokens were issued.
        $allExpired = [DateTimeOffset]::UtcNow.AddSeconds(4)
        $state = @{ Writes = 0 }
        Wait-TwinTestCondition -What 'writes across two token lifetimes' {
            $state.Writes++
            Set-IoTTwinDesired -DeviceId $deviceId -Desired @{ counter = $state.Writes } -Force -Confirm:$false -ErrorAction Stop
            [DateTimeOffset]::UtcNow -gt $allExpired -and $credential.TokensIssued -ge $first + 2
        }
        (Get-IoTTwin -DeviceId $deviceId).Desired.counter | Should -Be $state.Writes
        $credential.TokensIssued | Should -BeGreaterOrEqual ($first + 2)
    }

    It 'never writes a token to any stream' {
        $credential = Connect-AsRole 'IoT Hub Data Reader' -Lifetime (New-TimeSpan -Seconds 5)
        $output = & {
            $VerbosePreference = 'Continue'; $DebugPreference = 'Continue'
            Connect-IoTHub -HostName $script:hubHost -Credential $credential -CACertificatePath $script:hub.caCertificatePath -NoSessionDefault
            $credential
            try { New-IoTDevice -DeviceId 'never-logged' -Confirm:$false -ErrorAction Stop } catch { $_ | Out-String }
        } *>&1 | Out-String
        $output | Should -Not -BeNullOrEmpty
        # Every token of the issuer is a JWT, and every JWT starts with the base64url of '{"' ('eyJ').
        $output | Should -Not -Match 'eyJ[A-Za-z0-9_-]{10,}'
    }
}

Describe 'New-IoTHubEmulatorCredential input' {
    It 'needs the emulator''s iothubowner connection string' {
        $service = $script:hub.policies.service
        { New-IoTHubEmulatorCredential -Role 'IoT Hub Data Reader' -ConnectionString $service -CACertificatePath $script:hub.caCertificatePath } |
            Should -Throw -ErrorId 'OwnerConnectionStringRequired,TwinPS.Commands.NewIoTHubEmulatorCredentialCommand'
    }

    It 'refuses an unknown role and a lifetime out of range before any request' {
        Assert-NoRequestSent $script:hub {
            { $script:hub | New-IoTHubEmulatorCredential -Role 'Owner' } | Should -Throw -ErrorId 'ParameterArgumentValidationError,TwinPS.Commands.NewIoTHubEmulatorCredentialCommand'
            { $script:hub | New-IoTHubEmulatorCredential -Role 'IoT Hub Data Reader' -Lifetime ([TimeSpan]::FromDays(2)) } |
                Should -Throw -ErrorId 'InvalidLifetime,TwinPS.Commands.NewIoTHubEmulatorCredentialCommand'
        }
    }

    It 'shows the roles and the emulator, never a token' {
        $credential = $script:hub | New-IoTHubEmulatorCredential -Role 'IoT Hub Twin Contributor', 'IoT Hub Data Reader'
        $credential.Roles | Should -Be @('IoT Hub Twin Contributor', 'IoT Hub Data Reader')
        $credential.HostName | Should -Be $script:hubHost
        $credential.TokensIssued | Should -Be 1
        "$credential" | Should -Match 'IoT Hub Twin Contributor'
        ($credential | Format-List * | Out-String) | Should -Not -Match 'eyJ'
    }
}

Describe 'Connect-IoTHub -Name' {
    It 'is short for the hub name plus .azure-devices.net, with Entra ID' {
        $credential = [TwinPSTest.FixedTokenCredential]::new()   # no token: fails before any network request
        $err = { Connect-IoTHub -Name 'contoso-hub' -Credential $credential -NoSessionDefault } | Should -Throw -PassThru
        $credential.Calls | Should -BeGreaterOrEqual 1
        $credential.Scopes | Should -Be 'https://iothubs.azure.net/.default'
        $err.Exception.Message | Should -Match ([regex]::Escape('contoso-hub.azure-devices.net'))
    }

    It 'refuses a name that is not a hub name' {
        { Connect-IoTHub -Name 'contoso.azure-devices.net' } | Should -Throw -ErrorId 'ParameterArgumentValidationError,TwinPS.Commands.ConnectIoTHubCommand'
    }

    It 'cannot be combined with -HubName, and -Hub still abbreviates -HubName alone' {
        { Connect-IoTHub -Name 'contoso-hub' -HubName 'other-hub' -NoSessionDefault } |
            Should -Throw -ErrorId 'AmbiguousParameterSet,TwinPS.Commands.ConnectIoTHubCommand'
        $connection = Connect-IoTHub -ConnectionString $script:hub.serviceConnectionString -CACertificatePath $script:hub.caCertificatePath -Hub 'renamed-hub' -NoSessionDefault
        $connection.HubName | Should -Be 'renamed-hub'
        $parameters = (Get-Command Connect-IoTHub).Parameters.Keys
        @($parameters | Where-Object { $_ -like 'Hub*' }) | Should -Be @('HubName')
        @($parameters | Where-Object { $_ -like 'Na*' }) | Should -Be @('Name')
    }
}

Describe 'The emulator credential in a session that loaded another Azure.Core first (fresh pwsh)' {
    It 'runs the scenario through New-IoTHubEmulatorCredential and through a credential of the other copy' {
        # Azure.Core 1.44.1 (as Az.Accounts brings) is loaded before TwinPS. The module's own credential and a
        # TokenCredential of the other copy (adapted by Connect-IoTHub) both reach this test's emulator.
        $older = Get-TwinTestNuGetFile 'azure.core/1.44.1/lib/net6.0/Azure.Core.dll'
        $deviceId = 'entra-foreign-' + [guid]::NewGuid().ToString('N').Substring(0, 6)
        New-TwinTestDevice $script:hub $deviceId
        $r = Invoke-TwinTestChild @'
param([string] $ModulePath, [string] $OtherAzureCore, [string] $CredentialSource, [string] $HostName, [string] $CAPath, [string] $Owner, [string] $Token, [string] $DeviceId)
$ErrorActionPreference = 'Stop'
Add-Type -Path $OtherAzureCore
# -IgnoreWarnings: CS1701, the old copy was built against an older System.Runtime (it binds to this one).
Add-Type -IgnoreWarnings -WarningAction SilentlyContinue -ReferencedAssemblies $OtherAzureCore -Path $CredentialSource
Import-Module $ModulePath
$result = [ordered]@{}
$credential = New-IoTHubEmulatorCredential -Role 'IoT Hub Twin Contributor' -ConnectionString $Owner -CACertificatePath $CAPath -Lifetime (New-TimeSpan -Seconds 2)
$null = Connect-IoTHub -HostName $credential.HostName -Credential $credential -CACertificatePath $CAPath
$deadline = [DateTime]::UtcNow.AddSeconds(5)
$writes = 0
while ([DateTime]::UtcNow -lt $deadline -or $credential.TokensIssued -lt 3) {
    $writes++
    Set-IoTTwinDesired -DeviceId $DeviceId -Desired @{ counter = $writes } -Force -Confirm:$false
    if ($writes -gt 10000) { throw 'no refresh' }
}
$result.Counter = (Get-IoTTwin -DeviceId $DeviceId).Desired.counter
$result.Writes = $writes
$result.TokensIssued = $credential.TokensIssued
$result.Refused = try { $null = New-IoTDevice -DeviceId "$DeviceId-x" -Confirm:$false; 'created' } catch { $_.FullyQualifiedErrorId }
$other = [SessionCopyCredential]::new()
$other.Token = $Token
$connection = Connect-IoTHub -HostName $credential.HostName -Credential $other -CACertificatePath $CAPath -NoSessionDefault
$result.OtherCopy = (Get-IoTDevice -DeviceId $DeviceId -Connection $connection).DeviceId
$result.OtherCopyVersion = [Azure.Core.TokenCredential].Assembly.GetName().Version.ToString()
$result | ConvertTo-Json -Compress
'@ @{
            ModulePath = $script:TwinTestModulePath; OtherAzureCore = $older; CredentialSource = $script:SessionCopyCredentialSource; HostName = $script:hubHost; CAPath = $script:hub.caCertificatePath
            Owner = $script:hub.serviceConnectionString; Token = (New-RawToken -Role 'IoT Hub Data Reader'); DeviceId = $deviceId
        }
        $r.OtherCopyVersion | Should -Be '1.44.1.0'
        $r.Counter | Should -Be $r.Writes
        $r.TokensIssued | Should -BeGreaterOrEqual 3
        $r.Refused | Should -BeLike 'IotHubUnauthorizedAccess,*'
        $r.OtherCopy | Should -Be $deviceId
    }
}
