# Jobs v2 through the cmdlets against a real emulator: Start-IoTTwinUpdateJob, Start-IoTDeviceMethodJob, Get-IoTJob,
# Get-IoTJobDevice, Wait-IoTJob and Stop-IoTJob, with twins and TwinPS device sessions as the devices.

BeforeAll {
    . $PSScriptRoot/common.ps1
    $script:hub = Start-TwinTestHub

    function New-JobGroup([int] $Count) {
        # $Count devices tagged with a group of their own; returns the group name and the ids.
        $group = 'g' + [guid]::NewGuid().ToString('N').Substring(0, 10)
        $ids = @(1..$Count | ForEach-Object { "$group-$_" })
        New-TwinTestDevice $script:hub $ids
        foreach ($id in $ids) { $null = Set-TwinTestTwin $script:hub $id @{ tags = @{ jobGroup = $group } } }
        [pscustomobject]@{ Group = $group; Ids = $ids }
    }

    function New-JobId { 'job-' + [guid]::NewGuid().ToString('N').Substring(0, 12) }
}

AfterAll {
    Disconnect-IoTDevice -All
    Stop-TwinTestHub $script:hub
}

Describe 'Twin-update jobs' {
    It 'updates every twin matching -TagFilter, waited on to completion, with per-device results' {
        $g = New-JobGroup 3
        $jobId = New-JobId
        $job = Start-IoTTwinUpdateJob -TagFilter @{ jobGroup = $g.Group } -Desired @{ interval = 30; nested = @{ on = $true } } -Tag @{ updated = 'yes' } -JobId $jobId -MaxExecutionTime '00:10:00'
        $job.pstypenames[0] | Should -Be 'TwinPS.Job'
        $job.JobId | Should -Be $jobId
        $job.Type | Should -Be 'scheduleUpdateTwin'
        $job.QueryCondition | Should -Be "tags.jobGroup = '$($g.Group)'"
        $job.CreatedTime | Should -BeOfType [DateTimeOffset]
        $job.MaxExecutionTime | Should -Be ([TimeSpan]::FromMinutes(10))
        $job.UpdateTwin.etag | Should -Be '*'

        $done = $job | Wait-IoTJob -PollInterval 1 -Timeout 120
        $done | Should -HaveCount 1
        $done.Status | Should -Be 'completed'
        $done.DeviceCount | Should -Be 3
        $done.SucceededCount | Should -Be 3
        $done.FailedCount | Should -Be 0
        $done.EndTime | Should -BeOfType [DateTimeOffset]
        $done.IsFinished | Should -BeTrue

        foreach ($id in $g.Ids) {
            $twin = Get-IoTTwin -DeviceId $id
            $twin.Desired.interval | Should -Be 30
            $twin.Desired.nested.on | Should -BeTrue
            $twin.Tags.updated | Should -Be 'yes'
        }
        $records = @($done | Get-IoTJobDevice)
        $records | Should -HaveCount 3
        $records[0].pstypenames[0] | Should -Be 'TwinPS.DeviceJob'
        ($records.DeviceId | Sort-Object) | Should -Be ($g.Ids | Sort-Object)
        $records.Status | Sort-Object -Unique | Should -Be 'completed'
        @(Get-IoTJobDevice -JobId $jobId -Status failed) | Should -HaveCount 0
    }

    It 'completes with no device when the condition matches nobody' {
        $job = Start-IoTTwinUpdateJob -Condition "tags.jobGroup = 'nobody-$([guid]::NewGuid().ToString('N'))'" -Desired @{ x = 1 } | Wait-IoTJob -PollInterval 1 -Timeout 120
        $job.Status | Should -Be 'completed'
        $job.DeviceCount | Should -Be 0
        @($job | Get-IoTJobDevice) | Should -HaveCount 0
    }

    It 'fails the job (not the command) for an invalid condition, with the reason' {
        $job = Start-IoTTwinUpdateJob -Condition "tags.a = = 'b'" -Desired @{ x = 1 }
        $job.Status | Should -BeIn @('queued', 'scheduled', 'running', 'failed')
        $done = $job | Wait-IoTJob -PollInterval 1 -Timeout 120 -WarningVariable warned -WarningAction SilentlyContinue
        $done.Status | Should -Be 'failed'
        $done.FailureReason | Should -Not -BeNullOrEmpty
        "$warned" | Should -Match $job.JobId
    }

    It '-WhatIf shows the request and how many devices match now, and creates nothing' {
        $g = New-JobGroup 2
        $jobId = New-JobId
        $lines = @(Get-TwinTestWhatIf { Start-IoTTwinUpdateJob -TagFilter @{ jobGroup = $g.Group } -Desired @{ x = 1 } -JobId $jobId -WhatIf })
        $text = $lines -join ' '
        $text | Should -Match '2 devices match now'
        $text | Should -Match ([regex]::Escape('"etag":"*"'))
        $text | Should -Match "PUT /jobs/v2/$jobId"
        { Get-IoTJob -JobId $jobId -ErrorAction Stop } | Should -Throw -ErrorId 'JobNotFound*'
    }

    It 'Start-IoTDeviceMethodJob -WhatIf shows the method request and how many devices match now, and creates nothing' {
        $g = New-JobGroup 3
        $jobId = New-JobId
        $lines = @(Get-TwinTestWhatIf { Start-IoTDeviceMethodJob -TagFilter @{ jobGroup = $g.Group } -MethodName reboot -Payload @{ delay = 3 } -JobId $jobId -WhatIf })
        $text = $lines -join ' '
        $text | Should -Match '3 devices match now'
        $text | Should -Match "PUT /jobs/v2/$jobId"
        $text | Should -Match '"methodName":"reboot"'
        { Get-IoTJob -JobId $jobId -ErrorAction Stop } | Should -Throw -ErrorId 'JobNotFound*'
    }

    It 'refuses bad input before any request' {
        Assert-NoRequestSent $script:hub {
            { Start-IoTTwinUpdateJob -Condition '*' -Desired @{ x = 1 } -JobId 'Has_Upper' -ErrorAction Stop } | Should -Throw -ErrorId 'ArgumentInvalid*'
            { Start-IoTTwinUpdateJob -Condition '*' -ErrorAction Stop } | Should -Throw -ErrorId 'ArgumentInvalid*'
            { Start-IoTTwinUpdateJob -Condition '*' -Desired @{ 'bad key' = 1 } -ErrorAction Stop } | Should -Throw -ErrorId 'ArgumentInvalid*'
            { Start-IoTTwinUpdateJob -TagFilter @{} -Desired @{ x = 1 } -ErrorAction Stop } | Should -Throw -ErrorId 'ArgumentInvalid*'
            { Start-IoTTwinUpdateJob -Condition '*' -Desired @{ x = 1 } -StartTime (Get-Date).AddDays(8) -ErrorAction Stop } | Should -Throw -ErrorId 'ArgumentInvalid*'
            { Get-IoTJob -JobId 'NOT VALID' -ErrorAction Stop } | Should -Throw -ErrorId 'ArgumentInvalid*'
        }
        { Start-IoTTwinUpdateJob -Condition '*' -Desired @{ x = 1 } -JobId (New-JobId) -TagFilter @{ a = 1 } } | Should -Throw -ErrorId 'AmbiguousParameterSet*'
    }

    It 'a taken job id is JobAlreadyExists' {
        $jobId = New-JobId
        $null = Start-IoTTwinUpdateJob -Condition "deviceId = 'nobody'" -Desired @{ x = 1 } -JobId $jobId
        { Start-IoTTwinUpdateJob -Condition "deviceId = 'nobody'" -Desired @{ x = 1 } -JobId $jobId -ErrorAction Stop } | Should -Throw -ErrorId 'JobAlreadyExists*'
    }
}

Describe 'Scheduling, listing and cancelling' {
    It 'a scheduled job can be cancelled before it starts; waiting with -Timeout leaves it alone' {
        $g = New-JobGroup 1
        $start = [DateTimeOffset]::UtcNow.AddHours(1)
        $job = Start-IoTTwinUpdateJob -TagFilter @{ jobGroup = $g.Group } -Desired @{ late = 1 } -StartTime $start
        $job.StartTime.ToUnixTimeSeconds() | Should -Be $start.ToUnixTimeSeconds()

        $waited = @($job | Wait-IoTJob -Timeout 2 -PollInterval 1 -ErrorVariable waitErrors -ErrorAction SilentlyContinue)
        $waited | Should -HaveCount 0
        $waitErrors[0].FullyQualifiedErrorId | Should -BeLike 'WaitTimeout*'
        $waitErrors[0].TargetObject | Should -Be $job.JobId
        (Get-IoTJob -JobId $job.JobId).Status | Should -BeIn @('queued', 'scheduled')

        @(Get-IoTJob -Type scheduleUpdateTwin -Status scheduled).JobId + @(Get-IoTJob -Status queued).JobId | Should -Contain $job.JobId

        $lines = @(Get-TwinTestWhatIf { $job | Stop-IoTJob -WhatIf })
        $lines | Should -HaveCount 1
        (Get-IoTJob -JobId $job.JobId).Status | Should -BeIn @('queued', 'scheduled')

        $cancelled = $job | Stop-IoTJob -PassThru -Confirm:$false
        $cancelled.Status | Should -Be 'cancelled'
        ($job | Wait-IoTJob -Timeout 30 -PollInterval 1).Status | Should -Be 'cancelled'
        (Get-IoTTwin -DeviceId $g.Ids[0]).Desired.late | Should -BeNullOrEmpty
        @(Get-IoTJob -Status cancelled).JobId | Should -Contain $job.JobId
    }

    It 'Wait-IoTJob stopped like Ctrl+C ends promptly and leaves the job on the hub' {
        $g = New-JobGroup 1
        $job = Start-IoTTwinUpdateJob -TagFilter @{ jobGroup = $g.Group } -Desired @{ stopped = 1 } -StartTime ([DateTimeOffset]::UtcNow.AddHours(1))
        $ps = [powershell]::Create()
        try {
            $null = $ps.AddScript({
                    param($modulePath, $connection, $jobId, $never)
                    Import-Module $modulePath
                    Wait-IoTJob -Connection $connection -JobId $jobId -PollInterval 1 -Timeout $never
                }).AddArgument($script:TwinTestModulePath).AddArgument((Get-IoTHubConnection)).AddArgument($job.JobId).AddArgument($script:TwinTestTime.Never)
            $handle = $ps.BeginInvoke()
            # A progress record means Wait-IoTJob has read the job and is waiting in its poll loop.
            Wait-TwinTestCondition { $ps.Streams.Progress.Count -gt 0 -or $handle.IsCompleted } -What 'Wait-IoTJob reporting progress'
            $handle.IsCompleted | Should -BeFalse
            $stopped = [Diagnostics.Stopwatch]::StartNew()
            $ps.Stop()
            $stopped.Elapsed.TotalSeconds | Should -BeLessThan $script:TwinTestTime.Prompt
            $ps.InvocationStateInfo.State | Should -Be 'Stopped'
        }
        finally { $ps.Dispose() }

        (Get-IoTJob -JobId $job.JobId).Status | Should -BeIn @('queued', 'scheduled')
        $null = $job | Stop-IoTJob -Confirm:$false
    }

    It 'a running method job cancelled mid-run stops before the devices not yet started' {
        # 40 offline devices, each held 5 s by the connect timeout, 32 at a time: the last 8 have not started when we cancel.
        $g = New-JobGroup 40
        $job = Start-IoTDeviceMethodJob -TagFilter @{ jobGroup = $g.Group } -MethodName reboot -ResponseTimeout 5 -ConnectTimeout 5
        $deadline = [DateTime]::UtcNow.AddSeconds(60)
        do { $now = Get-IoTJob -JobId $job.JobId; if ($now.Status -ne 'running') { Start-Sleep -Milliseconds 200 } }
        until ($now.Status -eq 'running' -or [DateTime]::UtcNow -gt $deadline)
        $now.Status | Should -Be 'running'

        $null = Stop-IoTJob -JobId $job.JobId -Confirm:$false
        $done = Wait-IoTJob -JobId $job.JobId -PollInterval 1 -Timeout 120
        $done.Status | Should -Be 'cancelled'
        # Calls in flight end by their own timeouts; then no device is left pending or running.
        $deadline = [DateTime]::UtcNow.AddSeconds(60)
        do { $records = @(Get-IoTJobDevice -JobId $job.JobId); $open = @($records | Where-Object Status -in 'pending', 'running', 'scheduled'); if ($open) { Start-Sleep -Milliseconds 500 } }
        until (-not $open -or [DateTime]::UtcNow -gt $deadline)
        $records | Should -HaveCount 40
        @($records | Where-Object Status -eq 'canceled').Count | Should -BeGreaterThan 0
        @($records | Where-Object Status -in 'pending', 'running', 'scheduled') | Should -HaveCount 0
    }

    It 'reports unknown jobs and refused cancels as non-terminating errors with the hub code' {
        $missing = New-JobId
        { Get-IoTJob -JobId $missing -ErrorAction Stop } | Should -Throw -ErrorId 'JobNotFound*'
        { Stop-IoTJob -JobId $missing -Confirm:$false -ErrorAction Stop } | Should -Throw -ErrorId 'JobNotFound*'
        $finished = Start-IoTTwinUpdateJob -Condition "deviceId = 'nobody'" -Desired @{ x = 1 } | Wait-IoTJob -PollInterval 1 -Timeout 120
        { $finished | Stop-IoTJob -Confirm:$false -ErrorAction Stop } | Should -Throw -ErrorId 'OperationNotAllowedInCurrentState*'
        $Error[0].TargetObject | Should -Be $finished.JobId
    }
}

Describe 'Method jobs' {
    It 'invokes the method on every matching device and records each answer' {
        $ids = @(1..2 | ForEach-Object { 'mj-' + [guid]::NewGuid().ToString('N').Substring(0, 10) })
        New-TwinTestDevice $script:hub $ids
        $group = 'mg' + [guid]::NewGuid().ToString('N').Substring(0, 8)
        $sessions = foreach ($id in $ids) {
            $null = Set-TwinTestTwin $script:hub $id @{ tags = @{ methodJobGroup = $group } }
            $key = (Invoke-TwinTestRest $script:hub GET "/devices/$id").authentication.symmetricKey.primaryKey
            Connect-IoTDevice -ConnectionString "HostName=localhost;DeviceId=$id;SharedAccessKey=$key" -MqttPort $script:hub.mqttPort
        }
        try {
            $ps = [powershell]::Create()
            $null = $ps.AddScript({
                    param($modulePath, $sessions)
                    Import-Module $modulePath
                    Wait-IoTDeviceMethod -Session $sessions -Count 2 -Timeout 60 | ForEach-Object {
                        $_ | Send-IoTDeviceMethodResponse -Status 200 -Payload @{ rebootedIn = $_.Payload.delay; device = $_.DeviceId }
                    }
                }).AddArgument($script:TwinTestModulePath).AddArgument([object[]] $sessions)
            $handle = $ps.BeginInvoke()

            $done = Start-IoTDeviceMethodJob -TagFilter @{ methodJobGroup = $group } -MethodName reboot -Payload @{ delay = 3 } -ResponseTimeout 30 |
                Wait-IoTJob -PollInterval 1 -Timeout 120
            $null = $ps.EndInvoke($handle)
            $ps.Dispose()

            $done.Status | Should -Be 'completed'
            $done.Type | Should -Be 'scheduleDeviceMethod'
            $done.SucceededCount | Should -Be 2
            $done.CloudToDeviceMethod.methodName | Should -Be 'reboot'
            $records = @(Get-IoTJobDevice -JobId $done.JobId)
            $records | Should -HaveCount 2
            $records.MethodStatus | Should -Be @(200, 200)
            ($records | ForEach-Object { $_.MethodPayload.device } | Sort-Object) | Should -Be ($ids | Sort-Object)
            $records[0].MethodPayload.rebootedIn | Should -Be 3
            @(Get-IoTJob -Type scheduleDeviceMethod -Status completed).JobId | Should -Contain $done.JobId
        }
        finally { $sessions | Disconnect-IoTDevice }
    }

    It 'counts an offline device as failed with DeviceNotOnline, and the job still completes' {
        $g = New-JobGroup 1
        $done = Start-IoTDeviceMethodJob -Condition "deviceId = '$($g.Ids[0])'" -MethodName reboot -ResponseTimeout 5 | Wait-IoTJob -PollInterval 1 -Timeout 120
        $done.Status | Should -Be 'completed'
        $done.FailedCount | Should -Be 1
        $record = Get-IoTJobDevice -JobId $done.JobId
        $record.Status | Should -Be 'failed'
        $record.ErrorCode | Should -Be 'DeviceNotOnline'
    }
}
