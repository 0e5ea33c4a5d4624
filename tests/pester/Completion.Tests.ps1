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

    It 'completes -DeviceId and -ModuleId on the module, method and connection-string cmdlets' {
        Complete 'Invoke-IoTDeviceMethod -DeviceId cmp-be' | Should -Be @('cmp-beta')
        Complete 'Invoke-IoTDeviceMethod -DeviceId cmp-beta -ModuleId ' | Should -Be @('other')
        Complete 'Get-IoTModule cmp-al' | Should -Be @('cmp-alpha-1', 'cmp-alpha-2')
        Complete 'Get-IoTModule cmp-alpha-1 -ModuleId s' | Should -Be @('sensor')
        Complete 'Remove-IoTModule -DeviceId cmp-alpha-1 -ModuleId e' | Should -Be @('edgeAgent')
        Complete 'New-IoTModule -DeviceId cmp-be' | Should -Be @('cmp-beta')
        Complete 'Get-IoTDeviceConnectionString -DeviceId cmp-alpha-1 -ModuleId ' | Should -Be @('edgeAgent', 'sensor')
        Complete 'Connect-IoTDevice -DeviceId cmp-be' | Should -Be @('cmp-beta')
    }

    It 'offers no existing ids where a new id is typed' {
        Complete 'New-IoTDevice -DeviceId cmp-al' | Should -Not -Contain 'cmp-alpha-1'
        Complete 'New-IoTModule -DeviceId cmp-alpha-1 -ModuleId s' | Should -Not -Contain 'sensor'
    }
}

Describe 'Job id completion' {
    BeforeAll {
        $script:jobDevice = 'cmp-job-dev'
        New-TwinTestDevice $hub @($jobDevice)
    }

    It 'offers nothing before the jobs exist, and the hub''s job ids, by prefix, on every cmdlet that takes an existing job' {
        Complete 'Get-IoTJob -JobId nightly' | Should -BeNullOrEmpty
        $ran = Start-IoTTwinUpdateJob -JobId nightly-ran -Condition "deviceId = '$jobDevice'" -Tag @{ job = 'ran' }
        $null = $ran | Wait-IoTJob -PollInterval 1 -Timeout 120
        # Scheduled an hour ahead: it has run on no device yet, and it is the kind of job Stop-IoTJob is for.
        $null = Start-IoTTwinUpdateJob -JobId nightly-scheduled -Condition "deviceId = '$jobDevice'" -Tag @{ job = 'later' } -StartTime ([DateTimeOffset]::UtcNow.AddHours(1))
        try {
            # A longer prefix is another request, so the empty answer cached above does not hide the new jobs.
            Complete 'Get-IoTJob -JobId nightly-' | Should -Be @('nightly-ran', 'nightly-scheduled')
            Complete 'Get-IoTJob nightly-r' | Should -Be @('nightly-ran')
            Complete 'Get-IoTJobDevice -JobId nightly-r' | Should -Be @('nightly-ran')
            Complete 'Wait-IoTJob -JobId nightly-s' | Should -Be @('nightly-scheduled')
            Complete 'Stop-IoTJob -JobId nightly-s' | Should -Be @('nightly-scheduled')
            Complete "Stop-IoTJob -JobId 'nightly-s" | Should -Be @("'nightly-scheduled'")
            Complete 'Stop-IoTJob -JobId other' | Should -BeNullOrEmpty
        }
        finally { $null = Stop-IoTJob -JobId nightly-scheduled }
    }

    It 'offers no existing job id where a new job is named' {
        Complete 'Start-IoTTwinUpdateJob -JobId nightly-' | Should -Not -Contain 'nightly-ran'
        Complete 'Start-IoTDeviceMethodJob -JobId nightly-' | Should -Not -Contain 'nightly-ran'
    }

    It 'is silent without a connection and when the hub cannot answer' {
        $errors = $Error.Count
        $gone = Start-IoTHubEmulator -InMemory
        $dead = $gone | Connect-IoTHub -NoSessionDefault
        $gone | Stop-IoTHubEmulator -Confirm:$false
        Complete 'Get-IoTJob -Connection $dead -JobId nightly-' | Should -BeNullOrEmpty
        Disconnect-IoTHub
        try { Complete 'Stop-IoTJob -JobId nightly-' | Should -BeNullOrEmpty -Because 'there is no session connection now' }
        finally { $null = Connect-IoTHub -ConnectionString $hub.serviceConnectionString -CACertificatePath $hub.caCertificatePath }
        $Error.Count | Should -Be $errors
    }
}

Describe 'Every id and query parameter has its completer' {
    It 'has one on every -DeviceId, -ModuleId, -JobId, -Query and -Condition that names something existing' {
        # Where the user names something new, completing existing names would be wrong.
        $newNames = 'New-IoTDevice -DeviceId', 'New-IoTModule -ModuleId', 'Start-IoTTwinUpdateJob -JobId', 'Start-IoTDeviceMethodJob -JobId'
        $expected = @{ DeviceId = 'DeviceIdCompleter'; ModuleId = 'ModuleIdCompleter'; JobId = 'JobIdCompleter'; Query = 'QueryCompleter'; Condition = 'QueryConditionCompleter' }
        $checked = 0
        foreach ($command in Get-Command -Module TwinPS -CommandType Cmdlet) {
            foreach ($name in $expected.Keys) {
                $parameter = $command.Parameters[$name]
                if (-not $parameter -or "$($command.Name) -$name" -in $newNames) { continue }
                $completer = $parameter.Attributes | Where-Object { $_ -is [System.Management.Automation.ArgumentCompleterAttribute] }
                "$($command.Name) -$name " + $completer.Type.Name | Should -Be "$($command.Name) -$name $($expected[$name])"
                $checked++
            }
        }
        $checked | Should -BeGreaterOrEqual 25
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

Describe 'Job condition completion' {
    It 'offers what a condition starts with, then AND / OR after a comparison, on both job-starting cmdlets' {
        $roots = Complete 'Start-IoTTwinUpdateJob -Condition "'
        $roots | Should -Contain '"tags.'
        $roots | Should -Contain '"properties.reported.'
        $roots | Should -Not -Contain '"SELECT * FROM devices ' -Because 'a condition is a WHERE clause without WHERE'
        Complete 'Start-IoTDeviceMethodJob -Condition "prop' | Should -Be @('"properties.desired.', '"properties.reported.')
        Complete "Start-IoTTwinUpdateJob -Condition `"tags.plant = 'Redmond43' " | Should -Be @("`"tags.plant = 'Redmond43' AND ", "`"tags.plant = 'Redmond43' OR ")
    }

    It 'completes into a condition the hub accepts' {
        $done = Complete "Start-IoTTwinUpdateJob -Condition `"deviceId = 'cmp-beta' a`""
        $done | Should -Be @("`"deviceId = 'cmp-beta' AND`"")
        $condition = (Invoke-Expression $done) + " deviceId = 'cmp-beta'"
        $job = Start-IoTTwinUpdateJob -Condition $condition -Tag @{ completed = 'yes' } | Wait-IoTJob -PollInterval 1 -Timeout 120
        $job.Status | Should -Be 'completed'
        $job.SucceededCount | Should -Be 1
    }
}
