# Start-IoTHubEmulator's real-hub conditions (-Tier, -Units, -Rate, -ThrottleMode, -Burst, -Backlog, -BacklogTimeout,
# -FaultRate, -FaultSeed, -FaultKind, -FaultDelay) against the BUILT module and the emulator it starts. The hub's
# answers are read with raw HTTPS (HubHttp), so that no client retry hides them.
BeforeAll {
    . $PSScriptRoot/common.ps1

    function New-RawHub($Emulator) {
        $cs = ConvertFrom-SecureString -SecureString $Emulator.ServiceConnectionString -AsPlainText
        [pscustomobject]@{ Http = [TwinPSTest.HubHttp]::new($cs, $Emulator.CACertificatePath, $TwinTestTime.Eventually) }
    }
}

Describe 'Start-IoTHubEmulator -Tier/-Rate/-ThrottleMode' {
    It 'starts an S1 hub with its published rates, units and job slots, and -Rate (strings and hashtables) overrides classes' {
        $emu = Start-IoTHubEmulator -InMemory -Tier S1 -Units 2 -Rate 'twinUpdate=5/s', @{ query = '3/min'; registry = 2 }
        try {
            $t = $emu.Throttle
            $t | Should -BeOfType ([TwinPS.Models.EmulatorThrottleInfo])
            $t.Tier | Should -Be 'S1'
            $t.Units | Should -Be 2
            $t.Mode | Should -Be 'Shape'
            $t.BurstSeconds | Should -Be 60
            $t.Backlog | Should -Be 100
            $t.BacklogTimeoutSeconds | Should -Be 10
            $t.MaxActiveJobs | Should -Be 1
            $t.RatesPerSecond['twinRead'] | Should -Be 100
            $t.RatesPerSecond['twinUpdate'] | Should -Be 5
            $t.RatesPerSecond['query'] | Should -Be 0.05
            $t.RatesPerSecond['registry'] | Should -Be 2
            $t.RatesPerSecond['jobOperation'] | Should -BeGreaterThan 3.33
            $t.RatesPerSecond['method'] | Should -Be 80
            $emu.Faults | Should -BeNullOrEmpty
            "$t" | Should -Be 'S1 x2, Shape, burst 60 s'
        }
        finally { $emu | Stop-IoTHubEmulator -Confirm:$false }
    }

    It 'throttles strictly with the given burst: the third read in the bucket of two is 429 ThrottlingException without Retry-After' {
        $emu = Start-IoTHubEmulator -InMemory -Rate @{ twinRead = '1/min' } -Burst 120 -ThrottleMode Strict
        $raw = New-RawHub $emu
        try {
            $emu.Throttle.Tier | Should -BeNullOrEmpty
            $emu.Throttle.Mode | Should -Be 'Strict'
            $emu.Throttle.RatesPerSecond.Keys | Should -Be @('twinRead')
            Invoke-TwinTestRest $raw PUT '/devices/d1' @{ deviceId = 'd1' } | Out-Null
            $raw.Http.Send('GET', '/twins/d1', $null).Status | Should -Be 200
            $raw.Http.Send('GET', '/twins/d1', $null).Status | Should -Be 200
            $third = $raw.Http.Send('GET', '/twins/d1', $null)
            $third.Status | Should -Be 429
            ($third.Body | ConvertFrom-Json).Message | Should -Be 'ErrorCode:ThrottlingException;The request has been throttled. Wait 10 seconds and try again. Operation type: TwinRead'
            $stats = Invoke-TwinTestRest $raw GET '/$twinps/stats'
            $stats.throttled.byClass.twinRead.ThrottlingException | Should -Be 1
        }
        finally { $raw.Http.Dispose(); $emu | Stop-IoTHubEmulator -Confirm:$false }
    }

    It 'shapes with -Backlog and -BacklogTimeout' {
        $emu = Start-IoTHubEmulator -InMemory -Rate 'registry=1/min' -Burst 60 -Backlog 0 -BacklogTimeout 2
        $raw = New-RawHub $emu
        try {
            $emu.Throttle.Backlog | Should -Be 0
            $emu.Throttle.BacklogTimeoutSeconds | Should -Be 2
            $raw.Http.Send('GET', '/devices/none', $null).Status | Should -Be 404
            # The bucket is empty and no request may wait: refused at once as a full backlog.
            $full = $raw.Http.Send('GET', '/devices/none', $null)
            $full.Status | Should -Be 429
            ($full.Body | ConvertFrom-Json).Message | Should -BeLike 'ErrorCode:ThrottleBacklogLimitExceeded;*Operation type: CRUD'
        }
        finally { $raw.Http.Dispose(); $emu | Stop-IoTHubEmulator -Confirm:$false }
    }

    It 'refuses a bad tier, a bad rate or a bad mode before starting anything' -TestCases @(
        @{ Splat = @{ Tier = 'B1' } }
        @{ Splat = @{ Rate = 'twinUpdate=fast' } }
        @{ Splat = @{ Rate = @{ bogus = '1/s' } } }
        @{ Splat = @{ Rate = 'query=0/min' } }
        @{ Splat = @{ Tier = 'S1'; ThrottleMode = 'Gentle' } }
        @{ Splat = @{ FaultRate = 1.5 } }
        @{ Splat = @{ FaultRate = 0.1; FaultKind = 'Flaky' } }
    ) {
        param($Splat)
        { Start-IoTHubEmulator -InMemory @Splat } |
            Should -Throw -ErrorId 'ParameterArgumentValidationError,TwinPS.Commands.StartIoTHubEmulatorCommand'
    }

    It 'refuses settings that need another one, naming the parameters' -TestCases @(
        @{ Splat = @{ Units = 2 }; Text = '-Units needs -Tier' }
        @{ Splat = @{ ThrottleMode = 'Strict' }; Text = 'need -Tier or -Rate' }
        @{ Splat = @{ Burst = 5 }; Text = 'need -Tier or -Rate' }
        @{ Splat = @{ Tier = 'S1'; ThrottleMode = 'Strict'; Backlog = 5 }; Text = 'Shape only' }
        @{ Splat = @{ FaultKind = 'ServerError' }; Text = 'need -FaultRate' }
        @{ Splat = @{ FaultSeed = 3 }; Text = 'need -FaultRate' }
    ) {
        param($Splat, $Text)
        $err = { Start-IoTHubEmulator -InMemory @Splat } |
            Should -Throw -ErrorId 'InvalidEmulatorSettings,TwinPS.Commands.StartIoTHubEmulatorCommand' -PassThru
        $err.Exception.Message | Should -BeLike "*$Text*"
        $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
    }

    It 'passes on what only the emulator can judge, with its message' {
        $err = { Start-IoTHubEmulator -InMemory -Tier S3 -Units 11 } |
            Should -Throw -ErrorId 'EmulatorStartFailed,TwinPS.Commands.StartIoTHubEmulatorCommand' -PassThru
        $err.Exception.Message | Should -BeLike '*at most 10 units*'
    }
}

Describe 'Start-IoTHubEmulator -FaultRate/-FaultSeed/-FaultKind/-FaultDelay' {
    It 'injects the chosen faults, reports the seed, and leaves the test-support endpoint alone' {
        $emu = Start-IoTHubEmulator -InMemory -FaultRate 1 -FaultSeed 7 -FaultKind ServiceUnavailable, SlowResponse -FaultDelay 0.2 -Verbose 4>&1 |
            Where-Object { $_ -is [TwinPS.Models.EmulatorInfo] }
        $raw = New-RawHub $emu
        try {
            $emu.Throttle | Should -BeNullOrEmpty
            $emu.Faults.Rate | Should -Be 1
            $emu.Faults.Seed | Should -Be 7
            $emu.Faults.Kinds | Should -Be @('ServiceUnavailable', 'SlowResponse')
            $emu.Faults.SlowResponseSeconds | Should -Be 0.2
            $statuses = 1..6 | ForEach-Object { $raw.Http.Send('GET', '/twins/none', $null).Status }
            $statuses | Should -BeIn @(503, 404)
            $stats = Invoke-TwinTestRest $raw GET '/$twinps/stats'
            ($stats.faults.byKind.ServiceUnavailable + $stats.faults.byKind.SlowResponse) | Should -Be 6
            @($statuses | Where-Object { $_ -eq 503 }).Count | Should -Be $stats.faults.byKind.ServiceUnavailable
        }
        finally { $raw.Http.Dispose(); $emu | Stop-IoTHubEmulator -Confirm:$false }
    }

    It 'reports the effective settings on the verbose stream' {
        $verbose = Start-IoTHubEmulator -InMemory -Tier F1 -ThrottleMode Strict -FaultRate 0.5 -FaultKind ResetAfterCommit -Verbose 4>&1
        $emu = $verbose | Where-Object { $_ -is [TwinPS.Models.EmulatorInfo] }
        try {
            $text = ($verbose | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }) -join "`n"
            $text | Should -BeLike '*Throttling: F1 x1, Strict, burst 1 s*'
            $text | Should -BeLike "*Fault injection: rate 0.5, seed $($emu.Faults.Seed), ResetAfterCommit*"
        }
        finally { $emu | Stop-IoTHubEmulator -Confirm:$false }
    }
}
