BeforeAll {
    . $PSScriptRoot/common.ps1
    $hub = Start-TwinTestHub
    $fleet = 1..7 | ForEach-Object { "s-$_" }
    New-TwinTestDevice $hub ($fleet + @('obrien', 'inject'))
    foreach ($id in $fleet) {
        $plant = if ([int]($id -replace 's-') -le 4) { 'Redmond43' } else { 'Paris1' }
        $null = Set-TwinTestTwin $hub $id @{ tags = @{ location = @{ plant = $plant }; connectivity = @{ type = 'cellular' } } }
    }
    $null = Set-TwinTestTwin $hub 'obrien' @{ tags = @{ owner = "O'Brien" } }
    $null = Set-TwinTestTwin $hub 'inject' @{ tags = @{ owner = "x' OR '1'='1" } }
    New-TwinTestModule $hub 's-1' 'sensor'
    New-TwinTestModule $hub 's-2' 'sensor'
    $null = Set-TwinTestTwin $hub 's-1' @{ properties = @{ desired = @{ rate = 5 } } } 'sensor'
}

AfterAll {
    Stop-TwinTestHub $hub
}

Describe 'Search-IoTTwin' {
    It 'returns twins for SELECT * and streams every page' {
        $before = Get-TwinTestRequestCount $hub
        $twins = Search-IoTTwin -Query 'SELECT * FROM devices' -PageSize 2
        $after = Get-TwinTestRequestCount $hub
        $twins.Count | Should -Be 9
        $twins | ForEach-Object { $_.PSObject.TypeNames[0] | Should -Be 'TwinPS.Twin' }
        $twins[0] | Should -BeOfType ([TwinPS.Models.Twin])
        $after - $before | Should -Be 6 -Because '9 results in pages of 2 take 5 requests, plus the counter read'
    }

    It 'returns plain objects for projections and aggregates' {
        $rows = Search-IoTTwin "SELECT deviceId, tags.location.plant AS plant FROM devices WHERE tags.location.plant = 'Paris1'"
        $rows.Count | Should -Be 3
        $rows | ForEach-Object { $_ | Should -Not -BeOfType ([TwinPS.Models.Twin]) }
        $rows.plant | Select-Object -Unique | Should -BeExactly 'Paris1'
        ($rows.deviceId | Sort-Object) | Should -Be @('s-5', 's-6', 's-7')

        $groups = Search-IoTTwin 'SELECT tags.location.plant AS plant, COUNT() AS n FROM devices GROUP BY tags.location.plant'
        ($groups | Where-Object plant -eq 'Redmond43').n | Should -Be 4
    }

    It 'builds the WHERE clause from -Tag with dotted keys and nested hashtables' {
        (Search-IoTTwin -Tag @{ 'location.plant' = 'Redmond43' }).DeviceId | Sort-Object | Should -Be @('s-1', 's-2', 's-3', 's-4')
        (Search-IoTTwin -Tag @{ location = @{ plant = 'Paris1' }; 'connectivity.type' = 'cellular' }).DeviceId | Sort-Object |
            Should -Be @('s-5', 's-6', 's-7')
        (Search-IoTTwin -Tag @{ 'location.plant' = @('Paris1', 'Nowhere') }).Count | Should -Be 3
    }

    It 'treats quotes and injection attempts in values as literals' {
        (Search-IoTTwin -Tag @{ owner = "O'Brien" }).DeviceId | Should -BeExactly 'obrien'
        $hits = @(Search-IoTTwin -Tag @{ owner = "x' OR '1'='1" })
        $hits.Count | Should -Be 1
        $hits[0].DeviceId | Should -BeExactly 'inject'
        @(Search-IoTTwin -Tag @{ 'location.plant' = "Redmond43' OR '1'='1" }).Count | Should -Be 0
    }

    It 'shows the built query with -Verbose, including -Desired and -Reported' {
        $verbose = Search-IoTTwin -Desired @{ 'fw.version' = '1.2' } -Reported @{ online = $true } -Verbose 4>&1 |
            Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }
        "$verbose" | Should -BeLike "*SELECT * FROM devices WHERE properties.desired.fw.version = '1.2' AND properties.reported.online = true*"
    }

    It 'searches module twins with -Module and -Collection devices.modules' {
        $modules = Search-IoTTwin -Module
        $modules.Count | Should -Be 2
        $modules.ModuleId | Select-Object -Unique | Should -BeExactly 'sensor'
        (Search-IoTTwin -Collection devices.modules -Desired @{ rate = 5 }).DeviceId | Should -BeExactly 's-1'
    }

    It 'supports -First, -Skip and -IncludeTotalCount' {
        $all = (Search-IoTTwin 'SELECT * FROM devices').DeviceId
        (Search-IoTTwin 'SELECT * FROM devices' -Skip 2 -First 3 -PageSize 2).DeviceId | Should -Be $all[2..4]
        $output = Search-IoTTwin -Tag @{ 'location.plant' = 'Redmond43' } -IncludeTotalCount -First 1
        $output.Count | Should -Be 2
        $output[0].ToString() | Should -Match 'Total count: 4'
        $output[1].DeviceId | Should -BeLike 's-*'
    }

    It 'fetches no further page when Select-Object -First stops the pipeline' {
        $before = Get-TwinTestRequestCount $hub
        $first = Search-IoTTwin 'SELECT * FROM devices' -PageSize 3 | Select-Object -First 2
        $after = Get-TwinTestRequestCount $hub
        $first.Count | Should -Be 2
        $after - $before | Should -Be 2 -Because 'only the first page was requested (plus the counter read)'
    }

    It 'reports a query the hub rejects with a pointer at the offending token' {
        $failure = $null
        try { Search-IoTTwin 'SELECT * FROM devices WHERE tags.x = = 1' -ErrorAction Stop } catch { $failure = $_ }
        $failure | Should -Not -BeNullOrEmpty
        $failure.FullyQualifiedErrorId | Should -BeLike '*,TwinPS.Commands.SearchIoTTwinCommand'
        $failure.CategoryInfo.Category | Should -Be 'InvalidArgument'
        $failure.Exception.Message | Should -Match 'column \d+'
        $failure.TargetObject | Should -BeExactly 'SELECT * FROM devices WHERE tags.x = = 1'
    }

    It 'validates -PageSize' {
        { Search-IoTTwin -Query 'SELECT * FROM devices' -PageSize 0 } | Should -Throw -ErrorId 'ParameterArgumentValidationError,TwinPS.Commands.SearchIoTTwinCommand'
        { Search-IoTTwin -Query 'SELECT * FROM devices' -PageSize 101 } | Should -Throw -ErrorId 'ParameterArgumentValidationError,TwinPS.Commands.SearchIoTTwinCommand'
    }

    It 'writes progress on results that span several pages' {
        $ps = [PowerShell]::Create()
        try {
            $null = $ps.AddScript({
                    param($ModulePath, $ConnectionString, $CaPath)
                    Import-Module $ModulePath
                    $null = Connect-IoTHub -ConnectionString $ConnectionString -CACertificatePath $CaPath
                    Search-IoTTwin 'SELECT * FROM devices' -PageSize 2
                }).AddArgument($script:TwinTestModulePath).AddArgument($hub.serviceConnectionString).AddArgument($hub.caCertificatePath)
            $results = $ps.Invoke()
            $results.Count | Should -Be 9
            $ps.Streams.Progress.Count | Should -BeGreaterThan 1
            $ps.Streams.Progress[0].StatusDescription | Should -Match '2 results so far'
            $ps.Streams.Progress[-1].RecordType | Should -Be 'Completed'
        }
        finally {
            $ps.Dispose()
        }
    }

    It 'declares its output types and supports paging' {
        $command = Get-Command Search-IoTTwin
        $command.OutputType.Type | Should -Contain ([TwinPS.Models.Twin])
        $command.Parameters.Keys | Should -Contain 'First'
        $command.Parameters.Keys | Should -Contain 'IncludeTotalCount'
    }
}
