# TwinPS's Invoke-IoTDeviceMethod, for the conformance suite: calls one device and prints the result as one JSON line.
param(
    [Parameter(Mandatory)][string] $ModulePath,
    [Parameter(Mandatory)][string] $ServiceConnectionString,
    [Parameter(Mandatory)][string] $CACertificatePath,
    [Parameter(Mandatory)][string] $DeviceId,
    [Parameter(Mandatory)][string] $MethodName
)
$ErrorActionPreference = 'Stop'
Import-Module $ModulePath
$null = Connect-IoTHub -ConnectionString $ServiceConnectionString -CACertificatePath $CACertificatePath
$result = Invoke-IoTDeviceMethod -DeviceId $DeviceId -MethodName $MethodName -Payload @{ level = 3 } -ResponseTimeout 30 -ConnectTimeout 10 -Confirm:$false
$result | Select-Object DeviceId, ModuleId, MethodName, Status, Payload | ConvertTo-Json -Depth 10 -Compress
exit 0
