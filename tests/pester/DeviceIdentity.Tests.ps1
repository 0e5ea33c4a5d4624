# New-/Get-/Set-/Remove-IoTDevice and Get-IoTDeviceConnectionString against the BUILT module and a real emulator.
BeforeAll {
    . $PSScriptRoot/common.ps1
    $env:IOTHUB_CONNECTION_STRING = $null
    $script:hub = Start-TwinTestHub
    $script:thumb1 = 'A1' * 20
    $script:thumb2 = 'b2' * 32
    function New-Key { [Convert]::ToBase64String([byte[]](Get-Random -Count 32 -Minimum 0 -Maximum 256)) }
    function Get-Raw([string] $Id) { $hub.Http.Send('GET', "/devices/$([uri]::EscapeDataString($Id))", $null) }
}

AfterAll {
    Disconnect-IoTHub
    Stop-TwinTestHub $script:hub
}

Describe 'New-IoTDevice' {
    It 'creates many devices concurrently with hub-generated keys that are never shown' {
        $ids = 1..12 | ForEach-Object { "new-$_" }
        $devices = New-IoTDevice -DeviceId $ids -ThrottleLimit 6
        $devices | Should -HaveCount 12
        ($devices.DeviceId | Sort-Object) | Should -Be ($ids | Sort-Object)
        $d = $devices[0]
        $d.PSObject.TypeNames[0] | Should -Be 'TwinPS.Device'
        $d.Status | Should -Be 'enabled'
        $d.AuthenticationType | Should -Be 'sas'
        $d.ETag | Should -Not -BeNullOrEmpty
        $key = $d.GetPrimaryKey()
        [Convert]::FromBase64String($key).Length | Should -BeGreaterOrEqual 16
        $d.GetSecondaryKey() | Should -Not -Be $key
        $shown = ($devices | Format-Table | Out-String) + ($d | Format-List * | Out-String) + ($d | ConvertTo-Json) + "$d" + $d.ToJson()
        $shown | Should -Not -Match ([regex]::Escape($key))
        foreach ($id in $ids) { (Get-Raw $id).Status | Should -Be 200 }
    }

    It 'creates from piped ids' {
        ('pipe-1', 'pipe-2' | New-IoTDevice).DeviceId | Sort-Object | Should -Be @('pipe-1', 'pipe-2')
    }

    It 'uses given symmetric keys' {
        $k1 = New-Key; $k2 = New-Key
        $d = New-IoTDevice -DeviceId 'given-keys' -PrimaryKey $k1 -SecondaryKey $k2
        $d.GetPrimaryKey() | Should -Be $k1
        $d.GetSecondaryKey() | Should -Be $k2
    }

    It 'creates X.509 devices with thumbprints' {
        $d = New-IoTDevice -DeviceId 'x509-dev' -PrimaryThumbprint $thumb1 -SecondaryThumbprint $thumb2
        $d.AuthenticationType | Should -Be 'selfSigned'
        $d.PrimaryThumbprint | Should -Be $thumb1
        $d.GetPrimaryKey() | Should -BeNullOrEmpty
    }

    It 'creates disabled IoT Edge devices with a status reason' {
        $d = New-IoTDevice -DeviceId 'edge-dev' -EdgeEnabled -Status Disabled -StatusReason 'waiting for install'
        $d.IsEdge | Should -BeTrue
        $d.Status | Should -Be 'disabled'
        $d.StatusReason | Should -Be 'waiting for install'
        (Get-TwinTestTwin $hub 'edge-dev').capabilities.iotEdge | Should -BeTrue
    }

    It 'refuses <Name> before any request' -ForEach @(
        @{ Name = 'an invalid id'; Params = @{ DeviceId = 'bad/id' }; ErrorId = 'ArgumentInvalid,TwinPS.Commands.NewIoTDeviceCommand'; Message = "*'bad/id' contains the character '/'*" }
        @{ Name = 'one key of two'; Params = @{ DeviceId = 'k'; PrimaryKey = [Convert]::ToBase64String([byte[]](1..32)) }; ErrorId = 'IncompleteKeyPair,TwinPS.Commands.NewIoTDeviceCommand'; Message = '*both -PrimaryKey and -SecondaryKey*' }
        @{ Name = 'a key that is not base64'; Params = @{ DeviceId = 'k'; PrimaryKey = 'not base64!'; SecondaryKey = 'not base64!' }; ErrorId = 'ArgumentInvalid,TwinPS.Commands.NewIoTDeviceCommand'; Message = '*-PrimaryKey is not valid base64*' }
        @{ Name = 'a thumbprint with separators'; Params = @{ DeviceId = 'k'; PrimaryThumbprint = ('AB:' * 19) + 'AB' }; ErrorId = 'ArgumentInvalid,TwinPS.Commands.NewIoTDeviceCommand'; Message = '*-PrimaryThumbprint*40 or 64 hexadecimal characters with no separators*' }
        @{ Name = 'a 129-character status reason'; Params = @{ DeviceId = 'k'; StatusReason = 'r' * 129 }; ErrorId = 'ParameterArgumentValidationError,TwinPS.Commands.NewIoTDeviceCommand'; Message = "*parameter 'StatusReason'*" }
    ) {
        Assert-NoRequestSent $hub {
            $a = $Params
            $errors = @()
            try { New-IoTDevice @a -ErrorAction SilentlyContinue -ErrorVariable errors } catch { $errors = @($_) }
            $errors | Should -HaveCount 1
            $errors[0].FullyQualifiedErrorId | Should -BeExactly $ErrorId
            $errors[0].Exception.Message | Should -BeLike $Message
        }
        (Get-Raw 'k').Status | Should -Be 404
    }

    It 'writes a non-terminating DeviceAlreadyExists error and still creates the others' {
        $null = New-IoTDevice -DeviceId 'dup-1'
        $out = New-IoTDevice -DeviceId 'dup-1', 'dup-2' -ErrorVariable err -ErrorAction SilentlyContinue
        $out.DeviceId | Should -Be 'dup-2'
        $err | Should -HaveCount 1
        $err[0].FullyQualifiedErrorId | Should -Be 'DeviceAlreadyExists,TwinPS.Commands.NewIoTDeviceCommand'
        $err[0].CategoryInfo.Category | Should -Be 'ResourceExists'
        $err[0].TargetObject | Should -Be 'dup-1'
    }

    It 'creates nothing with -WhatIf' {
        $lines = Get-TwinTestWhatIf { New-IoTDevice -DeviceId 'whatif-new' -WhatIf }
        $lines | Should -Match "whatif-new"
        (Get-Raw 'whatif-new').Status | Should -Be 404
    }
}

Describe 'Get-IoTDevice' {
    BeforeAll { $null = New-IoTDevice -DeviceId 'get-1', 'get-2', 'get-3' }

    It 'gets devices by id and from piped strings, with their keys' {
        $d = Get-IoTDevice -DeviceId 'get-1'
        $d.DeviceId | Should -Be 'get-1'
        $d.GetPrimaryKey() | Should -Not -BeNullOrEmpty
        ('get-2', 'get-3' | Get-IoTDevice).DeviceId | Sort-Object | Should -Be @('get-2', 'get-3')
    }

    It 'lists every device when no id is given' {
        $all = Get-IoTDevice
        $all.DeviceId | Should -Contain 'get-1'
        $all.DeviceId | Should -Contain 'x509-dev'
        ($all | Where-Object DeviceId -EQ 'x509-dev').PrimaryThumbprint | Should -Be $thumb1
        ($all | Where-Object DeviceId -EQ 'get-1').ETag | Should -Be (Get-IoTDevice 'get-1').ETag
    }

    It 'reports an unknown device as DeviceNotFound for that id and continues' {
        $out = Get-IoTDevice -DeviceId 'nope', 'get-1' -ErrorVariable err -ErrorAction SilentlyContinue
        $out.DeviceId | Should -Be 'get-1'
        $err[0].FullyQualifiedErrorId | Should -Be 'DeviceNotFound,TwinPS.Commands.GetIoTDeviceCommand'
        $err[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $err[0].TargetObject | Should -Be 'nope'
    }

    It 'refuses an invalid id before any request' {
        Assert-NoRequestSent $hub {
            Get-IoTDevice -DeviceId ('x' * 129) -ErrorVariable err -ErrorAction SilentlyContinue
            $err | Should -HaveCount 1
        }
    }
}

Describe 'Set-IoTDevice' {
    BeforeAll { $null = New-IoTDevice -DeviceId 'set-1', 'set-2' }

    It 'changes status and reason and keeps the keys' {
        $before = Get-IoTDevice 'set-1'
        $after = Set-IoTDevice -DeviceId 'set-1' -Status Disabled -StatusReason 'stolen' -PassThru
        $after.Status | Should -Be 'disabled'
        $after.StatusReason | Should -Be 'stolen'
        $after.GetPrimaryKey() | Should -Be $before.GetPrimaryKey()
        $after.ETag | Should -Not -Be $before.ETag
    }

    It 'is ETag-aware for piped devices: a stale one fails with PreconditionFailed' {
        $stale = Get-IoTDevice 'set-2'
        Set-IoTDevice -DeviceId 'set-2' -EdgeEnabled
        $stale | Set-IoTDevice -Status Disabled -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -Be 'PreconditionFailed,TwinPS.Commands.SetIoTDeviceCommand'
        (Get-IoTDevice 'set-2').Status | Should -Be 'enabled'
        $stale | Set-IoTDevice -Status Disabled -Force
        (Get-IoTDevice 'set-2').Status | Should -Be 'disabled'
        (Get-IoTDevice 'set-2').IsEdge | Should -BeTrue
    }

    It 'refuses a call that changes nothing' {
        { Set-IoTDevice -DeviceId 'set-1' } | Should -Throw -ErrorId 'NothingToChange,TwinPS.Commands.SetIoTDeviceCommand'
    }
}

Describe 'Remove-IoTDevice' {
    BeforeEach { $null = New-IoTDevice -DeviceId 'rm-1', 'rm-2' -ErrorAction SilentlyContinue }

    It 'removes by id without a prompt when -Confirm:$false' {
        Remove-IoTDevice -DeviceId 'rm-1' -Confirm:$false
        (Get-Raw 'rm-1').Status | Should -Be 404
    }

    It 'removes nothing with -WhatIf (even with -Force)' {
        $lines = Get-TwinTestWhatIf { Remove-IoTDevice -DeviceId 'rm-1' -Force -WhatIf }
        $lines | Should -Match 'rm-1'
        (Get-Raw 'rm-1').Status | Should -Be 200
    }

    It 'removes nothing with $WhatIfPreference, even with -Force' {
        $WhatIfPreference = $true
        try { Remove-IoTDevice -DeviceId 'rm-1' -Force 6>$null }
        finally { $WhatIfPreference = $false }
        (Get-Raw 'rm-1').Status | Should -Be 200
    }

    It 'sends a piped device''s ETag: a stale device fails with PreconditionFailed, -Force removes it' {
        $stale = Get-IoTDevice 'rm-2'
        Set-IoTDevice -DeviceId 'rm-2' -StatusReason 'changed'
        $stale | Remove-IoTDevice -Confirm:$false -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -Be 'PreconditionFailed,TwinPS.Commands.RemoveIoTDeviceCommand'
        $err[0].TargetObject | Should -Be 'rm-2'
        (Get-Raw 'rm-2').Status | Should -Be 200
        $stale | Remove-IoTDevice -Force
        (Get-Raw 'rm-2').Status | Should -Be 404
    }

    It 'honours -ETag with an id' {
        $current = (Get-IoTDevice 'rm-1').ETag
        Remove-IoTDevice -DeviceId 'rm-1' -ETag 'c3RhbGU=' -Confirm:$false -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -Be 'PreconditionFailed,TwinPS.Commands.RemoveIoTDeviceCommand'
        Remove-IoTDevice -DeviceId 'rm-1' -ETag $current -Confirm:$false
        (Get-Raw 'rm-1').Status | Should -Be 404
    }

    It 'reports an unknown device as DeviceNotFound' {
        Remove-IoTDevice -DeviceId 'never-there' -Force -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -Be 'DeviceNotFound,TwinPS.Commands.RemoveIoTDeviceCommand'
    }

    It 'refuses an invalid id before any request' {
        Assert-NoRequestSent $hub {
            Remove-IoTDevice -DeviceId 'a b' -Force -ErrorVariable err -ErrorAction SilentlyContinue
            $err | Should -HaveCount 1
        }
    }
}

Describe 'Get-IoTDeviceConnectionString' {
    BeforeAll {
        $script:k1 = New-Key; $script:k2 = New-Key
        $null = New-IoTDevice -DeviceId 'cs-1' -PrimaryKey $k1 -SecondaryKey $k2
    }

    It 'builds a device connection string with the emulator''s MQTT port as GatewayHostName' {
        $emuConnection = Connect-IoTHub -ConnectionString $hub.serviceConnectionString -CACertificatePath $hub.caCertificatePath -MqttPort $hub.mqttPort -NoSessionDefault
        Get-IoTDeviceConnectionString -DeviceId 'cs-1' -Connection $emuConnection |
            Should -BeExactly "HostName=localhost;DeviceId=cs-1;SharedAccessKey=$k1;GatewayHostName=localhost:$($hub.mqttPort)"
        Get-IoTDeviceConnectionString -DeviceId 'cs-1' -KeyType Secondary -Connection $emuConnection |
            Should -BeExactly "HostName=localhost;DeviceId=cs-1;SharedAccessKey=$k2;GatewayHostName=localhost:$($hub.mqttPort)"
        Get-IoTDeviceConnectionString -DeviceId 'x509-dev' -Connection $emuConnection |
            Should -BeExactly "HostName=localhost;DeviceId=x509-dev;x509=true;GatewayHostName=localhost:$($hub.mqttPort)"
    }

    It 'warns when the connection does not know the MQTT port, and takes piped devices' {
        $out = Get-IoTDevice 'cs-1' | Get-IoTDeviceConnectionString -WarningVariable warn -WarningAction SilentlyContinue
        $out | Should -BeExactly "HostName=localhost;DeviceId=cs-1;SharedAccessKey=$k1"
        $warn | Should -Match 'MQTT port'
    }

    It 'reports an unknown device' {
        Get-IoTDeviceConnectionString -DeviceId 'nope' -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -Be 'DeviceNotFound,TwinPS.Commands.GetIoTDeviceConnectionStringCommand'
    }
}
