# How DocsCommands.Tests.ps1 treats documented commands that cannot simply run to their end here.
# Keys: "<file>: <example title>" for help pages, "<file>: <first line>" for README.md and about_TwinPS.
@{
    # Not run, each with why it cannot run here. Keep this list short: a command that could run with a bit of fixture
    # belongs in the runner's fixture (DocsCommands.Runner.ps1), not here.
    NotRun = @{
        'README.md: dotnet tool restore && dotnet pwsh -NoProfile -File ./build.ps1 Demo' =
            'Rebuilds out/TwinPS, the module this very run is testing, and takes minutes.'
        'README.md: dotnet tool restore && dotnet pwsh -NoProfile -File ./build.ps1 Test' =
            'It is this test run itself (CI runs exactly this command).'
        'README.md: dotnet pwsh -NoProfile -File ./build.ps1 Emulator -- --https-port 8443 --mqtt-port 8883 --data ./hub-data' =
            'Rebuilds out/TwinPS, then runs in the foreground until Ctrl+C on the fixed ports 8443/8883 of a shared machine; its arguments are checked as written by Defects.Tests.ps1 (build.ps1 arguments).'
        'README.md: Register-PSResourceRepository -Name local -Uri ./out/package -Trusted' =
            'Installs TwinPS into the user''s module folder and imports it by name, which a process that already loaded TwinPS from out/ cannot show; Package.Tests.ps1 runs these three commands in a fresh pwsh with a throwaway HOME.'
        'Connect-IoTDevice.md: Example 3: Connect with an X.509 certificate' =
            'Needs a real hub (contoso-hub.azure-devices.net) and the device certificate file ./sensor-7.pfx.'
        'Connect-IoTHub.md: Example 3: Connect with Microsoft Entra ID' =
            'Microsoft Entra ID sign-in to a real hub (contoso-hub.azure-devices.net).'
        'Connect-IoTHub.md: Example 5: Connect by hub name with Microsoft Entra ID' =
            'Microsoft Entra ID sign-in to a real hub (-Name contoso-hub); Example 6 and New-IoTHubEmulatorCredential''s examples run Entra ID tokens against the emulator.'
        'about_TwinPS.help.txt: Connect-IoTHub -HostName contoso-hub.azure-devices.net' =
            'Microsoft Entra ID sign-in to a real hub (contoso-hub.azure-devices.net).'
        'Start-IoTHubEmulator.md: Example 2: A persistent hub on fixed ports' =
            'Binds the fixed ports 8443/8883, which another test run on the same machine may hold at the same time.'
        'Start-IoTHubEmulator.md: Example 3: Let a device SDK connect to the emulator' =
            'node ./device.js is the reader''s own Node.js program with Microsoft''s azure-iot-device SDK; the conformance suite (tests/conformance) connects that SDK to the emulator through a GatewayHostName connection string the same way.'
        'Wait-IoTTwinDesired.md: Example 3: Collect patches for one minute' =
            'Waits 60 s by design (-Timeout 60); Example 1 runs the same command with a count.'
        'Get-IoTTwin.md: Example 3: Read a module twin' =
            'The emulator does not create the $edgeAgent/$edgeHub system modules a real hub gives an IoT Edge device, and refuses to create ids starting with $.'
    }

    # Run until Ctrl+C by design: the runner lets each work for a few seconds, then stops it as Ctrl+C does; it passes
    # when it was still running and had written no error.
    CtrlC = @{
        'Wait-IoTTwinDesired.md: Example 2: Act on every patch until Ctrl+C' = 'Acts on every desired patch until Ctrl+C.'
        'Wait-IoTDeviceMethod.md: Example 2: Serve methods until Ctrl+C' = 'Serves direct-method calls until Ctrl+C.'
    }
}
