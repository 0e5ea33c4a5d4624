BeforeAll {
    . $PSScriptRoot/common.ps1
    $hub = Start-TwinTestHub
    New-TwinTestDevice $hub @('get-1', 'get-2', 'get-3', 'get-4', 'get-5')
    New-TwinTestModule $hub 'get-1' 'telemetry'
    $null = Set-TwinTestTwin $hub 'get-1' @{
        tags       = @{ location = @{ plant = 'Redmond43'; floor = 2 }; owner = "O'Brien" }
        properties = @{ desired = @{ telemetryInterval = 30; ratio = 0.25; exact = 1.5; modes = @('eco', 'turbo'); nested = @{ a = @{ b = @{ c = 'deep' } } }; enabled = $true } }
    }
}

AfterAll {
    Stop-TwinTestHub $hub
}

Describe 'Get-IoTTwin' {
    It 'returns a TwinPS.Twin with identity fields, versions and dot-able sections' {
        $twin = Get-IoTTwin -DeviceId get-1
        $twin.PSObject.TypeNames[0] | Should -Be 'TwinPS.Twin'
        $twin.DeviceId | Should -BeExactly 'get-1'
        $twin.ModuleId | Should -BeNullOrEmpty
        $twin.ETag | Should -Not -BeNullOrEmpty
        $twin.Version | Should -BeGreaterThan 0
        $twin.Status | Should -Be 'enabled'
        $twin.ConnectionState | Should -Be 'Disconnected'
        $twin.Tags.location.plant | Should -BeExactly 'Redmond43'
        $twin.Tags.owner | Should -BeExactly "O'Brien"
        $twin.Desired.telemetryInterval | Should -Be 30
        $twin.Desired.telemetryInterval | Should -BeOfType [long]
        $twin.Desired.modes | Should -Be @('eco', 'turbo')
        $twin.Desired.nested.a.b.c | Should -BeExactly 'deep'
        $twin.DesiredVersion | Should -Be 2 -Because 'created at 1, one desired patch in BeforeAll'
        $twin.ReportedVersion | Should -Be 1 -Because 'never reported'
    }

    It 'keeps $metadata and $version out of Desired and Reported but in ToJson()' {
        $twin = Get-IoTTwin get-1
        $twin.Desired.PSObject.Properties.Name | Should -Not -Contain '$metadata'
        $twin.Desired.PSObject.Properties.Name | Should -Not -Contain '$version'
        $twin.Reported.PSObject.Properties.Name | Should -Not -Contain '$version'
        $raw = $twin.ToJson() | ConvertFrom-Json -AsHashtable
        $raw.properties.desired.Keys | Should -Contain '$metadata'
        $raw.properties.desired['$version'] | Should -Be $twin.DesiredVersion
        $raw.etag | Should -BeExactly $twin.ETag
    }

    It 'carries timestamps as [DateTimeOffset] (null when never set); ToJson() keeps the exact strings the hub sent' {
        $twin = Get-IoTTwin get-1
        $raw = $twin.ToJson() | ConvertFrom-Json -AsHashtable -DateKind String
        $raw.lastActivityTime | Should -BeExactly '0001-01-01T00:00:00Z' -Because 'the device never connected'
        $twin.LastActivityTime | Should -BeNullOrEmpty
        $twin.StatusUpdateTime | Should -BeOfType [DateTimeOffset]
        $twin.StatusUpdateTime.UtcTicks | Should -Be ([DateTimeOffset]::Parse($raw.statusUpdateTime, [cultureinfo]::InvariantCulture)).UtcTicks
    }

    It 'renders Desired faithfully with ConvertTo-Json -Depth 20' {
        $twin = Get-IoTTwin get-1
        $expected = [ordered]@{}
        $raw = ($twin.ToJson() | ConvertFrom-Json -AsHashtable -DateKind String).properties.desired
        $actual = $twin.Desired | ConvertTo-Json -Depth 20 | ConvertFrom-Json -AsHashtable
        foreach ($key in $raw.Keys | Where-Object { $_ -notlike '$*' }) { $expected[$key] = $raw[$key] }
        ($actual | ConvertTo-Json -Depth 20 -Compress) | Should -BeExactly ($expected | ConvertTo-Json -Depth 20 -Compress)
        $twin.Desired | ConvertTo-Json -Depth 20 -Compress | Should -Match '"modes":\["eco","turbo"\]'
        $twin.Desired | ConvertTo-Json -Depth 20 -Compress | Should -Match '"exact":1.5'
        $twin | ConvertTo-Json -Depth 20 | ConvertFrom-Json | ForEach-Object { $_.Desired.nested.a.b.c } | Should -BeExactly 'deep'
    }

    It 'gets many ids concurrently, from the parameter and from the pipeline by value' {
        $ids = 'get-1', 'get-2', 'get-3', 'get-4', 'get-5'
        (Get-IoTTwin -DeviceId $ids -ThrottleLimit 3).DeviceId | Sort-Object | Should -Be $ids
        ($ids | Get-IoTTwin).DeviceId | Sort-Object | Should -Be $ids
    }

    It 'binds DeviceId and ModuleId by property name (twins, devices, plain objects)' {
        $moduleTwin = [pscustomobject]@{ DeviceId = 'get-1'; ModuleId = 'telemetry' } | Get-IoTTwin
        $moduleTwin.ModuleId | Should -BeExactly 'telemetry'
        $moduleTwin.DeviceId | Should -BeExactly 'get-1'
        (Get-IoTTwin get-2 | Get-IoTTwin).DeviceId | Should -BeExactly 'get-2'
    }

    It 'gets a module twin with -ModuleId' {
        $twin = Get-IoTTwin -DeviceId get-1 -ModuleId telemetry
        $twin.ModuleId | Should -BeExactly 'telemetry'
        "$twin" | Should -BeExactly 'get-1/telemetry'
    }

    It 'writes a non-terminating DeviceNotFound error targeted at the id and still returns the others' {
        $twins = Get-IoTTwin -DeviceId get-1, no-such-device, get-2 -ErrorAction SilentlyContinue -ErrorVariable failures
        $twins.DeviceId | Sort-Object | Should -Be @('get-1', 'get-2')
        $failures.Count | Should -Be 1
        $failures[0].FullyQualifiedErrorId | Should -BeExactly 'DeviceNotFound,TwinPS.Commands.GetIoTTwinCommand'
        $failures[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $failures[0].TargetObject | Should -BeExactly 'no-such-device'
        $failures[0].ErrorDetails.RecommendedAction | Should -Not -BeNullOrEmpty
    }

    It 'refuses an invalid device id before any request' {
        Assert-NoRequestSent $hub {
            Get-IoTTwin -DeviceId 'bad/id' -ErrorAction SilentlyContinue -ErrorVariable failures
            $failures[0].FullyQualifiedErrorId | Should -BeExactly 'ArgumentInvalid,TwinPS.Commands.GetIoTTwinCommand'
            $failures[0].TargetObject | Should -BeExactly 'bad/id'
        }
    }

    It 'fails with an authentication error for a wrong key, without showing the key' {
        # A wrong key cannot get through Connect-IoTHub (it checks), so the lazily connected
        # IOTHUB_CONNECTION_STRING is used: the twin read itself meets the 401.
        $wrongKey = [Convert]::ToBase64String([byte[]](1..32))
        $env:IOTHUB_CONNECTION_STRING = $hub.serviceConnectionString -replace 'SharedAccessKey=[^;]+', "SharedAccessKey=$wrongKey"
        $env:IOTHUB_CA_CERTIFICATE_PATH = $hub.caCertificatePath
        try {
            Disconnect-IoTHub
            $failure = $null
            try { Get-IoTTwin -DeviceId get-1, get-2 -ErrorAction Stop } catch { $failure = $_ }
            $failure.FullyQualifiedErrorId | Should -BeLike 'IotHubUnauthorized*,TwinPS.Commands.GetIoTTwinCommand'
            $failure.CategoryInfo.Category | Should -Be 'AuthenticationError'
            "$failure $($failure.Exception) $($failure.ErrorDetails)" | Should -Not -Match ([regex]::Escape($wrongKey))
        }
        finally {
            Remove-Item Env:IOTHUB_CONNECTION_STRING, Env:IOTHUB_CA_CERTIFICATE_PATH
            $null = Connect-IoTHub -ConnectionString $hub.serviceConnectionString -CACertificatePath $hub.caCertificatePath
        }
    }

    It 'fails with an authentication error for a policy without twin rights' {
        $readOnly = Connect-IoTHub -ConnectionString $hub.policies.registryRead -CACertificatePath $hub.caCertificatePath -NoSessionDefault
        { Update-IoTTwinTag -DeviceId get-3 -Tag @{ x = 1 } -Connection $readOnly -ErrorAction Stop } |
            Should -Throw -ErrorId 'IotHubUnauthorized*,TwinPS.Commands.UpdateIoTTwinTagCommand'
    }

    It 'validates -ThrottleLimit' {
        { Get-IoTTwin get-1 -ThrottleLimit 0 } | Should -Throw -ErrorId 'ParameterArgumentValidationError,TwinPS.Commands.GetIoTTwinCommand'
        { Get-IoTTwin get-1 -ThrottleLimit 1000 } | Should -Throw -ErrorId 'ParameterArgumentValidationError,TwinPS.Commands.GetIoTTwinCommand'
    }

    It 'has a table view and a list view' {
        $table = Get-IoTTwin get-1 | Format-Table | Out-String -Width 200
        $table | Should -Match 'DeviceId\s+ModuleId\s+Status\s+ConnectionState\s+LastActivityTime\s+Version\s+DesiredVersion\s+ReportedVersion'
        $list = Get-IoTTwin get-1 | Format-List | Out-String -Width 400
        $list | Should -Match 'Tags\s+:\s+\{.*"location":\{.*"plant":"Redmond43"'
        $list | Should -Match 'LastActivityTime'
    }

    It 'declares its output type' {
        (Get-Command Get-IoTTwin).OutputType.Type | Should -Contain ([TwinPS.Models.Twin])
    }
}
