#Requires -Version 7.4
<#
.SYNOPSIS
    The device half of the TwinPS demo: a device and the back end talk through the twin.

.DESCRIPTION
    Called by tools/Demo.ps1 once the hub is started and connected (Connect-IoTHub). A device connects over MQTT,
    reports its temperature and connectivity, receives the desired-property patch the back end sets (both as a
    PowerShell event and through Wait-IoTTwinDesired), acknowledges it in its reported properties, and the back end
    finds it with Search-IoTTwin on properties.reported. Then the device answers a 'reboot' direct method that the back
    end invokes (Wait-IoTDeviceMethod, Send-IoTDeviceMethodResponse, Invoke-IoTDeviceMethod). Throws if any step does not
    behave as shown.

.PARAMETER DeviceId
    The device to act as (created if it does not exist).

.PARAMETER CACertificatePath
    The emulator's CA certificate (trusted for the device's MQTT connection only).
#>
[CmdletBinding()]
param(
    [string] $DeviceId = 'demo-thermostat',
    [string] $CACertificatePath
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

# Demo.ps1 provides Write-Step and Show; keep the script usable on its own too.
if (-not (Get-Command Write-Step -CommandType Function -ErrorAction SilentlyContinue)) {
    function Write-Step([string] $Title, [string] $Code) {
        Write-Host ''
        Write-Host "=== $Title ===" -ForegroundColor Cyan
        if ($Code) { Write-Host "PS> $Code" -ForegroundColor DarkGray }
    }
}
if (-not (Get-Command Show -CommandType Function -ErrorAction SilentlyContinue)) {
    function Show([Parameter(ValueFromPipeline)] $InputObject) {
        begin { $items = [System.Collections.Generic.List[object]]::new() }
        process { $items.Add($InputObject) }
        end { Write-Host (($items | Format-Table -AutoSize | Out-String -Width 160).Trim("`r", "`n")) }
    }
}

if (-not (Get-IoTDevice -DeviceId $DeviceId -ErrorAction SilentlyContinue)) {
    New-IoTDevice -DeviceId $DeviceId | Out-Null
}

Write-Step 'Device: connect over MQTT as the device' "`$device = Get-IoTDeviceConnectionString -DeviceId $DeviceId | Connect-IoTDevice"
$connect = @{}
if ($CACertificatePath) { $connect.CACertificatePath = $CACertificatePath }
$device = Get-IoTDeviceConnectionString -DeviceId $DeviceId | Connect-IoTDevice @connect
try {
    $device | Show

    Write-Step 'Device: read the twin (the device sees desired and reported, never tags)' '$device | Get-IoTDeviceTwin'
    $device | Get-IoTDeviceTwin | Format-List | Out-String -Width 160 | ForEach-Object { Write-Host $_.Trim() }

    Write-Step 'Device: report temperature and connectivity' "`$device | Update-IoTTwinReported -Reported @{ temperature = 21.5; connectivity = 'cellular' } -PassThru"
    $reported = $device | Update-IoTTwinReported -Reported @{ temperature = 21.5; connectivity = 'cellular' } -PassThru
    Write-Host "  reported version is now $($reported.ReportedVersion)"

    Write-Step 'Device: listen for desired-property patches with a PowerShell event' 'Register-ObjectEvent -InputObject $device -EventName DesiredPropertiesReceived -SourceIdentifier DemoDesired'
    $null = Register-ObjectEvent -InputObject $device -EventName DesiredPropertiesReceived -SourceIdentifier DemoDesired
    try {
        Write-Step 'Back end: set a desired property' "Set-IoTTwinDesired -DeviceId $DeviceId -Desired @{ telemetryConfig = @{ sendFrequency = '30s' } }"
        Set-IoTTwinDesired -DeviceId $DeviceId -Desired @{ telemetryConfig = @{ sendFrequency = '30s' } } -Confirm:$false

        $event = Wait-Event -SourceIdentifier DemoDesired -Timeout 15
        if (-not $event) { throw 'The device did not raise DesiredPropertiesReceived within 15 s.' }
        Write-Host "  event: desired version $($event.SourceEventArgs.Version): $($event.SourceEventArgs.ToJson())"
    }
    finally {
        Unregister-Event -SourceIdentifier DemoDesired -ErrorAction SilentlyContinue
        Remove-Event -SourceIdentifier DemoDesired -ErrorAction SilentlyContinue
    }

    Write-Step 'Device: receive the patch' '$patch = $device | Wait-IoTTwinDesired -Count 1 -Timeout 15'
    $patch = $device | Wait-IoTTwinDesired -Count 1 -Timeout 15
    if (-not $patch) { throw 'Wait-IoTTwinDesired received no desired patch within 15 s.' }
    $patch | Show

    Write-Step 'Device: apply it and acknowledge it in the reported properties' @'
$device | Update-IoTTwinReported -Reported @{
    telemetryConfig = @{ sendFrequency = $patch.Properties.telemetryConfig.sendFrequency; status = 'applied'; desiredVersion = $patch.Version } }
'@
    $device | Update-IoTTwinReported -Reported @{
        telemetryConfig = @{ sendFrequency = $patch.Properties.telemetryConfig.sendFrequency; status = 'applied'; desiredVersion = $patch.Version }
    }

    $query = "SELECT * FROM devices WHERE properties.reported.connectivity = 'cellular' AND properties.reported.telemetryConfig.status = 'applied'"
    Write-Step 'Back end: find the devices that are on cellular and applied the new configuration' "Search-IoTTwin -Query `"$query`""
    $found = @(Search-IoTTwin -Query $query)
    if ($found.DeviceId -notcontains $DeviceId) { throw "Search-IoTTwin did not find $DeviceId by its reported properties." }
    $found | Select-Object DeviceId, ConnectionState,
        @{ Name = 'Temperature'; Expression = { $_.Reported.temperature } },
        @{ Name = 'Connectivity'; Expression = { $_.Reported.connectivity } },
        @{ Name = 'SendFrequency'; Expression = { $_.Reported.telemetryConfig.sendFrequency } },
        @{ Name = 'AckedDesiredVersion'; Expression = { $_.Reported.telemetryConfig.desiredVersion } },
        DesiredVersion, ReportedVersion | Show

    Write-Step 'Device: answer direct methods (a loop in a thread job, as a device process would run it)' @'
$answering = Start-ThreadJob {
    param($session)
    $session | Wait-IoTDeviceMethod -Count 1 -Timeout 60 | ForEach-Object {
        $_ | Send-IoTDeviceMethodResponse -Status 200 -Payload @{ rebooting = $true; inSeconds = $_.Payload.delaySeconds }
    }
} -ArgumentList $device
'@
    $modulePath = Join-Path (Get-Module TwinPS).ModuleBase 'TwinPS.psd1'
    $answering = Start-ThreadJob {
        param($modulePath, $session)
        Import-Module $modulePath
        $session | Wait-IoTDeviceMethod -Count 1 -Timeout 60 | ForEach-Object {
            $_ | Send-IoTDeviceMethodResponse -Status 200 -Payload @{ rebooting = $true; inSeconds = $_.Payload.delaySeconds }
            "  device: answered '$($_.MethodName)' (request $($_.RequestId))"
        }
    } -ArgumentList $modulePath, $device
    try {
        Write-Step 'Back end: invoke the reboot method on the device' "Invoke-IoTDeviceMethod -DeviceId $DeviceId -MethodName reboot -Payload @{ delaySeconds = 5 }"
        $result = Invoke-IoTDeviceMethod -DeviceId $DeviceId -MethodName reboot -Payload @{ delaySeconds = 5 } -ResponseTimeout 30 -Confirm:$false
        $answered = $answering | Receive-Job -Wait -ErrorAction Stop
        $answered | ForEach-Object { Write-Host $_ }
        if ($result.Status -ne 200 -or -not $result.Payload.rebooting) { throw "The device did not answer the reboot method as expected: $($result | Out-String)" }
        $result | Select-Object DeviceId, MethodName, Status, @{ Name = 'Payload'; Expression = { $_.PayloadJson() } } | Show
    }
    finally {
        $answering | Remove-Job -Force
    }
}
finally {
    Write-Step 'Device: disconnect' '$device | Disconnect-IoTDevice'
    $device | Disconnect-IoTDevice
}
