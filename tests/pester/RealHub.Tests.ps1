# The module against an emulator that behaves like a real hub on a bad day: throttling (strict and shaping, with
# compressed rates so each test takes seconds) and injected faults. Proves that bulk work paces itself to the hub's
# limit without errors, that progress and verbose output tell the user what happens, and that a write whose answer
# was lost is neither reported as a false failure nor applied twice.
BeforeAll {
    . $PSScriptRoot/common.ps1

    function Get-TwinTestStats($Hub) {
        # The stats read may itself meet an injected fault: try a few times.
        for ($i = 0; ; $i++) {
            try { return Invoke-TwinTestRest $Hub GET '/$twinps/stats' }
            catch { if ($i -ge 10) { throw } Start-Sleep -Milliseconds 100 }
        }
    }

    function Get-DesiredValue($Hub, [string] $DeviceId, [string] $Name) {
        for ($i = 0; ; $i++) {
            try { return (Get-TwinTestTwin $Hub $DeviceId).properties.desired.$Name }
            catch { if ($i -ge 10) { throw } Start-Sleep -Milliseconds 100 }
        }
    }
}

Describe 'Bulk writes against a strict throttle (429 at once over the rate)' {
    BeforeAll {
        $strict = Start-TwinTestHub -EmulatorArguments @('--rate', 'twinUpdate=40/s', '--throttle', 'strict')
        $ids = 1..200 | ForEach-Object { "s-$_" }
        New-TwinTestDevice $strict $ids
    }
    AfterAll { Stop-TwinTestHub $strict }

    It 'updates every twin with no error, learns a rate near the limit and meets few 429s' {
        $before = Get-TwinTestStats $strict
        Set-IoTTwinDesired -DeviceId $ids -Desired @{ wave = 1 } -ThrottleLimit 16 -Connection $strict.Connection -ErrorVariable errs
        $errs | Should -BeNullOrEmpty
        $after = Get-TwinTestStats $strict
        $after.writesApplied.twin - $before.writesApplied.twin | Should -Be 200
        foreach ($id in $ids) { Get-DesiredValue $strict $id 'wave' | Should -Be 1 -Because "twin $id" }

        $learned = $strict.Connection.Throttling | Where-Object Class -eq 'TwinUpdate'
        $learned | Should -Not -BeNullOrEmpty
        # Between cuts the pace probes upward (2 to 10 %/s), so when the run ends it can stand a little over the
        # limit (44.2 was seen at load 28): within a quarter of it, not at the unpaced rate of 16 in flight.
        $learned.LearnedRate | Should -BeLessOrEqual 50
        $learned.LearnedRate | Should -BeGreaterThan 20
        # Without pacing, 16 in flight against 40/s would be answered 429 many times per success.
        $throttled = $after.throttled.byClass.twinUpdate.ThrottlingException - $before.throttled.byClass.twinUpdate.ThrottlingException
        $throttled | Should -BeLessThan 100
    }

    It 'shows progress with done/total, the rate and what waits on the throttle, and reports back-offs with -Verbose' {
        $ps = [PowerShell]::Create()
        try {
            $null = $ps.AddScript({
                    param($ModulePath, $ConnectionString, $CaPath, $Ids)
                    Import-Module $ModulePath
                    $c = Connect-IoTHub -ConnectionString $ConnectionString -CACertificatePath $CaPath -NoSessionDefault
                    Set-IoTTwinDesired -DeviceId $Ids -Desired @{ wave = 2 } -ThrottleLimit 16 -Connection $c -Verbose
                }).AddArgument($script:TwinTestModulePath).AddArgument($strict.serviceConnectionString).AddArgument($strict.caCertificatePath).AddArgument($ids)
            $null = $ps.Invoke()
            $ps.Streams.Error | Should -BeNullOrEmpty
            $progress = @($ps.Streams.Progress)
            $progress.Count | Should -BeGreaterThan 1
            $progress[0].Activity | Should -Be 'Set-IoTTwinDesired'
            $progress[0].StatusDescription | Should -Match '^\d+ of 200 twins done, [\d.]+/s, \d+ waiting on the hub''s throttle'
            $progress[0].PercentComplete | Should -BeGreaterOrEqual 0
            ($progress | Where-Object StatusDescription -match 'paced at') | Should -Not -BeNullOrEmpty
            $progress[-1].RecordType | Should -Be 'Completed'
            $progress[-1].StatusDescription | Should -Match '^200 of 200 twins done'
            $verbose = @($ps.Streams.Verbose | ForEach-Object Message)
            ($verbose -match '^Learned rate: TwinUpdate: pacing at [\d.]+/s') | Should -Not -BeNullOrEmpty
            ($verbose -match '^Back-off: 429 ThrottlingException on PATCH /twins/s-\d+') | Should -Not -BeNullOrEmpty
            $verbose -join "`n" | Should -Not -Match 'sig=|SharedAccessKey='
        }
        finally {
            $ps.Dispose()
        }
    }
}

Describe 'Bulk reads against traffic shaping (a small backlog, then 429002/429003)' {
    BeforeAll {
        $shaped = Start-TwinTestHub -EmulatorArguments @('--rate', 'twinRead=50/s', '--burst', '1', '--backlog', '4', '--backlog-timeout', '1')
        $ids = 1..150 | ForEach-Object { "r-$_" }
        New-TwinTestDevice $shaped $ids
    }
    AfterAll { Stop-TwinTestHub $shaped }

    It 'reads every twin once with no error when 16 in flight overflow the backlog' {
        $twins = Get-IoTTwin -DeviceId $ids -ThrottleLimit 16 -Connection $shaped.Connection -ErrorVariable errs
        $errs | Should -BeNullOrEmpty
        @($twins.DeviceId | Sort-Object -Unique).Count | Should -Be 150
        @($twins).Count | Should -Be 150
        # As for writes: the pace may have probed a little over the limit when the run ends (within a quarter of it).
        ($shaped.Connection.Throttling | Where-Object Class -eq 'TwinRead').LearnedRate | Should -BeLessOrEqual 62.5
    }
}

Describe 'Writes whose answers are lost after the hub applied them' {
    BeforeAll {
        # Every third request or so is processed and committed, then its connection is reset before the answer.
        $lossy = Start-TwinTestHub -EmulatorArguments @('--fault-rate', '0.3', '--fault-kind', 'ResetAfterCommit', '--fault-seed', '11')
        $c = $lossy.Connection
    }
    AfterAll { Stop-TwinTestHub $lossy }

    It 'creates every device once: a create retried into 409 is judged by reading the device back' {
        $before = Get-TwinTestStats $lossy
        $created = New-IoTDevice -DeviceId (1..40 | ForEach-Object { "l-$_" }) -Connection $c -ErrorVariable errs
        $errs | Should -BeNullOrEmpty
        @($created).Count | Should -Be 40
        $after = Get-TwinTestStats $lossy
        $after.faults.byKind.ResetAfterCommit | Should -BeGreaterThan $before.faults.byKind.ResetAfterCommit
        $after.devices | Should -Be 40
    }

    It 'applies each conditional desired write exactly once and reports no false PreconditionFailed' {
        $twins = Get-IoTTwin -DeviceId (1..40 | ForEach-Object { "l-$_" }) -Connection $c
        $before = Get-TwinTestStats $lossy
        $twins | Set-IoTTwinDesired -Desired @{ lot = 7 } -Connection $c -ThrottleLimit 8 -ErrorVariable errs
        $errs | Should -BeNullOrEmpty
        $after = Get-TwinTestStats $lossy
        $after.writesApplied.twin - $before.writesApplied.twin | Should -Be 40
        $after.faults.byKind.ResetAfterCommit | Should -BeGreaterThan $before.faults.byKind.ResetAfterCommit
        (Get-IoTTwin -DeviceId (1..40 | ForEach-Object { "l-$_" }) -Connection $c).Desired.lot | Sort-Object -Unique | Should -Be 7
    }

    It 'still reports a real conflict: a twin changed by someone else since it was read' {
        $stale = Get-IoTTwin -DeviceId l-1 -Connection $c
        Set-IoTTwinDesired -DeviceId l-1 -Desired @{ other = 'writer' } -Connection $c   # no ETag: unconditional
        $stale | Set-IoTTwinDesired -Desired @{ lot = 8 } -Connection $c -ErrorVariable errs -ErrorAction SilentlyContinue
        $errs.Count | Should -Be 1
        $errs[0].FullyQualifiedErrorId | Should -BeLike 'PreconditionFailed,*'
        $errs[0].TargetObject | Should -Be 'l-1'
        (Get-IoTTwin -DeviceId l-1 -Connection $c).Desired.lot | Should -Be 7
    }

    It 'removes every device: a delete retried into 404 is a success' {
        Remove-IoTDevice -DeviceId (1..40 | ForEach-Object { "l-$_" }) -Connection $c -Confirm:$false -ErrorVariable errs
        $errs | Should -BeNullOrEmpty
        (Get-TwinTestStats $lossy).devices | Should -Be 0
    }
}

Describe 'Connect-IoTHub retry settings, and answers that were not lost' {
    BeforeAll { $plain = Start-TwinTestHub }
    AfterAll { Stop-TwinTestHub $plain }

    It 'reports DeviceNotFound for a device that never existed when the first answer says so' {
        Remove-IoTDevice -DeviceId 'never-was' -Connection $plain.Connection -Confirm:$false -ErrorVariable errs -ErrorAction SilentlyContinue
        $errs.Count | Should -Be 1
        $errs[0].FullyQualifiedErrorId | Should -BeLike 'DeviceNotFound,*'
    }

    It 'shows the retry time budget on the connection and takes -RetryTimeoutSec' {
        $plain.Connection.RetryTimeout | Should -Be ([TimeSpan]::FromMinutes(5))
        $c = Connect-IoTHub -ConnectionString $plain.serviceConnectionString -CACertificatePath $plain.caCertificatePath -RetryTimeoutSec 42 -NoSessionDefault
        $c.RetryTimeout | Should -Be ([TimeSpan]::FromSeconds(42))
        @($c.Throttling).Count | Should -Be 0
        { Connect-IoTHub -ConnectionString $plain.serviceConnectionString -CACertificatePath $plain.caCertificatePath -RetryTimeoutSec -1 } |
            Should -Throw -ErrorId 'ParameterArgumentValidationError,TwinPS.Commands.ConnectIoTHubCommand'
    }
}

Describe 'A connection that still fails after all retries' {
    BeforeAll {
        # Every write's connection is reset before its answer (reads, such as the connection's own check, are not), so
        # no write gets an answer however often it is retried; retries are bounded to 1 s.
        $down = Start-TwinTestHub -EmulatorArguments @('--fault-rate', '1', '--fault-kind', 'ResetAfterCommit')
        $c = Connect-IoTHub -ConnectionString $down.serviceConnectionString -CACertificatePath $down.caCertificatePath -RetryTimeoutSec 1 -NoSessionDefault
        $ids = 1..6 | ForEach-Object { "cut-$_" }
    }
    AfterAll { Stop-TwinTestHub $down }

    It 'fails each twin as its own non-terminating ConnectionError and goes on with the rest' {
        Set-IoTTwinDesired -DeviceId $ids -Desired @{ a = 1 } -ThrottleLimit 2 -Connection $c -ErrorVariable errs -ErrorAction SilentlyContinue
        $errs.Count | Should -Be 6
        foreach ($e in $errs) {
            $e.FullyQualifiedErrorId | Should -Be 'ConnectionError,TwinPS.Commands.SetIoTTwinDesiredCommand'
            $e.CategoryInfo.Category | Should -Be 'ConnectionError'
        }
        @($errs.TargetObject | Sort-Object) | Should -Be @($ids | Sort-Object)
        (Get-TwinTestStats $down).faults.byKind.ResetAfterCommit | Should -BeGreaterOrEqual 6
    }

    It 'does the same for identity cmdlets (one error per device, none ends the command)' {
        $created = New-IoTDevice -DeviceId $ids -Connection $c -ErrorVariable errs -ErrorAction SilentlyContinue
        $created | Should -BeNullOrEmpty
        $errs.Count | Should -Be 6
        ($errs.FullyQualifiedErrorId | Sort-Object -Unique) | Should -Be 'ConnectionError,TwinPS.Commands.NewIoTDeviceCommand'
        @($errs.TargetObject | Sort-Object) | Should -Be @($ids | Sort-Object)
    }
}
