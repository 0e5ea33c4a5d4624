# A device written with TwinPS, for the conformance suite: connects, prints READY, answers one direct method with
# {"answeredBy":"TwinPS","method":<name>,"echo":<payload>}, and exits 0 (1 if no call came within 60 s).
param(
    [Parameter(Mandatory)][string] $ModulePath,
    [Parameter(Mandatory)][string] $ConnectionString,
    [Parameter(Mandatory)][int] $MqttPort,
    [Parameter(Mandatory)][string] $CACertificatePath
)
$ErrorActionPreference = 'Stop'
Import-Module $ModulePath
$session = Connect-IoTDevice -ConnectionString $ConnectionString -MqttPort $MqttPort -CACertificatePath $CACertificatePath
try {
    'READY'
    $call = Wait-IoTDeviceMethod -Session $session -Count 1 -Timeout 60
    if (-not $call) { exit 1 }
    $call | Send-IoTDeviceMethodResponse -Status 200 -Payload @{ answeredBy = 'TwinPS'; method = $call.MethodName; echo = $call.Payload }
    'ANSWERED'
}
finally {
    $session | Disconnect-IoTDevice
}
exit 0
