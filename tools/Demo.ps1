#Requires -Version 7.4
<#
.SYNOPSIS
    The TwinPS demo: a throwaway local IoT Hub, a small fleet, and the README quick start with formatted output.

.DESCRIPTION
    Starts the bundled emulator (in memory), connects to it, creates eight devices in two plants (Redmond43 and
    Seattle12), lets some of them report their connectivity over MQTT as real devices do, and then runs the quick
    start: update tags and desired properties in one ETag-guarded patch (Get-IoTTwin | Update-IoTTwin), show what an
    ETag conflict looks like, query the Redmond43 plant, query its cellular devices, count devices per plant, and hand
    a plant-wide twin update to the hub's job engine (scheduled, waited on with progress). The device half then
    answers a 'reboot' direct method.
    The emulator is stopped at the end, whatever happens. Exits non-zero if any step fails.

    Run it with 'dotnet pwsh -NoProfile -File ./build.ps1 Demo', which builds the module first.

.PARAMETER ModulePath
    The built module manifest; default: $env:TWINPS_MODULE_PATH, else out/TwinPS/TwinPS.psd1 of this repository.
#>
[CmdletBinding()]
param(
    [string] $ModulePath = $(if ($env:TWINPS_MODULE_PATH) { $env:TWINPS_MODULE_PATH } else { Join-Path $PSScriptRoot '../out/TwinPS/TwinPS.psd1' })
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
Import-Module $ModulePath -Force

function Write-Step([string] $Title, [string] $Code) {
    Write-Host ''
    Write-Host "=== $Title ===" -ForegroundColor Cyan
    if ($Code) { Write-Host "PS> $Code" -ForegroundColor DarkGray }
}

function Show([Parameter(ValueFromPipeline)] $InputObject) {
    # Formats the pipeline's objects as a table and writes it to the host.
    begin { $items = [System.Collections.Generic.List[object]]::new() }
    process { $items.Add($InputObject) }
    end { Write-Host (($items | Format-Table -AutoSize | Out-String -Width 160).Trim("`r", "`n")) }
}

$fleet = @(
    [pscustomobject]@{ Id = 'redmond-thermostat-01'; Plant = 'Redmond43'; Region = 'US'; Connectivity = 'cellular' }
    [pscustomobject]@{ Id = 'redmond-thermostat-02'; Plant = 'Redmond43'; Region = 'US'; Connectivity = 'wifi' }
    [pscustomobject]@{ Id = 'redmond-pump-01'; Plant = 'Redmond43'; Region = 'US'; Connectivity = 'cellular' }
    [pscustomobject]@{ Id = 'redmond-pump-02'; Plant = 'Redmond43'; Region = 'US'; Connectivity = $null }
    [pscustomobject]@{ Id = 'seattle-thermostat-01'; Plant = 'Seattle12'; Region = 'US'; Connectivity = 'cellular' }
    [pscustomobject]@{ Id = 'seattle-thermostat-02'; Plant = 'Seattle12'; Region = 'US'; Connectivity = 'wifi' }
    [pscustomobject]@{ Id = 'seattle-pump-01'; Plant = 'Seattle12'; Region = 'US'; Connectivity = $null }
    [pscustomobject]@{ Id = 'seattle-pump-02'; Plant = 'Seattle12'; Region = 'US'; Connectivity = 'cellular' }
)

$twinColumns = @(
    'DeviceId'
    @{ Name = 'Plant'; Expression = { $_.Tags.location.plant } }
    @{ Name = 'Connectivity'; Expression = { if ($_.Reported.PSObject.Properties['connectivity']) { $_.Reported.connectivity } } }
    @{ Name = 'SendFrequency'; Expression = { if ($_.Desired.PSObject.Properties['telemetryConfig']) { $_.Desired.telemetryConfig.sendFrequency } } }
    'ETag'
    'Version'
)

# The device-twin article: a back end needs ServiceConnect to set desired properties and RegistryRead to query; no
# default policy holds exactly those two, so the hub gets one of its own.
$backendPolicy = 'serviceAndRegistryRead=ServiceConnect,RegistryRead'
Write-Step 'Start a local IoT Hub with a shared access policy for the back end' "`$hub = Start-IoTHubEmulator -InMemory -Policy '$backendPolicy'"
$hub = Start-IoTHubEmulator -InMemory -Policy $backendPolicy
try {
    $hub | Show

    Write-Step 'Connect as the hub owner to register devices' '$hub | Connect-IoTHub'
    $hub | Connect-IoTHub | Show

    Write-Step 'Create a fleet of eight devices, and one more for the quick start' 'New-IoTDevice -DeviceId $fleet.Id, myDeviceId'
    New-IoTDevice -DeviceId $fleet.Id | Sort-Object DeviceId | Select-Object DeviceId, Status, AuthenticationType, ETag | Show
    New-IoTDevice -DeviceId myDeviceId | Select-Object DeviceId, Status, ETag | Show

    Write-Step 'From here on, act as the back end: ServiceConnect + RegistryRead, nothing more' @'
Connect-IoTHub -ConnectionString $hub.GetPolicyConnectionString('serviceAndRegistryRead') `
               -CACertificatePath $hub.CACertificatePath -MqttPort $hub.MqttPort
'@
    Connect-IoTHub -ConnectionString $hub.GetPolicyConnectionString('serviceAndRegistryRead') `
        -CACertificatePath $hub.CACertificatePath -MqttPort $hub.MqttPort | Show

    Write-Step 'Tag every device with its plant' "Update-IoTTwinTag -DeviceId <id> -Tag @{ location = @{ region = 'US'; plant = '<plant>' } }"
    foreach ($device in $fleet) {
        Update-IoTTwinTag -DeviceId $device.Id -Tag @{ location = @{ region = $device.Region; plant = $device.Plant } }
    }

    Write-Step 'Devices report their connectivity over MQTT' 'Connect-IoTDevice -ConnectionString (Get-IoTDeviceConnectionString <id>) | Update-IoTTwinReported @{ connectivity = ''cellular'' }'
    if (Get-Command Connect-IoTDevice -ErrorAction SilentlyContinue) {
        foreach ($device in $fleet | Where-Object Connectivity) {
            $connectionString = Get-IoTDeviceConnectionString -DeviceId $device.Id
            $session = Connect-IoTDevice -ConnectionString $connectionString -CACertificatePath $hub.CACertificatePath
            try {
                Update-IoTTwinReported -Session $session -Reported @{ connectivity = $device.Connectivity }
            }
            finally {
                Disconnect-IoTDevice -Session $session
            }
            Write-Host "  $($device.Id) reported connectivity = '$($device.Connectivity)'"
        }
    }
    else {
        Write-Warning 'This build has no device-side cmdlets (Connect-IoTDevice); skipping the reported properties.'
    }

    Write-Step 'Quick start: tags and desired properties in one patch, guarded by the twin''s ETag' @'
Get-IoTTwin -DeviceId myDeviceId |
    Update-IoTTwin -Tag @{ location = @{ region = 'US'; plant = 'Redmond43' } } `
                   -Desired @{ telemetryConfig = @{ sendFrequency = '5m' } } -PassThru
'@
    $before = Get-IoTTwin -DeviceId myDeviceId
    $after = $before | Update-IoTTwin -Tag @{ location = @{ region = 'US'; plant = 'Redmond43' } } `
        -Desired @{ telemetryConfig = @{ sendFrequency = '5m' } } -PassThru
    $after | Select-Object $twinColumns | Show
    Write-Host ($after.Tags | ConvertTo-Json -Depth 5 -Compress) -ForegroundColor DarkGray
    Write-Host ($after.Desired | ConvertTo-Json -Depth 5 -Compress) -ForegroundColor DarkGray

    Write-Step 'The same write with the old ETag is refused (someone else changed the twin)' '$before | Set-IoTTwinDesired -Desired @{ telemetryConfig = @{ sendFrequency = ''1h'' } }'
    $before | Set-IoTTwinDesired -Desired @{ telemetryConfig = @{ sendFrequency = '1h' } } -ErrorVariable conflict -ErrorAction SilentlyContinue
    if (-not $conflict) { throw 'Expected an ETag conflict (PreconditionFailed), but the stale write was accepted.' }
    Write-Host "  $($conflict[0].FullyQualifiedErrorId): $($conflict[0].Exception.Message)" -ForegroundColor Yellow
    Write-Host "  sendFrequency is still '$((Get-IoTTwin -DeviceId myDeviceId).Desired.telemetryConfig.sendFrequency)'"

    Write-Step 'Query the Redmond43 plant (values are quoted safely)' "Search-IoTTwin -Tag @{ 'location.plant' = 'Redmond43' }"
    Search-IoTTwin -Tag @{ 'location.plant' = 'Redmond43' } | Sort-Object DeviceId | Select-Object $twinColumns | Show

    $cellularQuery = "SELECT * FROM devices WHERE tags.location.plant = 'Redmond43' AND properties.reported.connectivity = 'cellular'"
    Write-Step 'Query the Redmond43 devices that use a cellular network' "Search-IoTTwin -Query `"$cellularQuery`""
    Search-IoTTwin -Query $cellularQuery | Sort-Object DeviceId | Select-Object $twinColumns | Show

    Write-Step 'Raise the send frequency on every Redmond43 device (concurrent, each write ETag-guarded)' "Search-IoTTwin -Tag @{ 'location.plant' = 'Redmond43' } | Set-IoTTwinDesired -Desired @{ telemetryConfig = @{ sendFrequency = '1m' } } -PassThru"
    Search-IoTTwin -Tag @{ 'location.plant' = 'Redmond43' } |
        Set-IoTTwinDesired -Desired @{ telemetryConfig = @{ sendFrequency = '1m' } } -PassThru |
        Sort-Object DeviceId | Select-Object $twinColumns | Show

    $countQuery = 'SELECT tags.location.plant AS plant, COUNT() AS devices FROM devices GROUP BY tags.location.plant'
    Write-Step 'Count devices per plant' "Search-IoTTwin -Query '$countQuery'"
    Search-IoTTwin -Query $countQuery | Sort-Object plant | Show

    Write-Step 'Hand the whole Redmond43 plant to the hub''s job engine: a scheduled twin update, waited on with progress' @'
$job = Start-IoTTwinUpdateJob -TagFilter @{ 'location.plant' = 'Redmond43' } `
           -Desired @{ telemetryConfig = @{ sendFrequency = '15m' } } -StartTime (Get-Date).AddSeconds(3) -MaxExecutionTime '00:10:00'
$job | Wait-IoTJob
'@
    $job = Start-IoTTwinUpdateJob -TagFilter @{ 'location.plant' = 'Redmond43' } `
        -Desired @{ telemetryConfig = @{ sendFrequency = '15m' } } -StartTime ([DateTimeOffset]::Now.AddSeconds(3)) -MaxExecutionTime '00:10:00' -Confirm:$false
    $job | Select-Object JobId, Type, Status, StartTime, QueryCondition | Show
    $done = $job | Wait-IoTJob -PollInterval 1 -Timeout 120
    if (-not $done -or $done.Status -ne 'completed') { throw "The plant job did not complete: $($done | Out-String)" }
    $done | Select-Object JobId, Status, DeviceCount, SucceededCount, FailedCount, StartTime, EndTime | Show
    Write-Host 'PS> $job | Get-IoTJobDevice' -ForegroundColor DarkGray
    $done | Get-IoTJobDevice | Sort-Object DeviceId | Select-Object DeviceId, Status, EndTime | Show
    $stale = @(Search-IoTTwin -Tag @{ 'location.plant' = 'Redmond43' } | Where-Object { $_.Desired.telemetryConfig.sendFrequency -ne '15m' })
    if ($stale) { throw "The job left $($stale.Count) Redmond43 twins without the new send frequency." }

    # --- Device half (tools/Demo.Device.ps1, owned by the device side) --------------------------------------------
    # A device connects, reports temperature and connectivity, receives the desired patch the back end sets,
    # acknowledges it, and the back end finds it with Search-IoTTwin on properties.reported.
    & (Join-Path $PSScriptRoot 'Demo.Device.ps1') -DeviceId myDeviceId -CACertificatePath $hub.CACertificatePath

    Write-Host ''
    Write-Host 'Demo finished.' -ForegroundColor Green
}
finally {
    Disconnect-IoTHub
    $hub | Stop-IoTHubEmulator -Confirm:$false
}
