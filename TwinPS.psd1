@{
    RootModule           = 'TwinPS.psm1'
    RequiredAssemblies   = @('TwinPS.Loader.dll')
    ModuleVersion        = '0.1.0'
    CompatiblePSEditions = @('Core')
    GUID                 = '6f1c2d3e-8a4b-4c5d-9e6f-7a8b9c0d1e2f'
    Author               = 'TwinPS contributors'
    CompanyName          = 'TwinPS'
    Copyright            = '(c) TwinPS contributors. MIT License.'
    Description          = 'Azure IoT Hub device twins from PowerShell: read twins, set desired properties and tags with ETag safety, query the fleet with the IoT Hub query language, manage devices, act as a device over MQTT, and test it all offline against a bundled local IoT Hub emulator.'
    PowerShellVersion    = '7.4'
    FormatsToProcess     = @('TwinPS.Format.ps1xml', 'TwinPS.Hub.Format.ps1xml', 'TwinPS.Device.Format.ps1xml', 'TwinPS.Jobs.Format.ps1xml')
    TypesToProcess       = @('TwinPS.Types.ps1xml')
    CmdletsToExport      = @(
        'Connect-IoTHub'
        'Disconnect-IoTHub'
        'Get-IoTHubConnection'
        'Start-IoTHubEmulator'
        'Stop-IoTHubEmulator'
        'New-IoTHubEmulatorCredential'
        'Get-IoTTwin'
        'Set-IoTTwinDesired'
        'Update-IoTTwinTag'
        'Update-IoTTwin'
        'Set-IoTTwin'
        'Search-IoTTwin'
        'ConvertTo-IoTTwinJson'
        'New-IoTDevice'
        'Get-IoTDevice'
        'Set-IoTDevice'
        'Remove-IoTDevice'
        'Get-IoTDeviceConnectionString'
        'Connect-IoTDevice'
        'Disconnect-IoTDevice'
        'Get-IoTDeviceTwin'
        'Update-IoTTwinReported'
        'Wait-IoTTwinDesired'
        'Invoke-IoTDeviceMethod'
        'Wait-IoTDeviceMethod'
        'Send-IoTDeviceMethodResponse'
        'Start-IoTTwinUpdateJob'
        'Start-IoTDeviceMethodJob'
        'Get-IoTJob'
        'Get-IoTJobDevice'
        'Wait-IoTJob'
        'Stop-IoTJob'
        'New-IoTModule'
        'Get-IoTModule'
        'Remove-IoTModule'
    )
    FunctionsToExport    = @()
    VariablesToExport    = @()
    AliasesToExport      = @()
    PrivateData          = @{
        PSData = @{
            Tags         = @('Azure', 'IoT', 'IoTHub', 'DeviceTwin', 'Twin', 'DeviceTwins', 'MQTT', 'Emulator', 'EntraID', 'Linux', 'Windows', 'MacOS')
            ProjectUri   = 'https://github.com/TwinPS/TwinPS'
            LicenseUri   = 'https://opensource.org/licenses/MIT'
            ReleaseNotes = @'
0.1.0 (first preview)
- Backend: Get-IoTTwin, Set-IoTTwinDesired, Update-IoTTwinTag, Update-IoTTwin, Set-IoTTwin (ETag-safe), Search-IoTTwin
  (every page streamed, safe quoting), device identities (New/Get/Set/Remove-IoTDevice, Get-IoTDeviceConnectionString).
- Device side over MQTT: Connect-IoTDevice, Get-IoTDeviceTwin, Update-IoTTwinReported, Wait-IoTTwinDesired.
- A local IoT Hub emulator (Start-IoTHubEmulator), with a test stand-in for Microsoft Entra ID:
  New-IoTHubEmulatorCredential runs scripts under IoT Hub data-plane roles offline. Connect-IoTHub -Name for Entra ID.
- Dependencies (Azure.Core, Azure.Identity, MSAL, MQTTnet, ...) load in the module's own AssemblyLoadContext: TwinPS
  works beside Az.Accounts and other modules in either load order.
'@
        }
    }
}
