# Connect-IoTHub, Disconnect-IoTHub, Get-IoTHubConnection, Start-/Stop-IoTHubEmulator against the BUILT module and
# a real emulator started by the cmdlet under test.
BeforeAll {
    . $PSScriptRoot/common.ps1

    function ConvertTo-Plain([securestring] $Secure) { ConvertFrom-SecureString -SecureString $Secure -AsPlainText }

    function Invoke-HubChildPwsh([string] $Script, [hashtable] $Environment) {
        # Runs $Script in a fresh pwsh (this same PowerShell) with extra environment variables; returns its output.
        $saved = @{}
        foreach ($name in $Environment.Keys) {
            $saved[$name] = [Environment]::GetEnvironmentVariable($name)
            [Environment]::SetEnvironmentVariable($name, $Environment[$name])
        }
        try {
            $self = [System.Diagnostics.Process]::GetCurrentProcess().MainModule.FileName
            $encoded = [Convert]::ToBase64String([System.Text.Encoding]::Unicode.GetBytes($Script))
            if ((Split-Path $self -Leaf) -like 'pwsh*') { & $self -NoProfile -NonInteractive -EncodedCommand $encoded }
            else { & $self (Join-Path $PSHOME 'pwsh.dll') -NoProfile -NonInteractive -EncodedCommand $encoded }
        }
        finally {
            foreach ($name in $saved.Keys) { [Environment]::SetEnvironmentVariable($name, $saved[$name]) }
        }
    }

    $script:emu = Start-IoTHubEmulator -InMemory
    $script:ownerCs = ConvertTo-Plain $emu.ServiceConnectionString
    $script:ownerKey = ($ownerCs -split ';' | Where-Object { $_ -like 'SharedAccessKey=*' }) -replace '^SharedAccessKey=', ''
    # Raw HTTPS for reading the emulator's request counter, independent of the module.
    $script:hub = [pscustomobject]@{ Http = [TwinPSTest.HubHttp]::new($ownerCs, $emu.CACertificatePath, $TwinTestTime.Eventually) }
    $env:IOTHUB_CONNECTION_STRING = $null
    $env:IOTHUB_CA_CERTIFICATE_PATH = $null
}

AfterAll {
    if ($script:hub) { $script:hub.Http.Dispose() }
    if ($script:emu) { $script:emu | Stop-IoTHubEmulator -Confirm:$false }
}

Describe 'Start-IoTHubEmulator' {
    It 'returns the running emulator with ports, CA and policies, and shows no key' {
        $emu.IsRunning | Should -BeTrue
        $emu.HttpsPort | Should -BeGreaterThan 0
        $emu.MqttPort | Should -BeGreaterThan 0
        $emu.HostName | Should -Be 'localhost'
        Test-Path $emu.CACertificatePath | Should -BeTrue
        $emu.ServiceConnectionString | Should -BeOfType [securestring]
        $emu.Policies | Should -Contain 'iothubowner'
        $emu.Policies | Should -Contain 'service'
        $emu.Policies | Should -Contain 'registryRead'
        $emu.DataPath | Should -BeNullOrEmpty
        (Get-Process -Id $emu.ProcessId).Id | Should -Be $emu.ProcessId

        $shown = ($emu | Format-List * | Out-String) + ($emu | Format-Table | Out-String) + ($emu | ConvertTo-Json) + "$emu"
        $shown | Should -Not -Match 'SharedAccessKey='
        $shown | Should -Not -Match ([regex]::Escape($ownerKey))
    }

    It 'fails clearly, with the emulator''s own message, when the port is taken' {
        $err = { Start-IoTHubEmulator -InMemory -HttpsPort $emu.HttpsPort -TimeoutSeconds 60 } |
            Should -Throw -ErrorId 'EmulatorStartFailed,TwinPS.Commands.StartIoTHubEmulatorCommand' -PassThru
        $err.Exception.Message | Should -Match 'exited|ready'
        $err.Exception.Message | Should -Not -Match 'SharedAccessKey=[A-Za-z0-9+/]'
    }

    It 'redacts a JSON key field in the emulator''s own message, as the client''s redactor does' {
        # The emulator quotes the data path it could not use; a key-shaped JSON field in it must not reach the error.
        $folder = Join-Path ([IO.Path]::GetTempPath()) ("twinps-redact-" + [guid]::NewGuid().ToString('N'))
        $null = New-Item -ItemType Directory -Path $folder
        try {
            $secret = [Convert]::ToBase64String([Text.Encoding]::UTF8.GetBytes('not-for-your-eyes'))
            $file = Join-Path $folder ('{"primaryKey":"' + $secret + '"}')
            $null = New-Item -ItemType File -Path $file
            $err = { Start-IoTHubEmulator -DataPath $file -TimeoutSeconds $TwinTestTime.ProcessStart } |
                Should -Throw -ErrorId 'EmulatorStartFailed,TwinPS.Commands.StartIoTHubEmulatorCommand' -PassThru
            $err.Exception.Message | Should -Match '"primaryKey"'  # the emulator's message is there ...
            ($err.Exception.Message + $err.ErrorDetails.Message + "$err") | Should -Not -Match ([regex]::Escape($secret))  # ... its key is not
        }
        finally { Remove-Item -LiteralPath $folder -Recurse -Force }
    }
}

Describe 'Connect-IoTHub' {
    AfterEach { Disconnect-IoTHub }

    It 'binds the emulator object by property name and becomes the session default' {
        $c = $emu | Connect-IoTHub
        $c | Should -BeOfType ([TwinPS.Models.IoTHubConnection])
        $c.HostName | Should -Be "localhost:$($emu.HttpsPort)"
        $c.PolicyName | Should -Be 'iothubowner'
        $c.AuthenticationType | Should -Be 'SharedAccessKey'
        $c.MqttPort | Should -Be $emu.MqttPort
        $c.CACertificatePath | Should -Be $emu.CACertificatePath
        Get-IoTHubConnection | Should -Be $c
        $shown = ($c | Format-List * | Out-String) + ($c | ConvertTo-Json) + "$c" + ($c | Get-Member -Force | Out-String)
        $shown | Should -Not -Match ([regex]::Escape($ownerKey))
    }

    It 'takes the connection string as a plain string' {
        $c = Connect-IoTHub -ConnectionString $ownerCs -CACertificatePath $emu.CACertificatePath
        $c.PolicyName | Should -Be 'iothubowner'
        $c.MqttPort | Should -BeNullOrEmpty
    }

    It 'takes the connection string as a SecureString' {
        $secure = ConvertTo-SecureString $ownerCs -AsPlainText -Force
        (Connect-IoTHub $secure -CACertificatePath $emu.CACertificatePath).PolicyName | Should -Be 'iothubowner'
    }

    It 'verifies with the <_> policy too' -ForEach @('service', 'registryRead', 'registryReadWrite') {
        $c = Connect-IoTHub -ConnectionString $emu.GetPolicyConnectionString($_) -CACertificatePath $emu.CACertificatePath
        $c.PolicyName | Should -Be $_
    }

    It 'reports a wrong key as an authentication error without the key, and keeps the old default' {
        $good = $emu | Connect-IoTHub
        $wrongKey = [Convert]::ToBase64String([byte[]](1..32))
        $wrong = $ownerCs -replace 'SharedAccessKey=[^;]+', "SharedAccessKey=$wrongKey"
        $err = { Connect-IoTHub -ConnectionString $wrong -CACertificatePath $emu.CACertificatePath } |
            Should -Throw -ErrorId 'IotHubUnauthorizedAccess,TwinPS.Commands.ConnectIoTHubCommand' -PassThru
        $err.CategoryInfo.Category | Should -Be 'AuthenticationError'
        ($err | Out-String) + $err.Exception.ToString() | Should -Not -Match ([regex]::Escape($wrongKey))
        Get-IoTHubConnection | Should -Be $good
    }

    It 'refuses a device connection string before any request' {
        $deviceCs = "HostName=localhost:$($emu.HttpsPort);DeviceId=dev1;SharedAccessKey=$ownerKey"
        Assert-NoRequestSent $hub {
            $err = { Connect-IoTHub -ConnectionString $deviceCs } |
                Should -Throw -ErrorId 'DeviceConnectionStringNotAllowed,TwinPS.Commands.ConnectIoTHubCommand' -PassThru
            $err.Exception.Message | Should -Match 'Connect-IoTDevice'
            $err.Exception.Message | Should -Not -Match ([regex]::Escape($ownerKey))
        }
    }

    It 'refuses a malformed connection string without echoing it' {
        $err = { Connect-IoTHub -ConnectionString "HostName=h;SharedAccessKeyName=p;SharedAccesKey=$ownerKey" } |
            Should -Throw -ErrorId 'InvalidConnectionString,TwinPS.Commands.ConnectIoTHubCommand' -PassThru
        $err.Exception.Message | Should -Not -Match ([regex]::Escape($ownerKey))
    }

    It 'refuses a -ConnectionString of another type' {
        { Connect-IoTHub -ConnectionString 42 } | Should -Throw -ErrorId 'InvalidConnectionStringType,TwinPS.Commands.ConnectIoTHubCommand'
    }

    It 'refuses a missing CA certificate file' {
        { Connect-IoTHub -ConnectionString $ownerCs -CACertificatePath (Join-Path $TestDrive 'nope.pem') } |
            Should -Throw -ErrorId 'CACertificateNotFound,TwinPS.Commands.ConnectIoTHubCommand'
    }

    It 'fails TLS without the emulator''s CA (validation is never switched off)' {
        { Connect-IoTHub -ConnectionString $ownerCs } |
            Should -Throw -ErrorId 'ConnectionError,TwinPS.Commands.ConnectIoTHubCommand' -ExpectedMessage '*TLS certificate*was not accepted*'
        Get-IoTHubConnection | Should -BeNullOrEmpty
    }

    It 'with -NoSessionDefault returns a connection but leaves the default alone' {
        $c = $emu | Connect-IoTHub -NoSessionDefault
        $c.PolicyName | Should -Be 'iothubowner'
        Get-IoTHubConnection | Should -BeNullOrEmpty
    }

    Context 'Microsoft Entra ID (-HostName)' {
        BeforeAll {
            # A copy of the module's own Azure.Core, loaded into the default context as a user's session would: a
            # different type from the one TwinPS uses in its own load context, which Connect-IoTHub adapts.
            $moduleDir = Join-Path (Split-Path (Get-Module TwinPS).Path) 'dependencies'
            if (-not ('TwinPSTest.StaticTokenCredential' -as [type])) {
                Add-Type -Path (Join-Path $moduleDir 'System.ClientModel.dll'), (Join-Path $moduleDir 'Azure.Core.dll')
                Add-Type -ReferencedAssemblies (Join-Path $moduleDir 'Azure.Core.dll'), (Join-Path $moduleDir 'System.ClientModel.dll'), 'System.Memory', 'System.Runtime', 'System.Threading', 'netstandard' -IgnoreWarnings -WarningAction SilentlyContinue -TypeDefinition @'
using System;
using System.Threading;
using System.Threading.Tasks;
using Azure.Core;
namespace TwinPSTest
{
    public sealed class StaticTokenCredential : TokenCredential
    {
        public int Calls;
        public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref Calls);
            return new AccessToken("not-a-real-token", DateTimeOffset.UtcNow.AddHours(1));
        }
        public override ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken)
            => new ValueTask<AccessToken>(GetToken(requestContext, cancellationToken));
    }
}
'@
                }
        }

        It 'refuses a -Credential that is not a TokenCredential' {
            { Connect-IoTHub -HostName "localhost:$($emu.HttpsPort)" -Credential 'not-a-credential' } |
                Should -Throw -ErrorId 'InvalidCredential,TwinPS.Commands.ConnectIoTHubCommand'
        }

        It 'refuses a host name with a scheme before any request' {
            $credential = [TwinPSTest.StaticTokenCredential]::new()
            { Connect-IoTHub -HostName 'https://contoso.azure-devices.net' -Credential $credential } |
                Should -Throw -ErrorId 'InvalidHostName,TwinPS.Commands.ConnectIoTHubCommand'
            $credential.Calls | Should -Be 0
        }

        It 'without -Credential uses DefaultAzureCredential and reports that no credential is available' {
            # Restrict DefaultAzureCredential to the environment credential (no variables set), so that nothing
            # outside this machine (such as a managed identity endpoint) is contacted.
            $saved = @{}
            foreach ($name in 'AZURE_TOKEN_CREDENTIALS', 'AZURE_CLIENT_ID', 'AZURE_TENANT_ID', 'AZURE_CLIENT_SECRET', 'AZURE_USERNAME') {
                $saved[$name] = [Environment]::GetEnvironmentVariable($name)
                [Environment]::SetEnvironmentVariable($name, $null)
            }
            $env:AZURE_TOKEN_CREDENTIALS = 'EnvironmentCredential'
            try {
                $err = { Connect-IoTHub -HostName "localhost:$($emu.HttpsPort)" -CACertificatePath $emu.CACertificatePath } |
                    Should -Throw -PassThru
                $err.FullyQualifiedErrorId | Should -BeExactly 'AuthenticationFailed,TwinPS.Commands.ConnectIoTHubCommand'
                $err.CategoryInfo.Category | Should -Be 'AuthenticationError'
                $err.Exception.Message | Should -Match 'Entra ID'
                Get-IoTHubConnection | Should -BeNullOrEmpty
            }
            finally {
                foreach ($name in $saved.Keys) { [Environment]::SetEnvironmentVariable($name, $saved[$name]) }
            }
        }

        It 'sends the token of a TokenCredential and reports the hub''s refusal as an authentication error' {
            $credential = [TwinPSTest.StaticTokenCredential]::new()
            $err = { Connect-IoTHub -HostName "localhost:$($emu.HttpsPort)" -Credential $credential -CACertificatePath $emu.CACertificatePath } |
                Should -Throw -PassThru
            $credential.Calls | Should -Be 1
            $err.FullyQualifiedErrorId | Should -BeExactly 'IotHubUnauthorizedAccess,TwinPS.Commands.ConnectIoTHubCommand'
            $err.CategoryInfo.Category | Should -Be 'AuthenticationError'
            $err.Exception.Message | Should -Not -Match 'not-a-real-token'
        }
    }
}

Describe 'Disconnect-IoTHub and resolution without a connection' {
    It 'forgets the default; data cmdlets then fail with NotConnected' {
        $c = $emu | Connect-IoTHub
        Disconnect-IoTHub -PassThru | Should -Be $c
        Get-IoTHubConnection | Should -BeNullOrEmpty
        { Get-IoTDevice -DeviceId x } | Should -Throw -ErrorId 'NotConnected,TwinPS.Commands.GetIoTDeviceCommand'
    }

    It 'an explicit -Connection works without a session default' {
        $c = $emu | Connect-IoTHub -NoSessionDefault
        $d = New-IoTDevice -DeviceId 'explicit-conn' -Connection $c
        $d.DeviceId | Should -Be 'explicit-conn'
    }

    It 'uses IOTHUB_CONNECTION_STRING (and IOTHUB_CA_CERTIFICATE_PATH) in a fresh session without Connect-IoTHub' {
        $script = @"
Import-Module '$script:TwinTestModulePath'
(Get-IoTHubConnection).PolicyName
(New-IoTDevice -DeviceId 'from-env').DeviceId
"@
        $out = Invoke-HubChildPwsh $script @{ IOTHUB_CONNECTION_STRING = $emu.GetPolicyConnectionString('registryReadWrite') | ConvertFrom-SecureString -AsPlainText; IOTHUB_CA_CERTIFICATE_PATH = $emu.CACertificatePath }
        $out | Should -Be @('registryReadWrite', 'from-env')
        (Get-IoTDevice -DeviceId 'from-env' -Connection ($emu | Connect-IoTHub -NoSessionDefault)).DeviceId | Should -Be 'from-env'
    }

    It 'explains a device connection string in IOTHUB_CONNECTION_STRING, without the key' {
        Disconnect-IoTHub
        $env:IOTHUB_CONNECTION_STRING = "HostName=h.azure-devices.net;DeviceId=d;SharedAccessKey=$ownerKey"
        try {
            $err = { Get-IoTDevice -DeviceId x } |
                Should -Throw -ErrorId 'InvalidConnectionStringEnvironment,TwinPS.Commands.GetIoTDeviceCommand' -PassThru
            $err.Exception.Message | Should -Not -Match ([regex]::Escape($ownerKey))
        }
        finally {
            $env:IOTHUB_CONNECTION_STRING = $null
        }
    }
}

Describe 'Stop-IoTHubEmulator' {
    It 'stops an emulator gracefully; -WhatIf does not; unknown process ids are refused' {
        $second = Start-IoTHubEmulator -InMemory
        $second | Stop-IoTHubEmulator -WhatIf
        $second.IsRunning | Should -BeTrue
        $stopped = Stop-IoTHubEmulator -ProcessId $second.ProcessId -PassThru -Confirm:$false
        $stopped.IsRunning | Should -BeFalse
        { Get-Process -Id $second.ProcessId -ErrorAction Stop } | Should -Throw -ErrorId 'NoProcessFoundForGivenId,Microsoft.PowerShell.Commands.GetProcessCommand'
        Stop-IoTHubEmulator -ProcessId $second.ProcessId -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -Be 'EmulatorNotFound,TwinPS.Commands.StopIoTHubEmulatorCommand'
    }

    It 'stops the emulators a runspace started when the runspace closes' {
        $ps = [powershell]::Create()
        try {
            $null = $ps.AddScript("Import-Module '$script:TwinTestModulePath'; (Start-IoTHubEmulator -InMemory).ProcessId")
            $emuPid = $ps.Invoke()[0]
            (Get-Process -Id $emuPid).Id | Should -Be $emuPid
        }
        finally {
            $ps.Runspace.Close(); $ps.Dispose()
        }
        Wait-TwinTestCondition { -not (Get-Process -Id $emuPid -ErrorAction SilentlyContinue) } -What "the emulator process $emuPid exiting"
    }

    It 'stops only the emulators of the runspace that removes the module' {
        $ps = [powershell]::Create()
        try {
            $null = $ps.AddScript("Import-Module '$script:TwinTestModulePath'; (Start-IoTHubEmulator -InMemory).ProcessId; Remove-Module TwinPS")
            $emuPid = $ps.Invoke()[0]
        }
        finally {
            $ps.Dispose()
        }
        Wait-TwinTestCondition { -not (Get-Process -Id $emuPid -ErrorAction SilentlyContinue) } -What "the emulator process $emuPid exiting"
        $emu.IsRunning | Should -BeTrue
    }
}

Describe 'A shared access policy of your own (Start-IoTHubEmulator -Policy)' {
    BeforeAll {
        # The device-twin article: a back end needs ServiceConnect to set desired properties and RegistryRead to
        # query; no default policy has exactly those two, so you create one.
        $script:own = Start-IoTHubEmulator -InMemory -Policy 'serviceAndRegistryRead=ServiceConnect,RegistryRead'
        $null = $own | Connect-IoTHub
        New-IoTDevice -DeviceId 'own-1', 'own-2' | Out-Null
    }

    AfterAll {
        Disconnect-IoTHub -ErrorAction SilentlyContinue
        if ($script:own) { $script:own | Stop-IoTHubEmulator -Confirm:$false }
    }

    It 'is listed and has a connection string of its own' {
        $own.Policies | Should -Contain 'serviceAndRegistryRead'
        $cs = ConvertTo-Plain $own.GetPolicyConnectionString('serviceAndRegistryRead')
        $cs | Should -Match ';SharedAccessKeyName=serviceAndRegistryRead;'
        $cs | Should -Not -Be (ConvertTo-Plain $own.ServiceConnectionString)
    }

    It 'runs the back-end twin scenario: set desired, then find the twin by a query' {
        $c = Connect-IoTHub -ConnectionString $own.GetPolicyConnectionString('serviceAndRegistryRead') -CACertificatePath $own.CACertificatePath -MqttPort $own.MqttPort
        $c.PolicyName | Should -Be 'serviceAndRegistryRead'
        Update-IoTTwinTag -DeviceId 'own-1' -Tag @{ location = @{ plant = 'Redmond43' } }
        Set-IoTTwinDesired -DeviceId 'own-1' -Desired @{ telemetryInterval = 30 }
        $found = @(Search-IoTTwin -Query "SELECT * FROM devices WHERE tags.location.plant = 'Redmond43' AND properties.desired.telemetryInterval = 30")
        $found.DeviceId | Should -Be @('own-1')
    }

    It 'cannot create devices (it has no RegistryWrite), and changes nothing' {
        $null = Connect-IoTHub -ConnectionString $own.GetPolicyConnectionString('serviceAndRegistryRead') -CACertificatePath $own.CACertificatePath
        { New-IoTDevice -DeviceId 'own-3' -ErrorAction Stop } | Should -Throw -ErrorId 'IotHubUnauthorizedAccess,TwinPS.Commands.NewIoTDeviceCommand'
        $null = $own | Connect-IoTHub
        { Get-IoTDevice -DeviceId 'own-3' -ErrorAction Stop } | Should -Throw -ErrorId 'DeviceNotFound*'
    }

    It 'is needed: the default service policy (ServiceConnect only) cannot query, as on a real hub' {
        $null = Connect-IoTHub -ConnectionString $own.GetPolicyConnectionString('service') -CACertificatePath $own.CACertificatePath
        Set-IoTTwinDesired -DeviceId 'own-2' -Desired @{ telemetryInterval = 5 }
        { Search-IoTTwin -Query 'SELECT * FROM devices' -ErrorAction Stop } | Should -Throw -ErrorId 'IotHubUnauthorizedAccess*'
    }

    It 'refuses a malformed -Policy before starting anything' {
        { Start-IoTHubEmulator -InMemory -Policy 'no rights here' } | Should -Throw -ErrorId 'ParameterArgumentValidationError*'
    }
}
