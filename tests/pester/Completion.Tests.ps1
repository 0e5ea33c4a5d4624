# Argument completion through TabExpansion2 (as the console's Tab key calls it), against a real emulator.
BeforeAll {
    . $PSScriptRoot/common.ps1
    $hub = Start-TwinTestHub
    New-TwinTestDevice $hub @('cmp-alpha-1', 'cmp-alpha-2', 'cmp-beta', "cmp-o'brien")
    New-TwinTestDevice $hub @(1..60 | ForEach-Object { 'many-{0:d3}' -f $_ })
    New-TwinTestModule $hub 'cmp-alpha-1' 'edgeAgent'
    New-TwinTestModule $hub 'cmp-alpha-1' 'sensor'
    New-TwinTestModule $hub 'cmp-beta' 'other'

    function Complete([string] $Line) {
        <# The completion texts offered at the end of $Line. #>
        @((TabExpansion2 -inputScript $Line -cursorColumn $Line.Length).CompletionMatches.CompletionText)
    }
}

AfterAll {
    Stop-TwinTestHub $hub
}

Describe 'Device and module id completion' {
    It 'completes -DeviceId from the connected hub, by prefix, on every cmdlet that reads or changes existing devices' {
        Complete 'Get-IoTTwin -DeviceId cmp-al' | Should -Be @('cmp-alpha-1', 'cmp-alpha-2')
        Complete 'Get-IoTTwin cmp-b' | Should -Be @('cmp-beta')
        Complete 'Set-IoTTwinDesired -DeviceId cmp-al' | Should -Be @('cmp-alpha-1', 'cmp-alpha-2')
        Complete 'Update-IoTTwinTag -DeviceId cmp-be' | Should -Be @('cmp-beta')
        Complete 'Get-IoTDevice -DeviceId cmp-be' | Should -Be @('cmp-beta')
        Complete 'Remove-IoTDevice -DeviceId cmp-be' | Should -Be @('cmp-beta')
        Complete 'Get-IoTDeviceConnectionString -DeviceId cmp-be' | Should -Be @('cmp-beta')
    }

    It 'quotes ids PowerShell would misread, and keeps the quote the user typed' {
        Complete 'Get-IoTTwin -DeviceId cmp-o' | Should -Be @("'cmp-o''brien'")
        Complete "Get-IoTTwin -DeviceId 'cmp-be" | Should -Be @("'cmp-beta'")
    }

    It 'builds the prefix query with safe quoting: an injection attempt matches nothing and fails nothing' {
        $errors = $Error.Count
        Complete "Get-IoTTwin -DeviceId `"x' OR '1'='1`"" | Should -BeNullOrEmpty
        Complete "Get-IoTTwin -DeviceId `"cmp-o'b`"" | Should -Be @("'cmp-o''brien'")
        $Error.Count | Should -Be $errors
    }

    It 'is bounded to 50 ids' {
        $ids = Complete 'Get-IoTTwin -DeviceId many-'
        $ids | Should -HaveCount 50
        $ids[0] | Should -Be 'many-001'
        Complete 'Get-IoTTwin -DeviceId many-06' | Should -Be @('many-060')
    }

    It 'answers a repeated completion from a short cache, without asking the hub again' {
        $null = Complete 'Get-IoTTwin -DeviceId cmp-al'
        $before = Get-TwinTestRequestCount $hub
        Complete 'Get-IoTTwin -DeviceId cmp-al' | Should -Be @('cmp-alpha-1', 'cmp-alpha-2')
        (Get-TwinTestRequestCount $hub) - $before | Should -Be 1 -Because 'only the counter read itself is a request'
    }

    It 'completes -ModuleId of the device given with -DeviceId, or of any device' {
        Complete 'Get-IoTTwin -DeviceId cmp-alpha-1 -ModuleId ' | Should -Be @('edgeAgent', 'sensor')
        Complete 'Get-IoTTwin -DeviceId cmp-alpha-1 -ModuleId s' | Should -Be @('sensor')
        Complete 'Set-IoTTwinDesired -DeviceId cmp-beta -ModuleId ' | Should -Be @('other')
        Complete 'Get-IoTTwin -ModuleId o' | Should -Be @('other')
    }

    It 'uses the -Connection typed on the command line' {
        $other = Connect-IoTHub -ConnectionString $hub.serviceConnectionString -CACertificatePath $hub.caCertificatePath -NoSessionDefault
        Disconnect-IoTHub
        try {
            Complete 'Get-IoTTwin -DeviceId cmp-al' | Should -BeNullOrEmpty -Because 'there is no session connection now'
            Complete 'Get-IoTTwin -Connection $other -DeviceId cmp-al' | Should -Be @('cmp-alpha-1', 'cmp-alpha-2')
        }
        finally { $null = Connect-IoTHub -ConnectionString $hub.serviceConnectionString -CACertificatePath $hub.caCertificatePath }
    }

    It 'is silent when the hub cannot answer' {
        $gone = Start-IoTHubEmulator -InMemory
        $dead = $gone | Connect-IoTHub -NoSessionDefault
        $gone | Stop-IoTHubEmulator -Confirm:$false
        $errors = $Error.Count
        Complete 'Get-IoTTwin -Connection $dead -DeviceId cmp' | Should -BeNullOrEmpty
        $Error.Count | Should -Be $errors
    }

    It 'has a reusable -JobId completer: nothing before any job, the hub''s job ids once jobs ran' {
        # No job cmdlet exists yet; a function with the attribute is completed exactly as a cmdlet parameter would be.
        function Test-JobIdCompletion { param([ArgumentCompleter([TwinPS.Completion.JobIdCompleter])][string] $JobId) }
        Complete 'Test-JobIdCompletion -JobId nightly' | Should -BeNullOrEmpty
        foreach ($id in 'nightly-a', 'nightly-b') {
            $null = Invoke-TwinTestRest $hub PUT "/jobs/v2/$id" @{
                jobId = $id; type = 'scheduleUpdateTwin'; queryCondition = "deviceId = 'cmp-beta'"
                updateTwin = @{ etag = '*'; tags = @{ job = $id } }; startTime = [DateTimeOffset]::UtcNow.ToString('o')
            }
        }
        Wait-TwinTestCondition {
            @((Invoke-TwinTestRest $hub POST '/devices/query' @{ query = "SELECT * FROM devices.jobs WHERE STARTSWITH(devices.jobs.jobId, 'nightly')" })).Count -ge 2
        } -What 'the per-device job records of both jobs'
        # A longer prefix is another query, so the empty answer cached above does not hide the new jobs.
        Complete 'Test-JobIdCompletion -JobId nightly-' | Should -Be @('nightly-a', 'nightly-b')
    }
}

Describe 'Query completion' {
    It 'offers whole queries and SELECT at the start' {
        Complete 'Search-IoTTwin -Query "' | Should -Contain '"SELECT * FROM devices '
        Complete 'Search-IoTTwin -Query "SEL' | Should -Contain '"SELECT '
    }

    It 'offers the collections after FROM and WHERE / GROUP BY after a collection' {
        Complete 'Search-IoTTwin -Query "SELECT * FROM ' | Should -Be @('"SELECT * FROM devices ', '"SELECT * FROM devices.modules ', '"SELECT * FROM devices.jobs ')
        Complete 'Search-IoTTwin -Query "SELECT * FROM devices.m' | Should -Be @('"SELECT * FROM devices.modules ')
        Complete 'Search-IoTTwin -Query "SELECT * FROM devices ' | Should -Be @('"SELECT * FROM devices WHERE ', '"SELECT * FROM devices GROUP BY ')
        Complete "Search-IoTTwin -Query 'SELECT * FROM devices w" | Should -Be @("'SELECT * FROM devices WHERE ")
    }

    It 'offers the property roots after WHERE, AND and BY, and AND / OR after a comparison' {
        $roots = Complete 'Search-IoTTwin -Query "SELECT * FROM devices WHERE '
        $roots | Should -Contain '"SELECT * FROM devices WHERE tags.'
        $roots | Should -Contain '"SELECT * FROM devices WHERE properties.desired.'
        $roots | Should -Contain '"SELECT * FROM devices WHERE properties.reported.'
        Complete 'Search-IoTTwin -Query "SELECT * FROM devices WHERE prop' | Should -Be @('"SELECT * FROM devices WHERE properties.desired.', '"SELECT * FROM devices WHERE properties.reported.')
        Complete "Search-IoTTwin -Query `"SELECT * FROM devices WHERE tags.plant = 'Redmond43' " | Should -Be @(
            "`"SELECT * FROM devices WHERE tags.plant = 'Redmond43' AND ", "`"SELECT * FROM devices WHERE tags.plant = 'Redmond43' OR ", "`"SELECT * FROM devices WHERE tags.plant = 'Redmond43' GROUP BY ")
        Complete 'Search-IoTTwin -Query "SELECT COUNT() AS n FROM devices GROUP ' | Should -Be @('"SELECT COUNT() AS n FROM devices GROUP BY ')
        Complete 'Search-IoTTwin -Query "SELECT COUNT() AS n FROM devices GROUP BY t' | Should -Be @('"SELECT COUNT() AS n FROM devices GROUP BY tags.')
    }

    It 'keeps a closed quote closed, and its completions are valid queries' {
        $done = Complete 'Search-IoTTwin -Query "SELECT * FROM dev"'
        $done | Should -Contain '"SELECT * FROM devices"'
        $query = Invoke-Expression ($done | Where-Object { $_ -eq '"SELECT * FROM devices"' })
        @(Search-IoTTwin -Query $query -First 1) | Should -HaveCount 1
    }
}
