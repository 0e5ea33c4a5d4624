# The defects a new user hit (issue 10), each proven against a real emulator and the built module.
BeforeDiscovery {
    $modulePath = if ($env:TWINPS_MODULE_PATH) { $env:TWINPS_MODULE_PATH } else { Join-Path $PSScriptRoot '../../out/TwinPS/TwinPS.psd1' }
    Import-Module $modulePath -Force
    $script:cmdlets = @(Get-Command -Module TwinPS -CommandType Cmdlet).Name
}

BeforeAll {
    . $PSScriptRoot/common.ps1
    $hub = Start-TwinTestHub
    $ids = 'nd-1', 'nd-2', 'nd-3'
    New-TwinTestDevice $hub $ids
    # Move each twin's etag away from its device identity's etag (both start as small counters).
    foreach ($id in $ids) { $null = Set-TwinTestTwin $hub $id @{ tags = @{ seed = 1 } } }
}

AfterAll {
    Stop-TwinTestHub $hub
}

Describe 'A device identity ETag is never sent as a twin ETag' {
    It 'Get-IoTDevice (the list) | Update-IoTTwinTag writes every twin, with no If-Match from the identity' {
        $devices = @(Get-IoTDevice | Where-Object DeviceId -In $ids)
        $devices | Should -HaveCount 3
        @($devices | Where-Object GenerationId) | Should -BeNullOrEmpty -Because 'a listed device (from the query API) has no generation id'
        $whatIf = Get-TwinTestWhatIf { $devices | Update-IoTTwinTag -Tag @{ owner = 'ops' } -WhatIf }
        $whatIf | Should -HaveCount 3
        $whatIf | Should -Not -Match 'If-Match' -Because 'the device ETag is the identity''s, not the twin''s'

        $devices | Update-IoTTwinTag -Tag @{ owner = 'ops' } -ErrorVariable failed -ErrorAction SilentlyContinue
        $failed | Should -BeNullOrEmpty
        foreach ($id in $ids) { (Get-TwinTestTwin $hub $id).tags.owner | Should -BeExactly 'ops' }
    }

    It 'holds for every twin writer and for devices read back from CSV and JSON' {
        $csv = Join-Path $TestDrive 'devices.csv'
        Get-IoTDevice | Where-Object DeviceId -In $ids | Export-Csv -Path $csv
        $fromCsv = @(Import-Csv $csv)
        $fromJson = @(Get-IoTDevice | Where-Object DeviceId -In $ids | ConvertTo-Json -Depth 5 | ConvertFrom-Json)
        foreach ($source in @{ Name = 'list'; Items = @(Get-IoTDevice | Where-Object DeviceId -In $ids) },
            @{ Name = 'by id'; Items = @(Get-IoTDevice -DeviceId $ids) },
            @{ Name = 'csv'; Items = $fromCsv }, @{ Name = 'json'; Items = $fromJson }) {
            $lines = @(
                Get-TwinTestWhatIf { $source.Items | Set-IoTTwinDesired -Desired @{ mode = 'eco' } -WhatIf }
                Get-TwinTestWhatIf { $source.Items | Update-IoTTwin -Tag @{ a = 1 } -WhatIf }
                Get-TwinTestWhatIf { $source.Items | Update-IoTTwinTag -Tag @{ a = 1 } -Replace -WhatIf }
            )
            $lines | Should -HaveCount 9 -Because "each of 3 devices ($($source.Name)) gets one line per writer"
            foreach ($line in $lines) {
                foreach ($device in $source.Items) {
                    $line | Should -Not -Match ([regex]::Escape("If-Match: `"$($device.ETag)`"")) -Because "$($source.Name): $line"
                }
            }
        }
        # A real twin's ETag is still used: the write stays optimistic-concurrency safe.
        $twin = Get-IoTTwin nd-1
        (Get-TwinTestWhatIf { $twin | Update-IoTTwinTag -Tag @{ a = 1 } -WhatIf }) | Should -Match ([regex]::Escape("If-Match: `"$($twin.ETag)`""))
    }
}

Describe 'Error messages' {
    It 'a 412 from a stale piped twin names its device' {
        $stale = Get-IoTTwin nd-2
        $null = Set-TwinTestTwin $hub 'nd-2' @{ tags = @{ moved = 1 } }
        $stale | Set-IoTTwinDesired -Desired @{ x = 1 } -ErrorVariable err -ErrorAction SilentlyContinue
        $err | Should -HaveCount 1
        $err[0].FullyQualifiedErrorId | Should -BeLike 'PreconditionFailed*'
        $err[0].TargetObject | Should -Be 'nd-2'
        "$($err[0])" | Should -Match "'nd-2'"
    }

    It 'a 404 for a module names the device and module' {
        Get-IoTTwin -DeviceId nd-3 -ModuleId nomodule -ErrorVariable err -ErrorAction SilentlyContinue
        $err | Should -HaveCount 1
        "$($err[0])" | Should -Match "'nd-3/nomodule'"
    }

    It 'a query error shows the parser''s message once' {
        $err = { Search-IoTTwin -Query 'SELECT * FROM devices WHERE' -ErrorAction Stop } | Should -Throw -PassThru
        $message = "$err"
        $message | Should -Match 'column 28'
        ([regex]::Matches($message, 'expected an expression')).Count | Should -Be 1 -Because $message
    }
}

Describe 'An unquoted value read as a property path' {
    It 'gets a warning with -Query, and the query still runs' {
        $null = Set-TwinTestTwin $hub 'nd-1' @{ tags = @{ plant = 'Redmond43' } }
        $result = @(Search-IoTTwin -Query 'SELECT * FROM devices WHERE tags.plant = Redmond43' -WarningVariable warned -WarningAction SilentlyContinue)
        $result | Should -HaveCount 0
        $warned | Should -HaveCount 1
        "$($warned[0])" | Should -Match "'Redmond43'"
        "$($warned[0])" | Should -Match 'quote'
    }

    It 'is not warned about when quoted, for known roots, or for -Tag (whose values are always quoted)' {
        $quoted = @(Search-IoTTwin -Query "SELECT * FROM devices WHERE tags.plant = 'Redmond43' AND status = 'enabled'" -WarningVariable w1 -WarningAction SilentlyContinue)
        $w1 | Should -BeNullOrEmpty
        $quoted.DeviceId | Should -Be @('nd-1')
        $null = Search-IoTTwin -Query 'SELECT * FROM devices WHERE properties.desired.x = properties.reported.x OR deviceId = moduleId' -WarningVariable w3 -WarningAction SilentlyContinue
        $w3 | Should -BeNullOrEmpty
        $tagged = @(Search-IoTTwin -Tag @{ plant = 'Redmond43' } -WarningVariable w2 -WarningAction SilentlyContinue)
        $w2 | Should -BeNullOrEmpty
        $tagged.DeviceId | Should -Be @('nd-1')
    }
}

Describe 'Hub name' {
    It 'is the emulator''s hub name when Start-IoTHubEmulator is piped to Connect-IoTHub' {
        $emulator = Start-IoTHubEmulator -InMemory -HubName 'contoso-lab'
        try {
            $connection = $emulator | Connect-IoTHub -NoSessionDefault
            $connection.HubName | Should -BeExactly 'contoso-lab'
            $connection.HostName | Should -BeLike 'localhost:*'
        }
        finally { $emulator | Stop-IoTHubEmulator -Confirm:$false }
        (Connect-IoTHub -ConnectionString $hub.serviceConnectionString -CACertificatePath $hub.caCertificatePath -HubName $hub.hubName -NoSessionDefault).HubName |
            Should -BeExactly $hub.hubName
    }
}

Describe 'build.ps1 arguments' {
    It 'takes the README''s emulator command as written, with and without --' {
        $readme = Get-Content -Raw (Join-Path $TwinTestRepoRoot 'README.md')
        $line = [regex]::Match($readme, '(?m)^dotnet pwsh -NoProfile -File \./build\.ps1 Emulator .*$').Value
        $line | Should -Not -BeNullOrEmpty
        $arguments = @($line -split ' ' | Select-Object -Skip 5)  # after 'dotnet pwsh -NoProfile -File ./build.ps1'
        $pwsh = [System.Diagnostics.Process]::GetCurrentProcess().MainModule.FileName
        [string[]] $prefix = if ((Split-Path $pwsh -Leaf) -like 'pwsh*') { @() } else { Join-Path $PSHOME 'pwsh.dll' }
        $env:TWINPS_BUILD_PARSE_ONLY = '1'
        try {
            foreach ($form in @($arguments), @($arguments | Where-Object { $_ -ne '--' })) {
                $out = & $pwsh @prefix -NoProfile -NonInteractive -File (Join-Path $TwinTestRepoRoot 'build.ps1') @form 2>&1
                $LASTEXITCODE | Should -Be 0 -Because "$out"
                $parsed = "$out" | ConvertFrom-Json
                $parsed.Task | Should -Be 'Emulator'
                $parsed.Configuration | Should -Be 'Release'
                $parsed.TaskArguments | Should -Be @($arguments | Select-Object -Skip 1 | Where-Object { $_ -ne '--' })
            }
        }
        finally { Remove-Item Env:TWINPS_BUILD_PARSE_ONLY }
    }
}

Describe 'README prerequisites' {
    It 'names the .NET SDK that global.json pins' {
        $sdk = (Get-Content -Raw (Join-Path $TwinTestRepoRoot 'global.json') | ConvertFrom-Json).sdk.version
        $readme = Get-Content -Raw (Join-Path $TwinTestRepoRoot 'README.md')
        $prerequisites = [regex]::Match($readme, '(?m)^Prerequisites:.*(\r?\n[^\r\n]+)*').Value
        $prerequisites | Should -Match ([regex]::Escape($sdk))
        $prerequisites | Should -Not -Match 'SDK\]\(https://dot\.net\) \(8\.0'
    }
}

Describe 'Help positions match the binding' {
    It '<_> documents every positional parameter with its position' -ForEach $cmdlets {
        $command = Get-Command $_
        $help = Get-Help $_ -Full
        foreach ($parameter in @($help.parameters.parameter | Where-Object { $_ })) {
            $sets = @($command.ParameterSets | ForEach-Object { $_.Parameters } | Where-Object Name -EQ $parameter.name)
            $positions = @($sets | Where-Object Position -GE 0 | ForEach-Object Position | Sort-Object -Unique)
            if ($positions.Count -eq 0) {
                $parameter.position | Should -Be 'named' -Because "-$($parameter.name) of $_ binds by name only"
                continue
            }
            $parameter.position | Should -Not -Be 'named' -Because "-$($parameter.name) of $_ binds by position"
            foreach ($p in $positions) { $parameter.position | Should -Match "(^|\D)$p(\D|$)" -Because "-$($parameter.name) of $_" }
        }
    }

    It 'shows -Desired of Set-IoTTwinDesired at position 1 after -DeviceId, and 0 after a piped twin' {
        $position = (Get-Help Set-IoTTwinDesired -Parameter Desired).position
        $position | Should -Match '(^|; )1 \(ById\)(;|$)'
        $position | Should -Match '(^|; )0 \(ByTwin, ByDevice\)(;|$)'
    }
}
