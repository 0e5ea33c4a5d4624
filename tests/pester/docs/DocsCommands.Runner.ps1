# Runs documented examples (from DocExamples.ps1) in THIS process against the fixture hub described by -FixturePath and
# writes one result per example to -ResultPath (JSON). Started by DocsCommands.Tests.ps1 in a fresh pwsh whose
# SSL_CERT_FILE trusts the fixture hub's CA, the way a real hub's certificate is trusted, so examples such as
# 'Connect-IoTHub -ConnectionString $secret' run as written.
#
# What a reader of the pages has at hand, rebuilt for each documentation file (its examples then run in order, in one
# runspace, like a reader trying a page):
#   - the devices and modules the pages name (minus the ones the page's own examples create), thermostat-01 tagged
#     location.plant = Redmond43 with a desired telemetryInterval, sensor-2 disabled for maintenance, test-* devices;
#   - $session, thermostat-01's device session, with a desired change that arrived while it was connected;
#   - devices that answer direct methods (200, a firmware version) on pages that call methods, and a back end that calls
#     'reboot' on thermostat-01 on pages whose device answers calls;
#   - the jobs the pages name (rollout-42 done, reboot-7 with failed devices, nightly-reboot scheduled), made once;
#   - a console: confirmations answered Yes, Read-Host answered with the connection string it asks for;
#   - files the examples read, connection strings in the variables and environment variables they use.
param(
    [Parameter(Mandatory)][string] $ExamplesPath,
    [Parameter(Mandatory)][string] $FixturePath,
    [Parameter(Mandatory)][string] $ResultPath,
    [Parameter(Mandatory)][string] $ModulePath,
    [Parameter(Mandatory)][string] $RepoRoot,
    # The most one example (or a fixture helper's start) may take: reaching it means the example hangs.
    [Parameter(Mandatory)][int] $TimeoutSeconds,
    # How long an example that runs until Ctrl+C by design runs before the runner presses Ctrl+C.
    [Parameter(Mandatory)][int] $CtrlCAfterSeconds
)
$ErrorActionPreference = 'Stop'
Add-Type -Path (Join-Path $PSScriptRoot 'DocsHost.cs')
$examples = @(Get-Content -Raw $ExamplesPath | ConvertFrom-Json)
$fixture = Get-Content -Raw $FixturePath | ConvertFrom-Json
$results = [System.Collections.Generic.List[object]]::new()

$fixtureDevices = @(
    'thermostat-01', 'thermostat-02', 'thermostat-03', 'sensor-1', 'sensor-2', 'sensor-7', 'myDeviceId', 'csv-1', 'csv-2',
    'gateway-7', 'test-1', 'test-2')
$fixtureModules = 'telemetry', 'camera'   # of gateway-7
# The devices that answer direct methods on pages that call them (thermostat-01 too when the page has no $session).
$answeringDevices = 'thermostat-02', 'thermostat-03'

# As text: a script block would run in the session state of the runspace that made it.
$connect = {
    param($Fixture)
    Connect-IoTHub -ConnectionString $Fixture.serviceConnectionString -CACertificatePath $Fixture.caCertificatePath -MqttPort $Fixture.mqttPort -HubName $Fixture.hubName
}.ToString()

# Once: the jobs the pages name.
$jobs = {
    param($Fixture, $ModulePath, $Connect)
    $ErrorActionPreference = 'Stop'
    Import-Module $ModulePath
    $null = & ([scriptblock]::Create($Connect)) $Fixture
    $null = New-IoTDevice -DeviceId job-1, job-2
    Update-IoTTwinTag -DeviceId job-1, job-2 -Tag @{ location = @{ plant = 'Redmond43' } }
    # Offline devices: the hub records DeviceNotOnline for each.
    $null = Start-IoTDeviceMethodJob -JobId reboot-7 -Condition "deviceId IN ['job-1', 'job-2']" -MethodName reboot | Wait-IoTJob -PollInterval 1
    $null = Start-IoTTwinUpdateJob -JobId rollout-42 -Condition "deviceId IN ['job-1', 'job-2']" -Desired @{ firmware = '2.1.0' } | Wait-IoTJob -PollInterval 1
    $null = Start-IoTDeviceMethodJob -JobId nightly-reboot -TagFilter @{ 'location.plant' = 'Redmond43' } -MethodName reboot -StartTime (Get-Date).Date.AddDays(1).AddHours(2)
    Remove-Module TwinPS -Force
}

$setup = {
    param($Fixture, $ModulePath, $WorkDir, $Devices, $Modules, $WithSession, $Connect)
    $ErrorActionPreference = 'Stop'
    Import-Module $ModulePath
    Set-Location $WorkDir
    $global:serviceCs = $Fixture.serviceConnectionString
    $global:fixture = $Fixture
    $global:connectFixture = [scriptblock]::Create($Connect)
    $null = & ([scriptblock]::Create($Connect)) $Fixture
    Disconnect-IoTDevice -All
    Get-IoTDevice | Remove-IoTDevice -Force
    if ($Devices) { $null = New-IoTDevice -DeviceId $Devices }
    if ($Devices -contains 'gateway-7' -and $Modules) { $null = $Modules | New-IoTModule -DeviceId gateway-7 }
    if ($Devices -contains 'sensor-2') { $null = Set-IoTDevice -DeviceId sensor-2 -Status Disabled -StatusReason maintenance }
    if ($Devices -contains 'thermostat-01') {
        Update-IoTTwin -DeviceId thermostat-01 -Tag @{ location = @{ plant = 'Redmond43' } } -Desired @{ telemetryInterval = 30 }
        $global:deviceCs = Get-IoTDeviceConnectionString -DeviceId thermostat-01
        if ($WithSession) {
            $global:session = Connect-IoTDevice -ConnectionString $deviceCs
            # A desired change the back end made while the device was connected: the "next patch" examples see it.
            Set-IoTTwinDesired -DeviceId thermostat-01 -Desired @{ telemetryInterval = 45 }
        }
    }
    $global:secret = ConvertTo-SecureString $serviceCs -AsPlainText -Force
    $global:otherHub = $serviceCs
    $global:plantName = 'Redmond43'
    $global:prod = Connect-IoTHub -ConnectionString $serviceCs -CACertificatePath $Fixture.caCertificatePath -NoSessionDefault
    $global:test = Connect-IoTHub -ConnectionString $serviceCs -CACertificatePath $Fixture.caCertificatePath -NoSessionDefault
    $env:IOTHUB_CONNECTION_STRING = $serviceCs
    $env:PROD_HUB = $serviceCs
    $env:TEST_HUB = $serviceCs
    'thermostat-01', 'thermostat-02' | Set-Content ./ids.txt
    'thermostat-01', 'thermostat-02' | Set-Content ./device-ids.txt
    'DeviceId', 'csv-1', 'csv-2' | Set-Content ./devices.csv
    # The examples run with the console's default.
    $global:ErrorActionPreference = 'Continue'
}

# Background helpers of a page, each in a runspace of its own, stopped when the page is done.
$answerer = {
    # Devices that answer every direct method with 200 and a firmware version.
    param($Fixture, $ModulePath, $Connect, [string[]] $DeviceIds, [string] $ModuleDeviceId, [string] $ModuleId)
    $ErrorActionPreference = 'Stop'
    Import-Module $ModulePath
    $null = & ([scriptblock]::Create($Connect)) $Fixture
    $sessions = @(foreach ($id in $DeviceIds) { Get-IoTDeviceConnectionString -DeviceId $id | Connect-IoTDevice })
    if ($ModuleId) { $sessions += Get-IoTDeviceConnectionString -DeviceId $ModuleDeviceId -ModuleId $ModuleId | Connect-IoTDevice }
    'ready'
    $sessions | Wait-IoTDeviceMethod | Send-IoTDeviceMethodResponse -Status 200 -Payload @{ version = '1.4.2' }
}
$caller = {
    # A back end that keeps a 'reboot' call pending on a device until the page is done.
    param($Fixture, $ModulePath, $Connect, [string] $DeviceId)
    $ErrorActionPreference = 'Stop'
    Import-Module $ModulePath
    $null = & ([scriptblock]::Create($Connect)) $Fixture
    'ready'
    while ($true) {
        # Whatever a call meets (not answered in time, a dropped connection), the next one goes out.
        try { $null = Invoke-IoTDeviceMethod -DeviceId $DeviceId -MethodName reboot -ResponseTimeout 60 -ConnectTimeout 60 -ErrorAction SilentlyContinue }
        catch { Start-Sleep -Milliseconds 200 }
    }
}

function Start-Helper([scriptblock] $Script, [object[]] $Arguments) {
    <# Starts $Script in a runspace of its own; returns it once it wrote 'ready' (or failed). #>
    $runspace = [runspacefactory]::CreateRunspace()
    $runspace.Open()
    $ps = [powershell]::Create($runspace)
    $null = $ps.AddScript($Script)
    foreach ($argument in $Arguments) { $null = $ps.AddArgument($argument) }
    $output = [System.Management.Automation.PSDataCollection[object]]::new()
    $async = $ps.BeginInvoke([System.Management.Automation.PSDataCollection[object]]::new(), $output)
    $deadline = [DateTime]::UtcNow.AddSeconds($TimeoutSeconds)
    while (-not $output.Count -and -not $async.IsCompleted -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 50 }
    $helper = [pscustomobject]@{ Runspace = $runspace; PowerShell = $ps; Async = $async }
    if (-not $output.Count) {
        Stop-Helper $helper
        throw "a fixture helper did not start: $(@($ps.Streams.Error)[0])"
    }
    $helper
}

function Stop-Helper($Helper) {
    if (-not $Helper) { return }
    $Helper.PowerShell.Stop()
    $Helper.PowerShell.Dispose()
    $Helper.Runspace.Dispose()
}

function Invoke-InRunspace($Runspace, [scriptblock] $Script, [object[]] $Arguments) {
    <# Runs $Script in $Runspace; returns its errors. #>
    $ps = [powershell]::Create($Runspace)
    try {
        $null = $ps.AddScript($Script)
        foreach ($argument in $Arguments) { $null = $ps.AddArgument($argument) }
        $null = $ps.Invoke()
        @($ps.Streams.Error)
    }
    catch { $_ }
    finally { $ps.Dispose() }
}

$jobsRunspace = [runspacefactory]::CreateRunspace()
$jobsRunspace.Open()
$jobsError = Invoke-InRunspace $jobsRunspace $jobs @($fixture, $ModulePath, $connect) | Select-Object -First 1
$jobsRunspace.Dispose()

foreach ($group in $examples | Group-Object File) {
    $workDir = Join-Path ([System.IO.Path]::GetTempPath()) ('twinps-docs-' + [guid]::NewGuid())
    $null = New-Item -ItemType Directory $workDir
    $pageCode = @($group.Group.Code) -join "`n"
    # What the page's examples create themselves is absent when the page starts (examples that start an emulator of
    # their own create in that one).
    $creating = @($group.Group | Where-Object { $_.Code -notmatch 'Start-IoTHubEmulator' } | ForEach-Object Code)
    $devices = @($fixtureDevices | Where-Object {
            $id = $_
            -not ($creating | Where-Object { ($_ -match 'New-IoTDevice' -and $_ -match "\b$([regex]::Escape($id))\b") -or ($_ -match 'devices\.csv' -and $_ -match 'New-IoTDevice' -and $id -like 'csv-*') })
        })
    $modules = @($fixtureModules | Where-Object { $m = $_; -not ($creating | Where-Object { $_ -match 'New-IoTModule' -and $_ -match "\b$m\b" }) })
    $withSession = $pageCode -match '\$session\b'
    $needsAnswers = $pageCode -match 'Invoke-IoTDeviceMethod|Start-IoTDeviceMethodJob'
    $needsCalls = $pageCode -match 'Wait-IoTDeviceMethod'

    $host_ = [TwinPSDocs.AnsweringHost]::new()
    $runspace = [runspacefactory]::CreateRunspace($host_)
    $runspace.Open()
    $helpers = @()
    try {
        $setupError = if ($jobsError) { "fixture jobs failed: $jobsError" }
        if (-not $setupError) {
            $setupError = Invoke-InRunspace $runspace $setup @($fixture, $ModulePath, $workDir, $devices, $modules, $withSession, $connect) | Select-Object -First 1
            if ($setupError) { $setupError = "fixture set-up failed: $setupError" }
        }
        if (-not $setupError) {
            try {
                $host_.Answers.ServiceAnswer = $fixture.serviceConnectionString
                $host_.Answers.DeviceAnswer = $runspace.SessionStateProxy.GetVariable('deviceCs')
                if ($needsAnswers) {
                    $ids = @($answeringDevices | Where-Object { $_ -in $devices }) + @(if (-not $withSession -and $devices -contains 'thermostat-01') { 'thermostat-01' })
                    $moduleId = if ($devices -contains 'gateway-7' -and $modules -contains 'telemetry') { 'telemetry' }
                    $helpers += Start-Helper $answerer @($fixture, $ModulePath, $connect, $ids, 'gateway-7', $moduleId)
                }
                if ($needsCalls -and $withSession) { $helpers += Start-Helper $caller @($fixture, $ModulePath, $connect, 'thermostat-01') }
            }
            catch { $setupError = "fixture set-up failed: $_" }
        }
        foreach ($example in $group.Group) {
            $result = [ordered]@{ Key = $example.Key; Passed = $false; Error = $null; Seconds = 0 }
            if ($setupError) { $result.Error = $setupError; $results.Add([pscustomobject]$result); continue }
            if ($example.Language -ne 'powershell') {
                $result.Error = "a '$($example.Language)' block has no runner here; list it in DocsCommands.Exceptions.psd1 with the reason"
                $results.Add([pscustomobject]$result); continue
            }
            $code = if ($example.File -eq 'README.md') { "Set-Location '$RepoRoot'`n" + $example.Code } else { $example.Code }
            # Each example starts from the page's context: the session connected to the fixture hub (an earlier example
            # may have connected the session elsewhere).
            $null = Invoke-InRunspace $runspace { $null = & $connectFixture $fixture }
            $ps = [powershell]::Create($runspace)
            $started = [DateTime]::UtcNow
            try {
                # Output is formatted as the console would show it (format views run), then dropped.
                $null = $ps.AddScript($code).AddCommand('Out-String').AddParameter('Width', 160)
                $async = $ps.BeginInvoke()
                if ($example.CtrlC) {
                    if ($async.AsyncWaitHandle.WaitOne([TimeSpan]::FromSeconds($CtrlCAfterSeconds))) {
                        $ended = try { $null = $ps.EndInvoke($async); 'ended by itself; it is documented to run until Ctrl+C' } catch { "$($_.Exception.InnerException ?? $_.Exception)" }
                        $result.Error = if ($ps.Streams.Error.Count) { "$($ps.Streams.Error[0]) [$($ps.Streams.Error[0].FullyQualifiedErrorId)]" } else { $ended }
                    }
                    else {
                        $ps.Stop()   # what Ctrl+C does
                        if ($ps.Streams.Error.Count) { $result.Error = "$($ps.Streams.Error[0]) [$($ps.Streams.Error[0].FullyQualifiedErrorId)]" }
                        else { $result.Passed = $true }
                    }
                }
                elseif (-not $async.AsyncWaitHandle.WaitOne([TimeSpan]::FromSeconds($TimeoutSeconds))) {
                    $ps.Stop()
                    $result.Error = "did not finish within $TimeoutSeconds s"
                }
                else {
                    $null = $ps.EndInvoke($async)
                    if ($ps.Streams.Error.Count) {
                        $first = $ps.Streams.Error[0]
                        $result.Error = "$first [$($first.FullyQualifiedErrorId)]"
                    }
                    else { $result.Passed = $true }
                }
            }
            catch { $result.Error = "$($_.Exception.InnerException ?? $_.Exception) " }
            finally {
                $ps.Dispose()
                $result.Seconds = [math]::Round(([DateTime]::UtcNow - $started).TotalSeconds, 1)
            }
            $results.Add([pscustomobject]$result)
        }
    }
    finally {
        foreach ($helper in $helpers) { Stop-Helper $helper }
        # Close the file's device sessions and stop the emulators its examples started (module removal does both).
        $null = Invoke-InRunspace $runspace { Get-EventSubscriber | Unregister-Event; Disconnect-IoTDevice -All -ErrorAction SilentlyContinue; Remove-Module TwinPS -Force }
        $runspace.Dispose()
        Remove-Item $workDir -Recurse -Force -ErrorAction SilentlyContinue
    }
}
$results | ConvertTo-Json -Depth 4 | Set-Content $ResultPath
