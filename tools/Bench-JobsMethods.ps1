#Requires -Version 7.4
<#
.SYNOPSIS
    Jobs and direct-methods benchmark (not a test): a twin-update job over N devices beside the same update by a
    Search-IoTTwin | Set-IoTTwinDesired -ThrottleLimit 16 pipeline, the direct-method round trip, and
    Invoke-IoTDeviceMethod on M connected TwinPS devices with -ThrottleLimit 16.
.DESCRIPTION
    Runs in this pwsh with the built module against one emulator process with a durable data folder (a temporary
    folder, removed at the end). Devices answering methods are TwinPS device sessions in this process, answered by
    thread jobs running Wait-IoTDeviceMethod | Send-IoTDeviceMethodResponse. Rewrites the block between the
    jobs-methods-benchmark markers of the output file; every figure and note comes from this run.
#>
[CmdletBinding()]
param(
    [string] $ModulePath = (Join-Path $PSScriptRoot '../out/TwinPS/TwinPS.psd1'),
    [string] $EmulatorDll = (Join-Path $PSScriptRoot '../out/TwinPS/emulator/TwinPS.Emulator.dll'),
    [string] $Output = (Join-Path $PSScriptRoot '../docs/benchmarks.md'),
    [ValidateRange(100, 100000)] [int] $Devices = 10000,
    [ValidateRange(10, 5000)] [int] $MethodDevices = 1000,
    [ValidateRange(20, 10000)] [int] $RoundTrips = 300,
    [ValidateRange(1, 8)] [int] $Answerers = 4
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
$ModulePath = (Resolve-Path $ModulePath).Path
$EmulatorDll = (Resolve-Path $EmulatorDll).Path
Import-Module $ModulePath -Force

. (Join-Path $PSScriptRoot 'BenchCommon.ps1')

function Start-Answerers($Sessions, [int] $Count, [int] $Calls) {
    # $Count thread jobs, each answering $Calls calls per session of its share of $Sessions; returns once every job
    # has imported the module (so thread start-up is not timed as part of the calls).
    $chunk = [math]::Ceiling($Sessions.Count / $Count)
    $shares = [Collections.Generic.List[object]]::new()
    for ($i = 0; $i -lt $Sessions.Count; $i += $chunk) { $shares.Add(@($Sessions[$i..([math]::Min($i + $chunk, $Sessions.Count) - 1)])) }
    $ready = [Threading.CountdownEvent]::new($shares.Count)
    $jobs = foreach ($share in $shares) {
        Start-ThreadJob -ArgumentList $ModulePath, $share, ($share.Count * $Calls), $ready -ScriptBlock {
            param($modulePath, $sessions, $calls, $ready)
            Import-Module $modulePath
            $null = $ready.Signal()
            Wait-IoTDeviceMethod -Session $sessions -Count $calls -Timeout 900 | Send-IoTDeviceMethodResponse -Status 200 -Payload @{ ok = $true }
        }
    }
    if (-not $ready.Wait([TimeSpan]::FromMinutes(2))) { throw 'The answering thread jobs did not start within 2 minutes.' }
    $jobs
}

$inv = [Globalization.CultureInfo]::InvariantCulture
$data = Join-Path ([IO.Path]::GetTempPath()) ('twinps-jobs-bench-' + [guid]::NewGuid().ToString('N'))
$ready = Start-BenchEmulator $EmulatorDll @('--https-port', '0', '--mqtt-port', '0', '--data', $data)
$emulator = $ready.Process
$results = [Collections.Generic.List[object]]::new()
$notes = [Collections.Generic.List[string]]::new()
$sessions = @()
$firstLoad = Get-LoadAverage
try {
    $null = Connect-IoTHub -ConnectionString $ready.serviceConnectionString -CACertificatePath $ready.caCertificatePath
    $ids = @(1..$Devices | ForEach-Object { 'jb-{0:d6}' -f $_ })
    Write-Host "Creating $Devices devices"
    $null = New-IoTDevice -DeviceId $ids

    # 1. The hub's job engine.
    $load = Get-LoadAverage
    $before = Get-ProcessMemory $emulator.Id
    $sw = [Diagnostics.Stopwatch]::StartNew()
    $job = Start-IoTTwinUpdateJob -Condition '*' -Desired @{ benchRound = 'job' } -MaxExecutionTime '01:00:00'
    do { Start-Sleep -Milliseconds 100; $job = Get-IoTJob -JobId $job.JobId } until ($job.IsFinished)
    $sw.Stop()
    $after = Get-ProcessMemory $emulator.Id
    $jobSeconds = $sw.Elapsed.TotalSeconds
    $results.Add([pscustomobject]@{ Name = "Twin-update job over $Devices devices: PUT to completed (Start-IoTTwinUpdateJob, GET every 100 ms)"; Value = ('{0:N1} s ({1:N0} twins/s; {2} succeeded, {3} failed, status {4})' -f $jobSeconds, ($job.SucceededCount / $jobSeconds), $job.SucceededCount, $job.FailedCount, $job.Status); Load = $load })
    $results.Add([pscustomobject]@{ Name = 'Emulator memory during the job (resident now / peak of the process so far)'; Value = ('{0} MB / {1} MB (before the job {2} MB)' -f $after.RssMB, $after.PeakMB, $before.RssMB); Load = $load })

    # 2. The same update as a pipeline from this session.
    $load = Get-LoadAverage
    $sw = [Diagnostics.Stopwatch]::StartNew()
    Search-IoTTwin -Query 'SELECT * FROM devices' | Set-IoTTwinDesired -Desired @{ benchRound = 'pipeline' } -ThrottleLimit 16 -ErrorVariable pipelineErrors -ErrorAction SilentlyContinue
    $sw.Stop()
    $pipelineSeconds = $sw.Elapsed.TotalSeconds
    $check = @(Search-IoTTwin -Query "SELECT COUNT() AS n FROM devices WHERE properties.desired.benchRound = 'pipeline'")[0].n
    $results.Add([pscustomobject]@{ Name = "Same update by Search-IoTTwin | Set-IoTTwinDesired -ThrottleLimit 16 over $Devices twins"; Value = ('{0:N1} s ({1:N0} twins/s; {2} updated, {3} errors)' -f $pipelineSeconds, ($check / $pipelineSeconds), $check, @($pipelineErrors).Count); Load = $load })

    # 3. Round trip of one direct method on loopback.
    $key = (Get-IoTDeviceConnectionString -DeviceId $ids[0] -WarningAction SilentlyContinue)
    $one = Connect-IoTDevice -ConnectionString $key -MqttPort $ready.mqttPort -CACertificatePath $ready.caCertificatePath
    $sessions += $one
    $answer = @(Start-Answerers @($one) 1 ($RoundTrips + 5))
    foreach ($i in 1..5) { $null = Invoke-IoTDeviceMethod -DeviceId $ids[0] -MethodName warmup }
    $load = Get-LoadAverage
    $times = [Collections.Generic.List[double]]::new()
    foreach ($i in 1..$RoundTrips) {
        $sw = [Diagnostics.Stopwatch]::StartNew()
        $r = Invoke-IoTDeviceMethod -DeviceId $ids[0] -MethodName ping -Payload @{ i = $i }
        $sw.Stop()
        if ($r.Status -ne 200) { throw "call $i answered $($r.Status)" }
        $times.Add($sw.Elapsed.TotalMilliseconds)
    }
    $answer | Wait-Job -Timeout 60 | Out-Null; $answer | Remove-Job -Force
    $results.Add([pscustomobject]@{ Name = "Direct-method round trip, $RoundTrips sequential calls (Invoke-IoTDeviceMethod → HTTPS → emulator → MQTT → TwinPS device loop → back)"; Value = ('p50 {0:N1} ms, p99 {1:N1} ms (mean {2:N1} ms, max {3:N1} ms)' -f (Get-Percentile $times 50), (Get-Percentile $times 99), ($times | Measure-Object -Average).Average, ($times | Measure-Object -Maximum).Maximum); Load = $load })

    # 4. One call on each of M connected devices.
    $methodIds = @($ids[1..$MethodDevices])
    Write-Host "Connecting $MethodDevices device sessions"
    $load = Get-LoadAverage
    $sw = [Diagnostics.Stopwatch]::StartNew()
    $connectionStrings = @(Get-IoTDeviceConnectionString -DeviceId $methodIds -WarningAction SilentlyContinue)
    $many = @($connectionStrings | ForEach-Object { Connect-IoTDevice -ConnectionString $_ -MqttPort $ready.mqttPort -CACertificatePath $ready.caCertificatePath })
    $sw.Stop()
    $sessions += $many
    $notes.Add(('Connecting the {0} device sessions one after the other (Get-IoTDeviceConnectionString | Connect-IoTDevice) took {1:N1} s; {2} are Connected.' -f $MethodDevices, $sw.Elapsed.TotalSeconds, @($many | Where-Object Status -eq 'Connected').Count))
    $answer = @(Start-Answerers $many $Answerers 1)
    $load = Get-LoadAverage
    $sw = [Diagnostics.Stopwatch]::StartNew()
    $answers = @(Invoke-IoTDeviceMethod -DeviceId $methodIds -MethodName ping -ThrottleLimit 16 -ErrorVariable methodErrors -ErrorAction SilentlyContinue)
    $sw.Stop()
    $ok = @($answers | Where-Object Status -eq 200).Count
    $answer | Wait-Job -Timeout 60 | Out-Null; $answer | Remove-Job -Force
    $codes = (@($methodErrors) | Group-Object { $_.FullyQualifiedErrorId.Split(',')[0] } | ForEach-Object { "$($_.Count) $($_.Name)" }) -join ', '
    $results.Add([pscustomobject]@{ Name = "Invoke-IoTDeviceMethod on $MethodDevices connected devices, -ThrottleLimit 16 ($Answerers thread jobs answer for the devices)"; Value = ('{0:N1} s, {1:N0} calls/s; {2} answered 200, {3} errors{4}' -f $sw.Elapsed.TotalSeconds, ($ok / $sw.Elapsed.TotalSeconds), $ok, @($methodErrors).Count, $(if ($codes) { " ($codes)" } else { '' })); Load = $load })

    $ratio = $pipelineSeconds / $jobSeconds
    $notes.Add(('The job engine updated {0} twins in {1:N1} s, the pipeline from this session in {2:N1} s: the job took {3:N2} times the pipeline''s time. The emulator runs a twin job 8 devices at a time with a durable commit per device; the pipeline ran 16 PATCH requests at a time, each ETag-guarded.' -f $Devices, $jobSeconds, $pipelineSeconds, (1 / $ratio)))
    $notes.Add(('Not measured, computed from the published S1 rates: the emulator ran without --tier, so neither path was throttled. On an S1 hub the jobs device-operations throttle (10 devices/s) puts the same {0} twins at about {1:N0} s as a job, and the twin-update throttle (50/s) at least {2:N0} s as a pipeline; the job needs no client connected while it runs.' -f $Devices, ($Devices / 10), ($Devices / 50)))
}
finally {
    $sessions | Disconnect-IoTDevice -ErrorAction SilentlyContinue
    Disconnect-IoTHub
    Stop-BenchEmulator $ready
    Remove-Item -Recurse -Force $data -ErrorAction SilentlyContinue
}

$lastLoad = Get-LoadAverage
$sb = [Text.StringBuilder]::new()
$null = $sb.AppendLine('## Jobs and direct methods')
$null = $sb.AppendLine()
$null = $sb.AppendLine(("Measured {0:yyyy-MM-dd HH:mm} UTC by ``tools/Bench-JobsMethods.ps1`` (``dotnet pwsh -NoProfile -File ./build.ps1 Bench``), in one run. " -f [datetime]::UtcNow) +
    'The cmdlets ran in one pwsh with the built module from out/TwinPS; the emulator ran as its own process with a **durable** data folder (a fresh temporary folder) on the same machine. ' +
    'The devices that answer methods are TwinPS device sessions (MQTT over TLS) in the same pwsh, answered by thread jobs running Wait-IoTDeviceMethod | Send-IoTDeviceMethodResponse.')
$null = $sb.AppendLine()
$null = $sb.AppendLine(('Machine: {0}. ' -f (Get-MachineDescription)) + (Get-LoadSentence $firstLoad $lastLoad))
$null = $sb.AppendLine()
$null = $sb.Append((Format-BenchTable $results '— (no goal set)'))
$null = $sb.AppendLine()
$null = $sb.AppendLine('What this run shows:')
$null = $sb.AppendLine()
foreach ($note in $notes) { $null = $sb.AppendLine("- $note") }
$section = $sb.ToString()
Write-Host $section
Write-BenchSection $Output 'jobs-methods-benchmark' $section
