# Direct methods across both halves against a real emulator: Invoke-IoTDeviceMethod (back end), Wait-IoTDeviceMethod,
# Send-IoTDeviceMethodResponse and the session's MethodCalled event (device), module identities and module sessions.

BeforeAll {
    . $PSScriptRoot/common.ps1
    $script:hub = Start-TwinTestHub

    function New-MethodDevice {
        $id = 'dm-' + [guid]::NewGuid().ToString('N').Substring(0, 10)
        New-TwinTestDevice $script:hub $id
        $device = Invoke-TwinTestRest $script:hub GET "/devices/$id"
        [pscustomobject]@{
            Id               = $id
            ConnectionString = "HostName=localhost;DeviceId=$id;SharedAccessKey=$($device.authentication.symmetricKey.primaryKey)"
        }
    }

    function Connect-MethodDevice($Device) {
        Connect-IoTDevice -ConnectionString $Device.ConnectionString -MqttPort $script:hub.mqttPort
    }

    function Start-Answerer($Session, [int] $Count, [int] $Status = 200) {
        # A device loop in a background runspace: answers $Count calls with the method name and payload echoed.
        $ps = [powershell]::Create()
        $null = $ps.AddScript({
                param($modulePath, $session, $count, $status)
                Import-Module $modulePath
                Wait-IoTDeviceMethod -Session $session -Count $count -Timeout 60 | ForEach-Object {
                    $_ | Send-IoTDeviceMethodResponse -Status $status -Payload @{ method = $_.MethodName; echo = $_.Payload; device = $_.DeviceId; module = $_.ModuleId }
                }
            }).AddArgument($script:TwinTestModulePath).AddArgument($Session).AddArgument($Count).AddArgument($Status)
        [pscustomobject]@{ PowerShell = $ps; Handle = $ps.BeginInvoke() }
    }

    function Wait-Answerer($Answerer) {
        $null = $Answerer.PowerShell.EndInvoke($Answerer.Handle)
        $errors = @($Answerer.PowerShell.Streams.Error)
        $Answerer.PowerShell.Dispose()
        $errors | Should -HaveCount 0
    }
}

AfterAll {
    Disconnect-IoTDevice -All
    Stop-TwinTestHub $script:hub
}

Describe 'Invoke-IoTDeviceMethod with a TwinPS device answering' {
    It 'returns the status and payload the device answered, as objects' {
        $device = New-MethodDevice
        $session = Connect-MethodDevice $device
        try {
            $answerer = Start-Answerer $session 1 201
            $result = Invoke-IoTDeviceMethod -DeviceId $device.Id -MethodName reboot -Payload @{ delay = 5; tags = @('a', 'b') }
            Wait-Answerer $answerer

            $result | Should -HaveCount 1
            $result.pstypenames[0] | Should -Be 'TwinPS.MethodResult'
            $result.DeviceId | Should -Be $device.Id
            $result.ModuleId | Should -BeNullOrEmpty
            $result.MethodName | Should -Be 'reboot'
            $result.Status | Should -Be 201
            $result.Payload.method | Should -Be 'reboot'
            $result.Payload.echo.delay | Should -Be 5
            $result.Payload.echo.tags | Should -Be @('a', 'b')
            $session.MethodCallsReceived | Should -Be 1
        }
        finally { $session | Disconnect-IoTDevice }
    }

    It 'takes JSON text, scalars and no payload' {
        $device = New-MethodDevice
        $session = Connect-MethodDevice $device
        try {
            $answerer = Start-Answerer $session 3
            $json = Invoke-IoTDeviceMethod $device.Id setConfig '{"level":3,"names":["x"]}'
            $scalar = Invoke-IoTDeviceMethod $device.Id setLevel 7
            $none = Invoke-IoTDeviceMethod $device.Id ping
            Wait-Answerer $answerer

            $json.Payload.echo.level | Should -Be 3
            $json.Payload.echo.names | Should -Be @('x')
            $scalar.Payload.echo | Should -Be 7
            $none.Payload.echo | Should -BeNullOrEmpty
            $none.PayloadJson() | Should -Match '"echo":null'
        }
        finally { $session | Disconnect-IoTDevice }
    }

    It 'calls devices piped from Search-IoTTwin and Get-IoTDevice by property name, one result each' {
        $tag = 'grp' + [guid]::NewGuid().ToString('N').Substring(0, 8)
        $devices = @(New-MethodDevice; New-MethodDevice)
        foreach ($d in $devices) { $null = Set-TwinTestTwin $script:hub $d.Id @{ tags = @{ methodGroup = $tag } } }
        $sessions = @($devices | ForEach-Object { Connect-MethodDevice $_ })
        try {
            $answerers = @($sessions | ForEach-Object { Start-Answerer $_ 2 })
            $fromSearch = @(Search-IoTTwin -Tag @{ methodGroup = $tag } | Invoke-IoTDeviceMethod -MethodName status -ThrottleLimit 2)
            $fromDevices = @(Get-IoTDevice -DeviceId $devices.Id | Invoke-IoTDeviceMethod -MethodName status)
            $answerers | ForEach-Object { Wait-Answerer $_ }

            ($fromSearch.DeviceId | Sort-Object) | Should -Be ($devices.Id | Sort-Object)
            ($fromDevices.DeviceId | Sort-Object) | Should -Be ($devices.Id | Sort-Object)
            $fromSearch.Status | Should -Be @(200, 200)
        }
        finally { $sessions | Disconnect-IoTDevice }
    }

    It 'calls a device piped from Get-IoTTwin with a PSCustomObject payload' {
        $device = New-MethodDevice
        $session = Connect-MethodDevice $device
        try {
            $answerer = Start-Answerer $session 1
            $payload = [pscustomobject]@{ level = 4; names = @('x', 'y'); nested = [pscustomobject]@{ on = $true } }
            $result = @(Get-IoTTwin -DeviceId $device.Id | Invoke-IoTDeviceMethod -MethodName configure -Payload $payload)
            Wait-Answerer $answerer

            $result | Should -HaveCount 1
            $result[0].DeviceId | Should -Be $device.Id
            $result[0].Status | Should -Be 200
            $result[0].Payload.method | Should -Be 'configure'
            $result[0].Payload.echo.level | Should -Be 4
            $result[0].Payload.echo.names | Should -Be @('x', 'y')
            $result[0].Payload.echo.nested.on | Should -BeTrue
        }
        finally { $session | Disconnect-IoTDevice }
    }

    It 'raises the MethodCalled event (Register-ObjectEvent) with the call to answer' {
        $device = New-MethodDevice
        $session = Connect-MethodDevice $device
        $sourceId = 'methods-' + $device.Id
        try {
            $null = Register-ObjectEvent -InputObject $session -EventName MethodCalled -SourceIdentifier $sourceId
            # The back end calls from another runspace (as another process would) while this one serves events.
            $ps = [powershell]::Create()
            $null = $ps.AddScript({
                    param($modulePath, $connection, $deviceId)
                    Import-Module $modulePath
                    Invoke-IoTDeviceMethod -Connection $connection -DeviceId $deviceId -MethodName blink -ResponseTimeout 30
                }).AddArgument($script:TwinTestModulePath).AddArgument($script:hub.Connection).AddArgument($device.Id)
            $handle = $ps.BeginInvoke()
            $event = Wait-Event -SourceIdentifier $sourceId -Timeout 30
            $event | Should -Not -BeNullOrEmpty
            $call = $event.SourceEventArgs
            $call.pstypenames | Should -Contain 'TwinPS.Models.DeviceMethodCall'
            $call.MethodName | Should -Be 'blink'
            $call | Send-IoTDeviceMethodResponse -Status 202 -Payload @{ via = 'event' }
            $result = @($ps.EndInvoke($handle))
            $ps.Dispose()
            $result | Should -HaveCount 1
            $result[0].Status | Should -Be 202
            $result[0].Payload.via | Should -Be 'event'
            $call.Answered | Should -BeTrue
            # The call was answered: a later loop does not see it again.
            @(Wait-IoTDeviceMethod -Session $session -Timeout 1) | Should -HaveCount 0
        }
        finally {
            Unregister-Event -SourceIdentifier $sourceId -ErrorAction SilentlyContinue
            Remove-Event -SourceIdentifier $sourceId -ErrorAction SilentlyContinue
            $session | Disconnect-IoTDevice
        }
    }

    It 'answers by request id with -Session and -RequestId' {
        $device = New-MethodDevice
        $session = Connect-MethodDevice $device
        try {
            $ps = [powershell]::Create()
            $null = $ps.AddScript({
                    param($modulePath, $session)
                    Import-Module $modulePath
                    $call = Wait-IoTDeviceMethod -Session $session -Count 1 -Timeout 60
                    Send-IoTDeviceMethodResponse -Session $session -RequestId $call.RequestId -Status 404 -Payload '{"error":"no such sensor"}'
                }).AddArgument($script:TwinTestModulePath).AddArgument($session)
            $handle = $ps.BeginInvoke()
            $result = Invoke-IoTDeviceMethod -DeviceId $device.Id -MethodName readSensor
            $null = $ps.EndInvoke($handle)
            $ps.Dispose()
            $result.Status | Should -Be 404
            $result.Payload.error | Should -Be 'no such sensor'
        }
        finally { $session | Disconnect-IoTDevice }
    }
}

Describe 'Invoke-IoTDeviceMethod failures' {
    It 'reports an offline device as DeviceNotOnline (404103) targeted at it, and still calls the others' {
        $offline = New-MethodDevice
        $online = New-MethodDevice
        $session = Connect-MethodDevice $online
        try {
            $answerer = Start-Answerer $session 1
            $results = @(Invoke-IoTDeviceMethod -DeviceId $offline.Id, $online.Id -MethodName reboot -ErrorVariable failures -ErrorAction SilentlyContinue)
            Wait-Answerer $answerer

            $results.DeviceId | Should -Be @($online.Id)
            $failures | Should -HaveCount 1
            $failures[0].FullyQualifiedErrorId | Should -BeLike 'DeviceNotOnline*'
            $failures[0].TargetObject | Should -Be $offline.Id
            $failures[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
            $failures[0].Exception.NumericCode | Should -Be 404103
        }
        finally { $session | Disconnect-IoTDevice }
    }

    It 'reports a device that does not answer as GatewayTimeout (504101) and does not call it twice' {
        $device = New-MethodDevice
        $session = Connect-MethodDevice $device
        try {
            { Invoke-IoTDeviceMethod -DeviceId $device.Id -MethodName reboot -ResponseTimeout 5 -ErrorAction Stop } |
                Should -Throw -ErrorId 'GatewayTimeout*'
            $err = $Error[0]
            $err.TargetObject | Should -Be $device.Id
            $err.CategoryInfo.Category | Should -Be 'OperationTimeout'
            # Exactly one call reached the device: a 504 is never retried (the method may have run).
            $session.MethodCallsReceived | Should -Be 1
            $calls = @(Wait-IoTDeviceMethod -Session $session -Timeout 2)
            $calls | Should -HaveCount 1
            $calls[0].MethodName | Should -Be 'reboot'
        }
        finally { $session | Disconnect-IoTDevice }
    }

    It 'refuses a payload over 128 KB before any request (MessageTooLarge)' {
        $device = New-MethodDevice
        $big = @{ blob = 'x' * (128 * 1024) }
        Assert-NoRequestSent $script:hub {
            { Invoke-IoTDeviceMethod -DeviceId $device.Id -MethodName upload -Payload $big -ErrorAction Stop } |
                Should -Throw -ErrorId 'MessageTooLarge*'
        }
    }

    It 'refuses a connect timeout longer than the response timeout, and malformed JSON, before any request' {
        $device = New-MethodDevice
        Assert-NoRequestSent $script:hub {
            { Invoke-IoTDeviceMethod -DeviceId $device.Id -MethodName m -ResponseTimeout 10 -ConnectTimeout 20 -ErrorAction Stop } |
                Should -Throw -ErrorId 'ArgumentInvalid*'
            { Invoke-IoTDeviceMethod -DeviceId $device.Id -MethodName m -Payload '{"broken":' -ErrorAction Stop } |
                Should -Throw -ErrorId 'InvalidJson*'
        }
        { Invoke-IoTDeviceMethod -DeviceId $device.Id -MethodName m -ResponseTimeout 301 } | Should -Throw -ErrorId 'ParameterArgumentValidationError*'
    }

    It 'reports an unknown device as DeviceNotFound and -WhatIf calls nobody' {
        $missing = 'nobody-' + [guid]::NewGuid().ToString('N').Substring(0, 8)
        { Invoke-IoTDeviceMethod -DeviceId $missing -MethodName m -ErrorAction Stop } | Should -Throw -ErrorId 'DeviceNotFound*'
        $device = New-MethodDevice
        $lines = @(Get-TwinTestWhatIf { Invoke-IoTDeviceMethod -DeviceId $device.Id -MethodName reboot -WhatIf })
        $lines | Should -HaveCount 1
        $lines[0] | Should -Match 'reboot'
        $lines[0] | Should -Match $device.Id
    }

    It 'Wait-IoTDeviceMethod reports a timeout when -Count calls do not arrive' {
        $device = New-MethodDevice
        $session = Connect-MethodDevice $device
        try {
            $calls = @(Wait-IoTDeviceMethod -Session $session -Count 1 -Timeout 1 -ErrorVariable waitErrors -ErrorAction SilentlyContinue)
            $calls | Should -HaveCount 0
            $waitErrors[0].FullyQualifiedErrorId | Should -BeLike 'WaitTimeout*'
        }
        finally { $session | Disconnect-IoTDevice }
    }

    It 'Send-IoTDeviceMethodResponse refuses an answer over 128 KB' {
        $device = New-MethodDevice
        $session = Connect-MethodDevice $device
        try {
            { Send-IoTDeviceMethodResponse -Session $session -RequestId 1 -Payload @{ blob = 'x' * (128 * 1024) } -ErrorAction Stop } |
                Should -Throw -ErrorId 'MessageTooLarge*'
        }
        finally { $session | Disconnect-IoTDevice }
    }
}

Describe 'Waiting on several sessions' {
    It 'Wait-IoTDeviceMethod and Wait-IoTTwinDesired return what every session holds, not one per ready moment' {
        $devices = @(New-MethodDevice; New-MethodDevice)
        $sessions = @($devices | ForEach-Object { Connect-MethodDevice $_ })
        try {
            $null = Invoke-IoTDeviceMethod -DeviceId $devices.Id -MethodName queued -ResponseTimeout 5 -ThrottleLimit 2 -ErrorVariable timeouts -ErrorAction SilentlyContinue
            $timeouts | Should -HaveCount 2
            foreach ($d in $devices) { Set-IoTTwinDesired -DeviceId $d.Id -Desired @{ both = $d.Id } -Confirm:$false }
            # Both sessions already hold an item when the waits start.
            $deadline = [DateTime]::UtcNow.AddSeconds(15)
            while (($sessions | Where-Object PendingDesiredCount -lt 1) -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 100 }
            $calls = @(Wait-IoTDeviceMethod -Session $sessions -Count 2 -Timeout 10)
            ($calls.DeviceId | Sort-Object) | Should -Be ($devices.Id | Sort-Object)
            $patches = @(Wait-IoTTwinDesired -Session $sessions -Count 2 -Timeout 10)
            ($patches.DeviceId | Sort-Object) | Should -Be ($devices.Id | Sort-Object)
        }
        finally { $sessions | Disconnect-IoTDevice }
    }
}

Describe 'Module identities and module sessions' {
    It 'New-IoTModule, Get-IoTModule (one and all), Remove-IoTModule' {
        $device = New-MethodDevice
        $created = @('mod-a', 'mod-b' | New-IoTModule -DeviceId $device.Id -Confirm:$false)
        $created | Should -HaveCount 2
        $created[0].pstypenames[0] | Should -Be 'TwinPS.Module'
        ($created | Out-String) | Should -Not -Match 'SharedAccessKey|primaryKey'

        (Get-IoTModule -DeviceId $device.Id).ModuleId | Sort-Object | Should -Be @('mod-a', 'mod-b')
        $one = Get-IoTModule -DeviceId $device.Id -ModuleId mod-a
        $one.ModuleId | Should -Be 'mod-a'
        $one.ETag | Should -Not -BeNullOrEmpty

        { New-IoTModule -DeviceId $device.Id -ModuleId mod-a -Confirm:$false -ErrorAction Stop } | Should -Throw -ErrorId 'ModuleAlreadyExistsOnDevice*'
        @(Get-TwinTestWhatIf { $one | Remove-IoTModule -WhatIf }) | Should -HaveCount 1
        @(Get-IoTModule -DeviceId $device.Id) | Should -HaveCount 2

        $one | Remove-IoTModule -Confirm:$false
        Remove-IoTModule -DeviceId $device.Id -ModuleId mod-b -Force
        @(Get-IoTModule -DeviceId $device.Id) | Should -HaveCount 0
        { Get-IoTModule -DeviceId $device.Id -ModuleId mod-a -ErrorAction Stop } | Should -Throw -ErrorId 'ModuleNotFound*'
    }

    It 'a module session reports, receives desired patches and answers methods end to end' {
        $device = New-MethodDevice
        $null = New-IoTModule -DeviceId $device.Id -ModuleId telemetry -Confirm:$false
        $cs = Get-IoTDeviceConnectionString -DeviceId $device.Id -ModuleId telemetry -WarningAction SilentlyContinue
        $cs | Should -Match ';ModuleId=telemetry;'
        $session = $cs | Connect-IoTDevice -MqttPort $script:hub.mqttPort
        try {
            $session.ModuleId | Should -Be 'telemetry'
            Update-IoTTwinReported -Session $session -Reported @{ rate = 10 }
            (Get-IoTTwin -DeviceId $device.Id -ModuleId telemetry).Reported.rate | Should -Be 10
            (Get-IoTTwin -DeviceId $device.Id).Reported.rate | Should -BeNullOrEmpty

            Set-IoTTwinDesired -DeviceId $device.Id -ModuleId telemetry -Desired @{ rate = 20 } -Confirm:$false
            $patch = Wait-IoTTwinDesired -Session $session -Count 1 -Timeout 15
            $patch.Properties.rate | Should -Be 20
            $patch.ModuleId | Should -Be 'telemetry'

            $answerer = Start-Answerer $session 1
            $result = Get-IoTModule -DeviceId $device.Id -ModuleId telemetry | Invoke-IoTDeviceMethod -MethodName flush -Payload @{ force = $true }
            Wait-Answerer $answerer
            $result.ModuleId | Should -Be 'telemetry'
            $result.Payload.module | Should -Be 'telemetry'
            $result.Payload.echo.force | Should -BeTrue

            # The device itself has no session: a call to the device is DeviceNotOnline, not routed to the module.
            { Invoke-IoTDeviceMethod -DeviceId $device.Id -MethodName flush -ErrorAction Stop } | Should -Throw -ErrorId 'DeviceNotOnline*'
        }
        finally { $session | Disconnect-IoTDevice }
    }
}
