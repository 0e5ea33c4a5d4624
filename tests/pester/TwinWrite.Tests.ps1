BeforeAll {
    . $PSScriptRoot/common.ps1
    $hub = Start-TwinTestHub
    $devices = 1..13 | ForEach-Object { "w-$_" }
    New-TwinTestDevice $hub $devices
    New-TwinTestModule $hub 'w-1' 'edge'

    function Get-Raw([string] $DeviceId, [string] $ModuleId) { Get-TwinTestTwin $hub $DeviceId $ModuleId }
    function Get-Desired([string] $DeviceId) {
        $desired = [ordered]@{}
        (Get-Raw $DeviceId).properties.desired.PSObject.Properties | Where-Object Name -notlike '$*' | ForEach-Object { $desired[$_.Name] = $_.Value }
        $desired
    }
}

AfterAll {
    Stop-TwinTestHub $hub
}

Describe 'Set-IoTTwinDesired' {
    It 'merges desired properties from a hashtable and -PassThru returns the updated twin' {
        $twin = Set-IoTTwinDesired -DeviceId w-1 -Desired @{ interval = 30; mode = 'eco' } -PassThru
        $twin.PSObject.TypeNames[0] | Should -Be 'TwinPS.Twin'
        $twin.Desired.interval | Should -Be 30
        $null = Set-IoTTwinDesired w-1 @{ fan = @{ speed = 3 } }
        $raw = Get-Raw w-1
        $raw.properties.desired.interval | Should -Be 30
        $raw.properties.desired.mode | Should -BeExactly 'eco'
        $raw.properties.desired.fan.speed | Should -Be 3
    }

    It 'accepts an ordered dictionary, a PSCustomObject and JSON text, nested, with arrays' {
        Set-IoTTwinDesired w-2 ([ordered]@{ a = 1; list = @(1, 'two', @{ three = 3 }) })
        Set-IoTTwinDesired w-2 ([pscustomobject]@{ b = [pscustomobject]@{ c = $true } })
        Set-IoTTwinDesired w-2 '{"d": {"e": [1.5, "x"]}, "f": "2024-01-02T03:04:05.1234567Z"}'
        $desired = (Get-Raw w-2).properties.desired
        $desired.a | Should -Be 1
        $desired.list[1] | Should -BeExactly 'two'
        $desired.list[2].three | Should -Be 3
        $desired.b.c | Should -BeTrue
        $desired.d.e[0] | Should -Be 1.5
        (Get-IoTTwin w-2).Desired.f | Should -BeExactly '2024-01-02T03:04:05.1234567Z'
    }

    It 'removes a key given as $null' {
        Set-IoTTwinDesired w-3 @{ keep = 1; drop = 2; tree = @{ x = 1; y = 2 } }
        Set-IoTTwinDesired w-3 @{ drop = $null; tree = @{ y = $null } }
        $desired = Get-Desired w-3
        $desired.Keys | Should -Not -Contain 'drop'
        $desired.keep | Should -Be 1
        $desired.tree.PSObject.Properties.Name | Should -Be @('x')
    }

    It 'replaces the whole desired section with -Replace and leaves tags alone' {
        $null = Set-TwinTestTwin $hub 'w-4' @{ tags = @{ site = 'A' }; properties = @{ desired = @{ old = 1; both = @{ p = 1; q = 2 } } } }
        $twin = Set-IoTTwinDesired w-4 @{ new = 2; both = @{ q = 3 } } -Replace -Confirm:$false -PassThru
        $desired = Get-Desired w-4
        $desired.Keys | Sort-Object | Should -Be @('both', 'new')
        $desired.both.PSObject.Properties.Name | Should -Be @('q')
        $desired.both.q | Should -Be 3
        (Get-Raw w-4).tags.site | Should -BeExactly 'A'
        $twin.Desired.new | Should -Be 2
    }

    It 'refuses $null values with -Replace before any request' {
        Assert-NoRequestSent $hub {
            { Set-IoTTwinDesired w-4 @{ a = $null } -Replace -Confirm:$false -ErrorAction Stop } |
                Should -Throw -ErrorId 'ArgumentInvalid,TwinPS.Commands.SetIoTTwinDesiredCommand'
        }
    }

    It 'patches module twins with -ModuleId' {
        $null = Set-IoTTwinDesired -DeviceId w-1 -ModuleId edge -Desired @{ route = 'r1' }
        (Get-Raw w-1 edge).properties.desired.route | Should -BeExactly 'r1'
        (Get-Raw w-1).properties.desired.PSObject.Properties.Name | Should -Not -Contain 'route'
    }
}

Describe 'Update-IoTTwinTag' {
    It 'merges tags, removes $null tags, and -Replace replaces all tags without touching desired' {
        Update-IoTTwinTag w-5 @{ location = @{ plant = 'Redmond43'; line = 1 }; owner = 'ops' }
        Update-IoTTwinTag w-5 @{ owner = $null; location = @{ line = 2 } }
        $tags = (Get-Raw w-5).tags
        $tags.PSObject.Properties.Name | Should -Be @('location')
        $tags.location.plant | Should -BeExactly 'Redmond43'
        $tags.location.line | Should -Be 2

        Set-IoTTwinDesired w-5 @{ keep = 'me' }
        $desiredVersion = (Get-Raw w-5).properties.desired.'$version'
        $twin = Update-IoTTwinTag w-5 @{ fresh = $true } -Replace -Confirm:$false -PassThru
        $twin.Tags.PSObject.Properties.Name | Should -Be @('fresh')
        (Get-Raw w-5).tags.PSObject.Properties.Name | Should -Be @('fresh')
        $raw = Get-Raw w-5
        $raw.properties.desired.keep | Should -BeExactly 'me'
        $raw.properties.desired.'$version' | Should -Be $desiredVersion
    }
}

Describe 'Update-IoTTwin' {
    It 'updates tags and desired properties in one request' {
        $before = Get-TwinTestRequestCount $hub
        $twin = Update-IoTTwin -DeviceId w-6 -Tag @{ fleet = 'north' } -Desired @{ interval = 10 } -PassThru
        $after = Get-TwinTestRequestCount $hub
        $after - $before | Should -Be 2 -Because 'one PATCH plus the counter read'
        $twin.Tags.fleet | Should -BeExactly 'north'
        $twin.Desired.interval | Should -Be 10
    }

    It 'requires -Tag or -Desired' {
        { Update-IoTTwin -DeviceId w-6 -ErrorAction Stop } | Should -Throw -ErrorId 'TagOrDesiredRequired,TwinPS.Commands.UpdateIoTTwinCommand'
    }
}

Describe 'Set-IoTTwin' {
    It 'round-trips: Get-IoTTwin x | Set-IoTTwin keeps tags and desired' {
        $null = Set-TwinTestTwin $hub 'w-7' @{ tags = @{ t = @{ u = 'v' }; n = 1.5 }; properties = @{ desired = @{ d = @(1, 2); s = "O'Brien" } } }
        $before = Get-Raw w-7
        $result = Get-IoTTwin w-7 | Set-IoTTwin -Confirm:$false -PassThru
        $after = Get-Raw w-7
        ($after.tags | ConvertTo-Json -Depth 20 -Compress) | Should -BeExactly ($before.tags | ConvertTo-Json -Depth 20 -Compress)
        $strip = { param($d) $o = [ordered]@{}; $d.PSObject.Properties | Where-Object Name -notlike '$*' | ForEach-Object { $o[$_.Name] = $_.Value }; $o | ConvertTo-Json -Depth 20 -Compress }
        (& $strip $after.properties.desired) | Should -BeExactly (& $strip $before.properties.desired)
        $result.ETag | Should -Not -Be $before.etag
    }

    It 'sends edits made to a piped twin object' {
        $twin = Get-IoTTwin w-7
        $twin.Desired | Add-Member -NotePropertyName added -NotePropertyValue 42
        $twin.Tags.t.u = 'changed'
        $twin | Set-IoTTwin -Confirm:$false
        $raw = Get-Raw w-7
        $raw.properties.desired.added | Should -Be 42
        $raw.tags.t.u | Should -BeExactly 'changed'
    }

    It 'replaces from -Tag and -Desired (sections not given are emptied)' {
        Set-IoTTwin -DeviceId w-8 -Tag @{ only = 'tag' } -Desired @{ only = 'desired' } -Confirm:$false
        Set-IoTTwin -DeviceId w-8 -Tag @{} -Desired @{ other = 1 } -Confirm:$false
        $raw = Get-Raw w-8
        @($raw.tags.PSObject.Properties).Count | Should -Be 0
        (Get-Desired w-8).Keys | Should -Be @('other')
    }

    It 'is ConfirmImpact High and Set-IoTTwinDesired is Medium' {
        $attribute = { param($name) (Get-Command $name).ImplementingType.GetCustomAttributes([System.Management.Automation.CmdletAttribute], $true)[0] }
        (& $attribute Set-IoTTwin).ConfirmImpact | Should -Be 'High'
        (& $attribute Set-IoTTwinDesired).ConfirmImpact | Should -Be 'Medium'
        (& $attribute Update-IoTTwinTag).SupportsShouldProcess | Should -BeTrue
        (& $attribute Update-IoTTwin).SupportsShouldProcess | Should -BeTrue
    }
}

Describe 'ETags and -Force' {
    It 'makes a write from a piped twin conditional: a stale twin fails with PreconditionFailed' {
        $stale = Get-IoTTwin w-9
        Set-IoTTwinDesired w-9 @{ changedBy = 'someone else' }
        $stale | Set-IoTTwinDesired -Desired @{ changedBy = 'me' } -ErrorAction SilentlyContinue -ErrorVariable failures
        $failures.Count | Should -Be 1
        $failures[0].FullyQualifiedErrorId | Should -BeLike 'PreconditionFailed,*'
        $failures[0].FullyQualifiedErrorId | Should -BeExactly 'PreconditionFailed,TwinPS.Commands.SetIoTTwinDesiredCommand'
        $failures[0].CategoryInfo.Category | Should -Be 'ResourceBusy'
        $failures[0].TargetObject | Should -BeExactly 'w-9'
        $failures[0].ErrorDetails.RecommendedAction | Should -Match 'ETag'
        (Get-Raw w-9).properties.desired.changedBy | Should -BeExactly 'someone else'
    }

    It 'uses an explicit -ETag, and -Force overrides a stale one (If-Match: *)' {
        $stale = (Get-IoTTwin w-9).ETag
        Update-IoTTwinTag w-9 @{ bump = 1 }
        { Update-IoTTwinTag w-9 @{ bump = 2 } -ETag $stale -ErrorAction Stop } | Should -Throw -ErrorId 'PreconditionFailed,TwinPS.Commands.UpdateIoTTwinTagCommand'
        $fresh = (Get-IoTTwin w-9).ETag
        Update-IoTTwinTag w-9 @{ bump = 3 } -ETag $fresh
        (Get-Raw w-9).tags.bump | Should -Be 3
        Update-IoTTwinTag w-9 @{ bump = 4 } -ETag $stale -Force
        (Get-Raw w-9).tags.bump | Should -Be 4
    }

    It 'binds piped devices from Get-IoTDevice by DeviceId; the identity ETag is not used as the twin ETag' {
        $device = Get-IoTDevice -DeviceId w-12
        $device.ETag | Should -Not -BeNullOrEmpty
        $device | Set-IoTTwinDesired -Desired @{ viaDevice = 1 }
        (Get-Raw w-12).properties.desired.viaDevice | Should -Be 1
    }

    It 'takes the patch positionally after piped twins, devices and ids' {
        Get-IoTTwin w-12 | Set-IoTTwinDesired @{ positional = 'twin' }
        (Get-Raw w-12).properties.desired.positional | Should -BeExactly 'twin'
        Get-IoTDevice w-12 | Update-IoTTwinTag @{ positional = 'device' }
        (Get-Raw w-12).tags.positional | Should -BeExactly 'device'
        Set-IoTTwinDesired w-12 @{ positional = 'id' }
        (Get-Raw w-12).properties.desired.positional | Should -BeExactly 'id'
    }

    It 'does not use the identity ETag of a device exported to CSV' {
        $row = Get-IoTDevice w-12 | Select-Object DeviceId, ETag, GenerationId
        $row.GenerationId | Should -Not -BeNullOrEmpty
        $row | Update-IoTTwin -Tag @{ fromCsv = 1 }
        (Get-Raw w-12).tags.fromCsv | Should -Be 1
    }

    It 'binds piped strings with Set-IoTTwin -Tag -Desired' {
        'w-12' | Set-IoTTwin -Tag @{ piped = 'string' } -Desired @{ viaString = 1 } -Confirm:$false
        (Get-Raw w-12).tags.piped | Should -BeExactly 'string'
    }

    It 'binds ETag by property name from plain objects' {
        $stale = [pscustomobject]@{ DeviceId = 'w-9'; ETag = (Get-IoTTwin w-9).ETag }
        Update-IoTTwinTag w-9 @{ bump = 5 }
        $stale | Update-IoTTwinTag -Tag @{ bump = 6 } -ErrorAction SilentlyContinue -ErrorVariable failures
        $failures[0].FullyQualifiedErrorId | Should -BeExactly 'PreconditionFailed,TwinPS.Commands.UpdateIoTTwinTagCommand'
    }
}

Describe '-WhatIf' {
    It 'shows the exact JSON patch and changes nothing' {
        $before = Get-Raw w-10
        $lines = @(Get-TwinTestWhatIf { Set-IoTTwinDesired w-10 @{ mode = "O'Brien"; gone = $null } -WhatIf })
        $lines.Count | Should -Be 1
        $lines[0] | Should -BeLike '*PATCH {"properties":{"desired":{*'
        $lines[0] | Should -BeLike '*"gone":null*'
        $lines[0] | Should -BeLike '*"mode":"O\u0027Brien"*'
        $lines[0] | Should -BeLike "*on target `"twin 'w-10' on hub '$($hub.hostName):$($hub.httpsPort)'`"*"
        (Get-Raw w-10).etag | Should -BeExactly $before.etag
    }

    It 'sends no request for a plain patch, and shows If-Match for a piped twin' {
        $twin = Get-IoTTwin w-10
        Assert-NoRequestSent $hub {
            $script:lines = @(Get-TwinTestWhatIf { $twin | Update-IoTTwinTag -Tag @{ a = 1 } -WhatIf })
        }
        $script:lines[0] | Should -BeLike "*PATCH {`"tags`":{`"a`":1}} with If-Match: `"$($twin.ETag)`"*"
    }

    It 'asks about each piped twin before the next one is bound, even with many requests allowed at once' {
        # Piped items start on a worker only when nothing will be asked; one that asks starts on the pipeline thread, so
        # its question comes right after its record is bound, as it would from any PowerShell command.
        $transcript = Join-Path ([System.IO.Path]::GetTempPath()) ("twinps-order-" + [guid]::NewGuid() + '.txt')
        $null = Start-Transcript -Path $transcript -UseMinimalHeader
        try {
            1..6 | ForEach-Object { Write-Host "bound w-$_"; "w-$_" } |
                Set-IoTTwinDesired -Desired @{ order = 1 } -ThrottleLimit 16 -WhatIf | Out-Null
        }
        finally { $null = Stop-Transcript }
        try { $lines = @(Get-Content $transcript | Where-Object { $_ -like 'bound *' -or $_ -like 'What if:*' }) }
        finally { Remove-Item $transcript -ErrorAction SilentlyContinue }
        $lines.Count | Should -Be 12
        for ($i = 1; $i -le 6; $i++) {
            $lines[2 * $i - 2] | Should -BeExactly "bound w-$i"
            $lines[2 * $i - 1] | Should -BeLike "What if:*twin 'w-$i' on hub*"
        }
    }

    It 'writes the same request text as a verbose message with -Verbose (and performs it)' {
        $verbose = Set-IoTTwinDesired w-12 @{ verbose = 1 } -Verbose 4>&1 | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }
        "$verbose" | Should -BeLike '*Merge desired properties: PATCH {"properties":{"desired":{"verbose":1}}}*'
        (Get-Raw w-12).properties.desired.verbose | Should -Be 1
    }

    It 'shows the PUT body of Set-IoTTwin and the computed patch of -Replace' {
        $null = Set-TwinTestTwin $hub 'w-10' @{ properties = @{ desired = @{ x = 1; y = 2 } } }
        $put = @(Get-TwinTestWhatIf { Set-IoTTwin -DeviceId w-10 -Tag @{ t = 1 } -Desired @{ d = 1 } -WhatIf })
        $put[0] | Should -BeLike '*PUT {"tags":{"t":1},"properties":{"desired":{"d":1}}}*'
        $replace = @(Get-TwinTestWhatIf { Set-IoTTwinDesired w-10 @{ y = 3 } -Replace -WhatIf })
        $replace[0] | Should -BeLike '*PATCH {"properties":{"desired":{"y":3,"x":null}}}*'
        (Get-Desired w-10).x | Should -Be 1
    }
}

Describe 'Confirmation' {
    It 'asks before Set-IoTTwin and -Replace (High impact) but not before a merge; -Force skips the question' {
        # A host without a UI fails every prompt, which shows exactly when confirmation is asked for.
        $ps = [PowerShell]::Create()
        try {
            $null = $ps.AddScript({
                    param($ModulePath, $ConnectionString, $CaPath)
                    Import-Module $ModulePath
                    $null = Connect-IoTHub -ConnectionString $ConnectionString -CACertificatePath $CaPath
                    $outcome = [ordered]@{}
                    $cases = [ordered]@{
                        setTwin      = { Set-IoTTwin -DeviceId w-11 -Tag @{ c = 1 } -Desired @{} -ErrorAction Stop }
                        setTwinForce = { Set-IoTTwin -DeviceId w-11 -Tag @{ c = 2 } -Desired @{} -Force -ErrorAction Stop }
                        replace      = { Set-IoTTwinDesired w-11 @{ c = 3 } -Replace -ErrorAction Stop }
                        replaceForce = { Update-IoTTwinTag w-11 @{ c = 4 } -Replace -Force -ErrorAction Stop }
                        merge        = { Set-IoTTwinDesired w-11 @{ c = 5 } -ErrorAction Stop }
                    }
                    foreach ($name in $cases.Keys) {
                        try { & $cases[$name]; $outcome[$name] = 'done' } catch { $outcome[$name] = $_.FullyQualifiedErrorId }
                    }
                    [pscustomobject] $outcome
                }).AddArgument($script:TwinTestModulePath).AddArgument($hub.serviceConnectionString).AddArgument($hub.caCertificatePath)
            $outcome = $ps.Invoke()[0]
            $outcome.setTwin | Should -BeLike 'HostFunctionNotImplemented,*'
            $outcome.setTwinForce | Should -Be 'done'
            $outcome.replace | Should -BeLike 'HostFunctionNotImplemented,*'
            $outcome.replaceForce | Should -Be 'done'
            $outcome.merge | Should -Be 'done'
            $raw = Get-Raw w-11
            $raw.tags.c | Should -Be 4
            $raw.properties.desired.c | Should -Be 5
        }
        finally {
            $ps.Dispose()
        }
    }
}

Describe 'The no-question shortcut of the twin writers' {
    It 'asks, prints and performs exactly as ShouldProcess does under <Name>' -ForEach @(
        @{ Name = 'the defaults'; Setup = {} ; Arguments = @{} }
        @{ Name = '$ConfirmPreference = Medium'; Setup = { $ConfirmPreference = 'Medium' }; Arguments = @{} }
        @{ Name = '$ConfirmPreference = Low'; Setup = { $ConfirmPreference = 'Low' }; Arguments = @{} }
        @{ Name = '$ConfirmPreference = None'; Setup = { $ConfirmPreference = 'None' }; Arguments = @{} }
        @{ Name = '$ConfirmPreference = Low and -Confirm:$false'; Setup = { $ConfirmPreference = 'Low' }; Arguments = @{ Confirm = $false } }
        @{ Name = '$VerbosePreference = Continue'; Setup = { $VerbosePreference = 'Continue' }; Arguments = @{} }
        @{ Name = '-Verbose'; Setup = {}; Arguments = @{ Verbose = $true } }
        @{ Name = '-Verbose:$false under $VerbosePreference = Continue'; Setup = { $VerbosePreference = 'Continue' }; Arguments = @{ Verbose = $false } }
        @{ Name = '$WhatIfPreference'; Setup = { $WhatIfPreference = $true }; Arguments = @{} }
        @{ Name = '-WhatIf:$false under $WhatIfPreference'; Setup = { $WhatIfPreference = $true }; Arguments = @{ WhatIf = $false } }
        @{ Name = '-Debug'; Setup = {}; Arguments = @{ Debug = $true } }
    ) {
        # The cmdlet skips the pipeline-thread round trip of ShouldProcess when it can tell the answer is a silent yes.
        # The oracle is ShouldProcess itself, in an advanced function of the same ConfirmImpact (Medium), run the same way.
        # A host without a UI fails every prompt, which shows exactly when one is asked for.
        $ps = [PowerShell]::Create()
        try {
            $null = $ps.AddScript({
                    param($ModulePath, $ConnectionString, $CaPath, $Setup, $Arguments)
                    Import-Module $ModulePath
                    $null = Connect-IoTHub -ConnectionString $ConnectionString -CACertificatePath $CaPath
                    function Test-Oracle {
                        [CmdletBinding(SupportsShouldProcess, ConfirmImpact = 'Medium')]
                        param()
                        if ($PSCmdlet.ShouldProcess('target', 'action')) { 'performed' }
                    }
                    function Watch([scriptblock] $Command) {
                        $seen = [ordered]@{ Performed = $false; Asked = $false; Verbose = $false }
                        try {
                            $records = @(& $Command 4>&1 5>$null)
                            $seen.Verbose = [bool]@($records | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] -and $_.Message -like 'Performing the operation*' }).Count
                            $seen.Performed = [bool]@($records | Where-Object { $_ -eq 'performed' }).Count
                        }
                        catch { $seen.Asked = $_.FullyQualifiedErrorId -match '^(HostFunctionNotImplemented|HostException),' }
                        [pscustomobject] $seen
                    }
                    . ([scriptblock]::Create($Setup))
                    $value = [guid]::NewGuid().ToString('N')
                    $oracle = Watch { Test-Oracle @Arguments }
                    $cmdlet = Watch {
                        Set-IoTTwinDesired -DeviceId w-13 -Desired @{ shortcut = $value } @Arguments -ErrorAction Stop
                        $twin = Get-IoTTwin -DeviceId w-13 -Verbose:$false -Debug:$false
                        if ($twin.Desired.shortcut -eq $value) { 'performed' }
                    }
                    [pscustomobject]@{ Oracle = $oracle; Cmdlet = $cmdlet }
                }).AddArgument($script:TwinTestModulePath).AddArgument($hub.serviceConnectionString).AddArgument($hub.caCertificatePath).
                AddArgument($Setup.ToString()).AddArgument($Arguments)
            $result = $ps.Invoke()[0]
            $ps.Streams.Error | Should -BeNullOrEmpty
            $result.Cmdlet.Asked | Should -Be $result.Oracle.Asked
            $result.Cmdlet.Verbose | Should -Be $result.Oracle.Verbose
            $result.Cmdlet.Performed | Should -Be $result.Oracle.Performed
        }
        finally {
            $ps.Dispose()
        }
    }
}

Describe 'Bad input is refused before any request' {
    It 'refuses <Name>' -ForEach @(
        @{ Name = 'a key with a dot'; Desired = @{ 'a.b' = 1 }; ErrorId = 'ArgumentInvalid'; Pattern = 'a\.b' }
        @{ Name = 'a key with a $'; Desired = @{ ok = @{ 'bad$key' = 1 } }; ErrorId = 'ArgumentInvalid'; Pattern = 'bad\$key' }
        @{ Name = 'a key with a space'; Desired = @{ 'has space' = 1 }; ErrorId = 'ArgumentInvalid'; Pattern = 'has space' }
        @{ Name = 'nesting deeper than 10'; Desired = '{"l1":{"l2":{"l3":{"l4":{"l5":{"l6":{"l7":{"l8":{"l9":{"l10":{"l11":{"l12":1}}}}}}}}}}}}'; ErrorId = 'ArgumentInvalid'; Pattern = 'l1' }
        @{ Name = 'a too large section'; Desired = @{ big = ('x' * 4000); big2 = ('y' * 4000); big3 = ('z' * 4000); big4 = ('w' * 4000); big5 = ('v' * 4000); big6 = ('u' * 4000); big7 = ('t' * 4000); big8 = ('s' * 4000); big9 = ('r' * 4000) }; ErrorId = 'ArgumentInvalid'; Pattern = 'desired' }
        @{ Name = 'a too long string value'; Desired = @{ long = ('x' * 5000) }; ErrorId = 'ArgumentInvalid'; Pattern = 'long' }
        @{ Name = 'an integer beyond 2^52'; Desired = @{ huge = [long]::MaxValue }; ErrorId = 'ArgumentInvalid'; Pattern = 'huge' }
        @{ Name = 'malformed JSON text'; Desired = '{"a": '; ErrorId = 'InvalidJson'; Pattern = 'malformed' }
        @{ Name = 'JSON text that is not an object'; Desired = '[1, 2]'; ErrorId = 'InvalidJson'; Pattern = 'array' }
        @{ Name = 'a value with no JSON form'; Desired = @{ p = [System.IO.MemoryStream]::new() }; ErrorId = 'InvalidJson'; Pattern = 'MemoryStream' }
    ) {
        Assert-NoRequestSent $hub {
            $script:failure = $null
            try { Set-IoTTwinDesired -DeviceId w-11, w-12 -Desired $Desired -ErrorAction Stop } catch { $script:failure = $_ }
        }
        $script:failure | Should -Not -BeNullOrEmpty
        $script:failure.FullyQualifiedErrorId | Should -BeExactly "$ErrorId,TwinPS.Commands.SetIoTTwinDesiredCommand"
        $script:failure.Exception.Message | Should -Match $Pattern
        @('InvalidArgument', 'InvalidData') | Should -Contain ([string] $script:failure.CategoryInfo.Category)
    }

    It 'refuses too large tags (8 KB) in Update-IoTTwinTag' {
        $tags = @{}
        1..3 | ForEach-Object { $tags["t$_"] = 'x' * 3000 }
        Assert-NoRequestSent $hub {
            { Update-IoTTwinTag w-11 $tags -ErrorAction Stop } | Should -Throw -ErrorId 'ArgumentInvalid,TwinPS.Commands.UpdateIoTTwinTagCommand'
        }
    }
}

Describe 'Pipelines and bulk runs' {
    It 'composes Search-IoTTwin | Set-IoTTwinDesired' {
        'w-1', 'w-2', 'w-3' | ForEach-Object { $null = Set-TwinTestTwin $hub $_ @{ tags = @{ pipeline = 'yes' } } }
        $updated = Search-IoTTwin -Tag @{ pipeline = 'yes' } | Set-IoTTwinDesired -Desired @{ fromPipeline = $true } -PassThru
        $updated.DeviceId | Sort-Object | Should -Be @('w-1', 'w-2', 'w-3')
        'w-1', 'w-2', 'w-3' | ForEach-Object { (Get-Raw $_).properties.desired.fromPipeline | Should -BeTrue }
    }

    It 'continues past per-item failures: each failure is a non-terminating error targeted at its id' {
        $ids = @('w-1', 'missing-1', 'w-2', 'w-3', 'missing-2', 'w-4', 'missing-3', 'w-5')
        $result = $ids | Update-IoTTwinTag -Tag @{ bulk = 'run1' } -ThrottleLimit 4 -PassThru -ErrorAction SilentlyContinue -ErrorVariable failures
        $result.DeviceId | Sort-Object | Should -Be @('w-1', 'w-2', 'w-3', 'w-4', 'w-5')
        $failures.Count | Should -Be 3
        $failures.TargetObject | Sort-Object | Should -Be @('missing-1', 'missing-2', 'missing-3')
        $failures | ForEach-Object { $_.FullyQualifiedErrorId | Should -BeExactly 'DeviceNotFound,TwinPS.Commands.UpdateIoTTwinTagCommand' }
    }

    It 'stops a long bulk run at once on Ctrl+C, and no further writes land' {
        $ps = [PowerShell]::Create()
        try {
            $null = $ps.AddScript({
                    param($ModulePath, $ConnectionString, $CaPath)
                    Import-Module $ModulePath
                    $null = Connect-IoTHub -ConnectionString $ConnectionString -CACertificatePath $CaPath
                    1..200000 | ForEach-Object { "w-$(($_ % 12) + 1)" } |
                        Set-IoTTwinDesired -Desired @{ stopTest = 1 } -ThrottleLimit 4 -Force -ErrorAction SilentlyContinue
                }).AddArgument($script:TwinTestModulePath).AddArgument($hub.serviceConnectionString).AddArgument($hub.caCertificatePath)
            $start = Get-TwinTestRequestCount $hub
            $async = $ps.BeginInvoke()
            Wait-TwinTestCondition { (Get-TwinTestRequestCount $hub) - $start -ge 50 } -What 'the run getting under way (50 requests)'

            # Measured from the stop: without it the run would go on for 200,000 patches.
            $watch = [System.Diagnostics.Stopwatch]::StartNew()
            $ps.Stop()
            $watch.Stop()
            $watch.Elapsed.TotalSeconds | Should -BeLessThan $TwinTestTime.Prompt
            $ps.InvocationStateInfo.State | Should -Be 'Stopped'

            $afterStop = Get-TwinTestRequestCount $hub
            $version = (Get-Raw w-1).version
            Start-Sleep -Seconds $TwinTestTime.Quiet  # watching for late writes that must not come
            (Get-TwinTestRequestCount $hub) - $afterStop | Should -Be 2 -Because 'only this test''s own two reads may arrive after the stop'
            (Get-Raw w-1).version | Should -Be $version
        }
        finally {
            $ps.Dispose()
        }
    }
}
