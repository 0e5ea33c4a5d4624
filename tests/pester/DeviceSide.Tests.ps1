# The device side of TwinPS against a real emulator: Connect-IoTDevice, Get-IoTDeviceTwin, Update-IoTTwinReported,
# Wait-IoTTwinDesired, Disconnect-IoTDevice, together with the back-end cmdlets (the seed's scenario across both halves).

BeforeAll {
    . $PSScriptRoot/common.ps1
    $script:hub = Start-TwinTestHub

    function New-DeviceSideDevice {
        $id = 'ds-' + [guid]::NewGuid().ToString('N').Substring(0, 10)
        New-TwinTestDevice $script:hub $id
        $device = Invoke-TwinTestRest $script:hub GET "/devices/$id"
        [pscustomobject]@{
            Id               = $id
            Key              = $device.authentication.symmetricKey.primaryKey
            ConnectionString = "HostName=localhost;DeviceId=$id;SharedAccessKey=$($device.authentication.symmetricKey.primaryKey)"
        }
    }
}

AfterAll {
    Disconnect-IoTDevice -All
    Stop-TwinTestHub $script:hub
}

Describe 'Device side: the seed scenario across both halves' {
    It 'reports, receives the desired patch the back end sets, acknowledges it, and the back end finds it by a reported query' {
        $device = New-DeviceSideDevice
        # The CA comes from the session's hub connection (same host); the MQTT port is given.
        $session = Connect-IoTDevice -ConnectionString $device.ConnectionString -MqttPort $script:hub.mqttPort
        $session.Status | Should -Be 'Connected'
        $session.DeviceId | Should -Be $device.Id
        $session.pstypenames[0] | Should -Be 'TwinPS.DeviceSession'

        $twin = Get-IoTDeviceTwin -Session $session
        $twin.pstypenames[0] | Should -Be 'TwinPS.DeviceTwin'
        $twin.DesiredVersion | Should -Be 1 -Because 'a new twin has had no desired patch yet'
        $before = $twin.ReportedVersion

        $update = $session | Update-IoTTwinReported -Reported @{ temperature = 21.5; connectivity = 'cellular' } -PassThru
        # An object, not a bare number: which device reported what, and the version it got.
        $update | Should -HaveCount 1
        $update.pstypenames[0] | Should -Be 'TwinPS.ReportedUpdate'
        $update.DeviceId | Should -Be $device.Id
        $update.ReportedVersion | Should -Be ($before + 1)
        $update.Patch.connectivity | Should -BeExactly 'cellular'
        $update.Patch.temperature | Should -Be 21.5

        Set-IoTTwinDesired -DeviceId $device.Id -Desired @{ telemetryInterval = 5 } -Confirm:$false
        $patch = Wait-IoTTwinDesired -Session $session -Count 1 -Timeout $TwinTestTime.Eventually
        $patch | Should -HaveCount 1
        $patch.pstypenames[0] | Should -Be 'TwinPS.DesiredPatch'
        $patch.Properties.telemetryInterval | Should -Be 5
        $patch.IsSynthetic | Should -BeFalse
        $patch.DeviceId | Should -Be $device.Id

        Update-IoTTwinReported -Session $session -Reported @{ telemetryInterval = $patch.Properties.telemetryInterval; ack = @{ desiredVersion = $patch.Version } }

        $found = @(Search-IoTTwin -Query "SELECT * FROM devices WHERE properties.reported.connectivity = 'cellular'")
        $found.DeviceId | Should -Contain $device.Id
        $backend = Get-IoTTwin -DeviceId $device.Id
        $backend.Reported.temperature | Should -Be 21.5
        $backend.Reported.ack.desiredVersion | Should -Be $patch.Version
        $backend.ConnectionState | Should -Be 'Connected'

        $session | Disconnect-IoTDevice
        $session.Status | Should -Be 'Closed'
        { Get-IoTDeviceTwin -Session $session -ErrorAction Stop } | Should -Throw -ErrorId 'DeviceSessionClosed*'
    }

    It 'connects from Get-IoTDeviceConnectionString through the pipeline and reads desired values set before it connected' {
        $device = New-DeviceSideDevice
        Set-IoTTwinDesired -DeviceId $device.Id -Desired @{ mode = 'eco'; nested = @{ level = 3 } } -Confirm:$false
        $cs = Get-IoTDeviceConnectionString -DeviceId $device.Id -WarningAction SilentlyContinue
        $session = $cs | Connect-IoTDevice -MqttPort $script:hub.mqttPort
        try {
            $twin = $session | Get-IoTDeviceTwin
            $twin.Desired.mode | Should -Be 'eco'
            $twin.Desired.nested.level | Should -Be 3
            $twin.ToJson() | Should -Not -Match 'metadata'
        }
        finally { $session | Disconnect-IoTDevice }
    }

    It 'keeps a patch that arrived before Wait-IoTTwinDesired started, and -SkipPending drops it' {
        $device = New-DeviceSideDevice
        $session = Connect-IoTDevice -ConnectionString $device.ConnectionString -MqttPort $script:hub.mqttPort
        try {
            Set-IoTTwinDesired -DeviceId $device.Id -Desired @{ first = 1 } -Confirm:$false
            # The notification arrives (and is kept) before anyone waits.
            Wait-TwinTestCondition { $session.PendingDesiredCount -ge 1 } -What 'the first patch arriving'
            $session.PendingDesiredCount | Should -Be 1
            (Wait-IoTTwinDesired -Session $session -Count 1 -Timeout $TwinTestTime.Eventually).Properties.first | Should -Be 1
            $session.PendingDesiredCount | Should -Be 0

            Set-IoTTwinDesired -DeviceId $device.Id -Desired @{ second = 2 } -Confirm:$false
            # The second patch has arrived, so -SkipPending has something to drop (the check cannot pass vacuously).
            Wait-TwinTestCondition { $session.PendingDesiredCount -ge 1 } -What 'the second patch arriving'
            $session.PendingDesiredCount | Should -Be 1
            $none = Wait-IoTTwinDesired -Session $session -SkipPending -Timeout $TwinTestTime.Quiet
            $none | Should -BeNullOrEmpty
            $session.PendingDesiredCount | Should -Be 0 -Because '-SkipPending dropped the patch that had arrived'
        }
        finally { $session | Disconnect-IoTDevice }
    }

    It 'stops waiting at once when a downstream Select-Object -First has what it needs' {
        $device = New-DeviceSideDevice
        $session = Connect-IoTDevice -ConnectionString $device.ConnectionString -MqttPort $script:hub.mqttPort
        try {
            Set-IoTTwinDesired -DeviceId $device.Id -Desired @{ step = 1 } -Confirm:$false
            Wait-TwinTestCondition { $session.PendingDesiredCount -ge 1 } -What 'the patch arriving'
            # Measured from the moment the patch is there to take: without the stop, this would wait -Timeout (Never).
            $watch = [Diagnostics.Stopwatch]::StartNew()
            $first = $session | Wait-IoTTwinDesired -Timeout $TwinTestTime.Never | Select-Object -First 1
            $watch.Elapsed.TotalSeconds | Should -BeLessThan $TwinTestTime.Prompt
            $first.Properties.step | Should -Be 1
        }
        finally { $session | Disconnect-IoTDevice }
    }

    It 'reports a timeout when -Count patches do not arrive in time' {
        $device = New-DeviceSideDevice
        $session = Connect-IoTDevice -ConnectionString $device.ConnectionString -MqttPort $script:hub.mqttPort
        try {
            $watch = [Diagnostics.Stopwatch]::StartNew()
            $result = Wait-IoTTwinDesired -Session $session -Count 1 -Timeout $TwinTestTime.Quiet -ErrorVariable waitErrors -ErrorAction SilentlyContinue
            # -Timeout is honoured: not before it (a lower bound cannot flake), and not waiting for ever either.
            $watch.Elapsed.TotalSeconds | Should -BeGreaterOrEqual ($TwinTestTime.Quiet * 0.9)
            $watch.Elapsed.TotalSeconds | Should -BeLessThan $TwinTestTime.Prompt
            $result | Should -BeNullOrEmpty
            $waitErrors[0].FullyQualifiedErrorId | Should -BeLike 'WaitTimeout*'
            $waitErrors[0].CategoryInfo.Category | Should -Be 'OperationTimeout'
        }
        finally { $session | Disconnect-IoTDevice }
    }
}

Describe 'Device side: events' {
    It 'raises DesiredPropertiesReceived for Register-ObjectEvent' {
        $device = New-DeviceSideDevice
        $session = Connect-IoTDevice -ConnectionString $device.ConnectionString -MqttPort $script:hub.mqttPort
        $sourceId = 'twinps-desired-' + [guid]::NewGuid()
        $null = Register-ObjectEvent -InputObject $session -EventName DesiredPropertiesReceived -SourceIdentifier $sourceId
        try {
            Set-IoTTwinDesired -DeviceId $device.Id -Desired @{ fan = 'high' } -Confirm:$false
            $event = Wait-Event -SourceIdentifier $sourceId -Timeout $TwinTestTime.Eventually
            $event | Should -Not -BeNullOrEmpty
            $event.SourceEventArgs.Properties.fan | Should -Be 'high'
            $event.SourceEventArgs.Version | Should -BeGreaterThan 1
            $event.Sender.DeviceId | Should -Be $device.Id
        }
        finally {
            Unregister-Event -SourceIdentifier $sourceId -ErrorAction SilentlyContinue
            Remove-Event -SourceIdentifier $sourceId -ErrorAction SilentlyContinue
            $session | Disconnect-IoTDevice
        }
    }
}

Describe 'Device side: refusals' {
    It 'refuses an invalid reported key clearly and applies nothing' {
        $device = New-DeviceSideDevice
        $session = Connect-IoTDevice -ConnectionString $device.ConnectionString -MqttPort $script:hub.mqttPort
        try {
            $before = Get-TwinTestTwin $script:hub $device.Id
            $err = { Update-IoTTwinReported -Session $session -Reported @{ good = 1; 'bad.key' = 2 } -ErrorAction Stop } |
                Should -Throw -PassThru
            $err.FullyQualifiedErrorId | Should -BeLike 'ArgumentInvalid*'
            $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
            $err.Exception.Message | Should -Match 'bad\.key'
            $after = Get-TwinTestTwin $script:hub $device.Id
            $after.properties.reported.'$version' | Should -Be $before.properties.reported.'$version'
            $after.properties.reported.PSObject.Properties.Name | Should -Not -Contain 'good'
        }
        finally { $session | Disconnect-IoTDevice }
    }

    It 'fails fast with an authentication error for a wrong device key' {
        $device = New-DeviceSideDevice
        $wrongKey = [Convert]::ToBase64String([byte[]](1..32))
        # The hub's refusal (not a connect timeout, which would be another error id) ends the command.
        $err = { Connect-IoTDevice -ConnectionString "HostName=localhost;DeviceId=$($device.Id);SharedAccessKey=$wrongKey" -MqttPort $script:hub.mqttPort -ErrorAction Stop } |
            Should -Throw -PassThru
        $err.FullyQualifiedErrorId | Should -BeLike 'IotHubUnauthorizedAccess*'
        $err.CategoryInfo.Category | Should -Be 'AuthenticationError'
        $err.Exception.Message | Should -Not -Match ([regex]::Escape($wrongKey))
        $err.Exception.Message | Should -Not -Match 'sig='
    }

    It 'refuses a service connection string and a missing session clearly' {
        { Connect-IoTDevice -ConnectionString $script:hub.serviceConnectionString -ErrorAction Stop } |
            Should -Throw -ErrorId 'InvalidDeviceConnection*'
        Disconnect-IoTDevice -All
        { Get-IoTDeviceTwin -ErrorAction Stop } | Should -Throw -ErrorId 'NoDeviceSession*'
    }

    It 'supports -WhatIf without sending anything' {
        $device = New-DeviceSideDevice
        $session = Connect-IoTDevice -ConnectionString $device.ConnectionString -MqttPort $script:hub.mqttPort
        try {
            $lines = Get-TwinTestWhatIf { Update-IoTTwinReported -Session $session -Reported @{ x = 1 } -WhatIf }
            $lines | Should -Match 'Patch reported properties: \{"x":1\}'
            (Get-TwinTestTwin $script:hub $device.Id).properties.reported.PSObject.Properties.Name | Should -Not -Contain 'x'
        }
        finally { $session | Disconnect-IoTDevice }
    }
}

Describe 'Device side: module removal' {
    It 'closes open device sessions when the module is removed' {
        $device = New-DeviceSideDevice
        $script = @'
param($ModulePath, $ConnectionString, $MqttPort, $CaPath)
$ErrorActionPreference = 'Stop'
Import-Module $ModulePath
$session = Connect-IoTDevice -ConnectionString $ConnectionString -MqttPort $MqttPort -CACertificatePath $CaPath
$before = $session.Status
Remove-Module TwinPS
"$before -> $($session.Status)"
'@
        $file = Join-Path ([IO.Path]::GetTempPath()) ('twinps-remove-' + [guid]::NewGuid().ToString('N') + '.ps1')
        Set-Content -Path $file -Value $script
        try {
            # A fresh process of this same PowerShell (the pinned local tool runs as 'dotnet pwsh.dll').
            $self = [System.Diagnostics.Process]::GetCurrentProcess().MainModule.FileName
            [string[]] $pwshArgs = if ((Split-Path $self -Leaf) -like 'pwsh*') { @() } else { @(Join-Path $PSHOME 'pwsh.dll') }
            $output = & $self @pwshArgs -NoProfile -NonInteractive -File $file -ModulePath $script:TwinTestModulePath `
                -ConnectionString $device.ConnectionString -MqttPort $script:hub.mqttPort -CaPath $script:hub.caCertificatePath 2>&1
            ($output | Select-Object -Last 1) | Should -Be 'Connected -> Closed'
            Wait-TwinTestCondition { (Get-TwinTestTwin $script:hub $device.Id).connectionState -eq 'Disconnected' } -What 'the hub seeing the device disconnect'
        }
        finally { Remove-Item $file -ErrorAction SilentlyContinue }
    }
}

Describe 'Device side: the emulator stops under a connected session' {
    BeforeAll {
        # An emulator of our own with a data folder, so that it can come back on the same ports with the same devices.
        $script:dataFolder = Join-Path ([IO.Path]::GetTempPath()) ('twinps-ds-' + [guid]::NewGuid().ToString('N'))
        $moduleDir = Split-Path $script:TwinTestModulePath
        $script:emulatorDll = @(
            (Join-Path $moduleDir 'emulator/TwinPS.Emulator.dll'),
            (Join-Path $script:TwinTestRepoRoot 'src/TwinPS.Emulator/bin/Debug/net8.0/TwinPS.Emulator.dll')
        ) | Where-Object { Test-Path $_ } | Select-Object -First 1

        function Start-OwnEmulator([int] $HttpsPort, [int] $MqttPort) {
            $psi = [System.Diagnostics.ProcessStartInfo]::new('dotnet')
            foreach ($a in @($script:emulatorDll, '--https-port', $HttpsPort, '--mqtt-port', $MqttPort, '--data', $script:dataFolder)) { $psi.ArgumentList.Add([string] $a) }
            $psi.RedirectStandardOutput = $true
            $psi.RedirectStandardError = $true
            $psi.UseShellExecute = $false
            $process = [System.Diagnostics.Process]::Start($psi)
            $null = $process.StandardError.ReadToEndAsync()
            $line = $process.StandardOutput.ReadLineAsync()
            if (-not $line.Wait([TimeSpan]::FromSeconds($TwinTestTime.ProcessStart)) -or $null -eq $line.Result) { $process.Kill($true); throw 'emulator did not start' }
            $null = $process.StandardOutput.ReadToEndAsync()
            $ready = $line.Result | ConvertFrom-Json
            $ready | Add-Member -NotePropertyName Process -NotePropertyValue $process
            $ready
        }

        $script:own = Start-OwnEmulator 0 0
        $script:ownHub = Connect-IoTHub -ConnectionString $script:own.serviceConnectionString -CACertificatePath $script:own.caCertificatePath -NoSessionDefault
        $created = New-IoTDevice -DeviceId ('ds-restart-' + [guid]::NewGuid().ToString('N').Substring(0, 8)) -Connection $script:ownHub
        $script:restartDeviceId = $created.DeviceId
        $script:restartCs = Get-IoTDeviceConnectionString -DeviceId $created.DeviceId -Connection $script:ownHub -WarningAction SilentlyContinue
    }

    AfterAll {
        if ($script:own -and -not $script:own.Process.HasExited) { $script:own.Process.Kill($true) }
        Remove-Item $script:dataFolder -Recurse -Force -ErrorAction SilentlyContinue
    }

    It 'fails requests clearly while the hub is down and works again when it comes back' {
        $session = Connect-IoTDevice -ConnectionString $script:restartCs -MqttPort $script:own.mqttPort -CACertificatePath $script:own.caCertificatePath
        try {
            $session.Status | Should -Be 'Connected'
            $httpsPort = $script:own.httpsPort
            $mqttPort = $script:own.mqttPort
            $script:own.Process.Kill($true)
            $script:own.Process.WaitForExit($TwinTestTime.Eventually * 1000) | Should -BeTrue

            # The drop is noticed; requests then fail with 'not connected' (not an operation timeout) instead of hanging.
            Wait-TwinTestCondition { $session.Status -ne 'Connected' } -What 'the session noticing the drop'
            $session.Status | Should -Be 'Reconnecting'
            $err = { Update-IoTTwinReported -Session $session -Reported @{ during = 'outage' } -ErrorAction Stop } | Should -Throw -PassThru
            $err.FullyQualifiedErrorId | Should -BeLike 'ConnectionError*'
            $err.CategoryInfo.Category | Should -Be 'ConnectionError'
            $err.Exception.Message | Should -Match 'not connected'

            $script:own = Start-OwnEmulator $httpsPort $mqttPort
            Wait-TwinTestCondition { $session.Status -eq 'Connected' } -What 'the session reconnecting'
            (Update-IoTTwinReported -Session $session -Reported @{ after = 'outage' } -PassThru).ReportedVersion | Should -BeGreaterThan 1
            $backHub = Connect-IoTHub -ConnectionString $script:own.serviceConnectionString -CACertificatePath $script:own.caCertificatePath -NoSessionDefault
            (Get-IoTTwin -DeviceId $script:restartDeviceId -Connection $backHub).Reported.after | Should -Be 'outage'
        }
        finally { $session | Disconnect-IoTDevice }
    }
}
