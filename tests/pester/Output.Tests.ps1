# Twins and devices in the PowerShell tools admins pipe them to: ConvertTo-Json, Export-Csv/Import-Csv, Sort-Object,
# Where-Object, Format-*; and ConvertTo-IoTTwinJson for the hub's own document.
BeforeAll {
    . $PSScriptRoot/common.ps1
    $hub = Start-TwinTestHub
    New-TwinTestDevice $hub @('out-1', 'out-2', 'out-3')
    New-TwinTestModule $hub 'out-1' 'edge'
    $null = Set-TwinTestTwin $hub 'out-1' @{ tags = @{ owner = 'ops'; location = @{ plant = 'Redmond43'; line = @(1, 2) } }; properties = @{ desired = @{ interval = 30; mode = "O'Brien" } } }
    $null = Set-TwinTestTwin $hub 'out-2' @{ tags = @{ owner = 'lab' } }
    # Never-set timestamps are the hub's 0001-01-01; a device that connects gets a real lastActivityTime.
    $key = (Invoke-TwinTestRest $hub GET '/devices/out-3').authentication.symmetricKey.primaryKey
    $session = Connect-IoTDevice -ConnectionString "HostName=localhost;DeviceId=out-3;SharedAccessKey=$key" -MqttPort $hub.mqttPort
    $null = $session | Update-IoTTwinReported -Reported @{ temperature = 21.5 }
    $session | Disconnect-IoTDevice
}

AfterAll {
    Stop-TwinTestHub $hub
}

Describe 'Twin objects' {
    It 'read like the hub''s document: $twin.Properties.Desired.x, with $metadata and $version' {
        $twin = Get-IoTTwin out-1
        $twin.Properties.Desired.interval | Should -Be 30
        $twin.Properties.Desired.'$version' | Should -Be $twin.DesiredVersion
        $twin.Properties.Desired.'$metadata'.interval.'$lastUpdated' | Should -Not -BeNullOrEmpty
        $twin.Properties.Reported.'$version' | Should -Be $twin.ReportedVersion
        # ...and keep their natural properties.
        $twin.Desired.interval | Should -Be 30
        $twin.Desired.PSObject.Properties.Name | Should -Not -Contain '$metadata'
        $twin.Tags.location.plant | Should -BeExactly 'Redmond43'
    }

    It 'carry timestamps as [DateTimeOffset], $null when never set, so Where-Object and Sort-Object work' {
        $twins = @(Get-IoTTwin out-1, out-2, out-3)
        $never = $twins | Where-Object DeviceId -EQ 'out-1'
        $active = $twins | Where-Object DeviceId -EQ 'out-3'
        $never.LastActivityTime | Should -BeNullOrEmpty
        $active.LastActivityTime | Should -BeOfType [DateTimeOffset]
        $active.StatusUpdateTime | Should -BeOfType [DateTimeOffset]
        $recent = @($twins | Where-Object LastActivityTime -GT (Get-Date).AddDays(-1))
        $recent.DeviceId | Should -Be @('out-3')
        ($twins | Sort-Object LastActivityTime -Descending | Select-Object -First 1).DeviceId | Should -Be 'out-3'
        $raw = Get-TwinTestTwin $hub 'out-3'
        # Exact to the tick (ConvertFrom-Json itself reads the raw ISO text as a UTC [DateTime]).
        $active.LastActivityTime.UtcTicks | Should -Be ([DateTimeOffset] $raw.lastActivityTime).UtcTicks
        $active.LastActivityTime.Offset | Should -Be ([TimeSpan]::Zero)
    }

    It 'ConvertTo-Json gives the PowerShell shape with sections as objects; ConvertTo-IoTTwinJson gives the hub''s document' {
        $twin = Get-IoTTwin out-1
        $shape = $twin | ConvertTo-Json -Depth 10 | ConvertFrom-Json
        $shape.DeviceId | Should -BeExactly 'out-1'
        $shape.Tags.location.plant | Should -BeExactly 'Redmond43'
        $shape.Properties.desired.'$version' | Should -Be $twin.DesiredVersion

        $doc = $twin | ConvertTo-IoTTwinJson | ConvertFrom-Json -AsHashtable
        $expected = Get-TwinTestTwin $hub 'out-1' | ConvertTo-Json -Depth 30 | ConvertFrom-Json -AsHashtable
        $doc.Keys | Should -Contain 'deviceId'
        $doc.Keys | Should -Contain 'etag'
        $doc.deviceId | Should -BeExactly 'out-1'
        $doc.etag | Should -BeExactly $twin.ETag
        $doc.properties.desired['$version'] | Should -Be $twin.DesiredVersion
        $doc.properties.desired['$metadata'].Keys | Should -Contain 'interval'
        $doc.properties.desired.mode | Should -BeExactly "O'Brien"
        ($doc | ConvertTo-Json -Depth 30 -Compress) | Should -BeExactly ($expected | ConvertTo-Json -Depth 30 -Compress)
        (ConvertTo-IoTTwinJson -InputObject $twin -Compress) | Should -BeExactly $twin.ToJson().Replace('\u0027', "'")

        $many = Get-IoTTwin out-1, out-2 | ConvertTo-IoTTwinJson | ConvertFrom-Json
        $many | Should -HaveCount 2
        @(Get-IoTTwin out-1 | ConvertTo-IoTTwinJson -AsArray | ConvertFrom-Json -NoEnumerate).Count | Should -Be 1
        'not a twin' | ConvertTo-IoTTwinJson -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $err[0].FullyQualifiedErrorId | Should -BeLike 'NotATwinPSObject*'
    }

    It 'go to Export-Csv with nested sections as JSON text, and come back with Import-Csv' {
        $csv = Join-Path $TestDrive 'twins.csv'
        Get-IoTTwin out-1, out-2 | Sort-Object DeviceId | Export-Csv -Path $csv
        $text = Get-Content -Raw $csv
        $text | Should -Not -Match '@\{'
        $text | Should -Not -Match 'System\.'
        $rows = @(Import-Csv $csv)
        $rows | Should -HaveCount 2
        ($rows[0].Tags | ConvertFrom-Json).location.plant | Should -BeExactly 'Redmond43'
        ($rows[0].Tags | ConvertFrom-Json).location.line | Should -Be @(1, 2)
        ($rows[0].Desired | ConvertFrom-Json).mode | Should -BeExactly "O'Brien"
        ($rows[0].Properties | ConvertFrom-Json).desired.'$version' | Should -Be (Get-IoTTwin out-1).DesiredVersion
        $rows[0].ParentScopes | Should -BeExactly '[]'
        $rows[0].LastActivityTime | Should -BeNullOrEmpty
        # The rows are usable input again: a CSV of twins drives an ETag-guarded write.
        $rows | Where-Object DeviceId -EQ 'out-2' | Update-IoTTwinTag -Tag @{ fromCsv = $true }
        (Get-TwinTestTwin $hub 'out-2').tags.fromCsv | Should -BeTrue
    }

    It 'show what an admin scans for in the default table, with tags and ETag a named view or Format-List away' {
        $twin = Get-IoTTwin out-1
        $table = $twin | Format-Table | Out-String -Width 250
        $table | Should -Match 'DeviceId\s+ModuleId\s+Status\s+ConnectionState\s+LastActivityTime'
        $table | Should -Not -Match ([regex]::Escape($twin.ETag))
        $tags = $twin | Format-Table -View Tags | Out-String -Width 250
        $tags | Should -Match ([regex]::Escape($twin.ETag))
        $tags | Should -Match ([regex]::Escape('"owner":"ops"'))
        $list = $twin | Format-List | Out-String -Width 250
        $list | Should -Match 'ETag\s+: '
        $list | Should -Match ([regex]::Escape('"plant":"Redmond43"'))
        ("$($twin.Tags)" | ConvertFrom-Json).location.plant | Should -BeExactly 'Redmond43'
    }
}

Describe 'Device objects' {
    It 'carry timestamps as [DateTimeOffset] ($null when never), sortable and filterable, listed or by id' {
        foreach ($devices in @(Get-IoTDevice -DeviceId out-1, out-3), @(Get-IoTDevice | Where-Object DeviceId -Like 'out-*')) {
            $active = $devices | Where-Object DeviceId -EQ 'out-3'
            $never = $devices | Where-Object DeviceId -EQ 'out-1'
            $active.LastActivityTime | Should -BeOfType [DateTimeOffset]
            $never.LastActivityTime | Should -BeNullOrEmpty
            @($devices | Where-Object LastActivityTime -GT (Get-Date).AddDays(-1)).DeviceId | Should -Be @('out-3')
            ($devices | Sort-Object LastActivityTime -Descending | Select-Object -First 1).DeviceId | Should -Be 'out-3'
        }
    }

    It 'go to ConvertTo-Json, Export-Csv and ConvertTo-IoTTwinJson without keys' {
        $device = Get-IoTDevice -DeviceId out-1
        $key = $device.GetPrimaryKey()
        $key | Should -Not -BeNullOrEmpty
        $csv = Join-Path $TestDrive 'devices.csv'
        $device | Export-Csv $csv
        $row = Import-Csv $csv
        $row.DeviceId | Should -BeExactly 'out-1'
        $row.ETag | Should -BeExactly $device.ETag
        (Get-Content -Raw $csv) | Should -Not -Match ([regex]::Escape($key))
        ($device | ConvertTo-Json -Depth 5) | Should -Not -Match ([regex]::Escape($key))
        $doc = $device | ConvertTo-IoTTwinJson | ConvertFrom-Json
        $doc.deviceId | Should -BeExactly 'out-1'
        $doc.etag | Should -BeExactly $device.ETag
        ($device | ConvertTo-IoTTwinJson) | Should -Not -Match ([regex]::Escape($key))
    }
}
