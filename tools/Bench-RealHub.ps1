#Requires -Version 7.4
<#
.SYNOPSIS
    Real-hub conditions benchmark (not a test): the module against the emulator's S1 throttles (traffic shaping and
    strict), with a fixed 16-way ForEach-Object -Parallel Invoke-RestMethod loop and Microsoft's Node.js SDK
    (azure-iothub) doing the same work in the same run, and a bulk update through injected faults.
.DESCRIPTION
    Each row gets its own emulator: devices are created in a data folder on an emulator without limits, which is then
    stopped and started again on the same folder with the row's limits, so set-up never spends the throttle budgets
    being measured. Every PowerShell measurement runs in a fresh child pwsh that imports the built module. Rates are
    items divided by the wall time of the whole command (module import and connection excluded). Read-backs use the
    emulator's own statistics endpoint and twin reads by the module on an unthrottled restart of the same data.
    Rewrites the block between the realhub-benchmark markers of the output file.
#>
[CmdletBinding()]
param(
    [string] $ModulePath = (Join-Path $PSScriptRoot '../out/TwinPS/TwinPS.psd1'),
    [string] $EmulatorDll = (Join-Path $PSScriptRoot '../out/TwinPS/emulator/TwinPS.Emulator.dll'),
    [string] $BenchmarkDll = (Join-Path $PSScriptRoot '../tests/TwinPS.Benchmarks/bin/Release/net8.0/TwinPS.Benchmarks.dll'),
    [string] $NodeModules = (Join-Path $PSScriptRoot '../tests/conformance/node_modules'),
    [string] $Output = (Join-Path $PSScriptRoot '../docs/benchmarks.md'),
    [ValidateRange(100, 100000)] [int] $Twins = 1000,
    [ValidateRange(1000, 100000)] [int] $SearchTwins = 10000,
    [ValidateRange(1000, 100000)] [int] $FaultTwins = 10000,
    [ValidateRange(1, 200)] [int] $SearchUnits = 20,
    [ValidateRange(10, 5000)] [int] $FaultRate = 200,
    # For a look at some measurements while developing: the rows and clients to run. The doc is rewritten only by a full run.
    [ValidateSet('shape', 'strict', 'read', 'search', 'faults')] [string[]] $Measure = @('shape', 'strict', 'read', 'search', 'faults'),
    [ValidateSet('cmdlet', 'parallel', 'node')] [string[]] $Clients = @('cmdlet', 'parallel', 'node')
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
$ModulePath = (Resolve-Path $ModulePath).Path
$EmulatorDll = (Resolve-Path $EmulatorDll).Path
$BenchmarkDll = (Resolve-Path $BenchmarkDll).Path
$NodeScript = (Resolve-Path (Join-Path $PSScriptRoot 'bench-realhub-node.js')).Path
. (Join-Path $PSScriptRoot 'BenchCommon.ps1')
$Work = New-BenchWorkFolder 'realhub'
$firstLoad = Get-LoadAverage
$notes = [Collections.Generic.List[string]]::new()

# --- emulator processes -----------------------------------------------------------------------------------------

function Start-Emulator([string] $Data, [string[]] $Limits = @(), [int] $HttpsPort = 0) {
    $e = Start-BenchEmulator $EmulatorDll (@('--https-port', "$HttpsPort", '--mqtt-port', '0', '--data', $Data) + $Limits)
    $e | Add-Member -NotePropertyName Data -NotePropertyValue $Data
    $e
}

function New-Devices([string] $Data, [string] $Prefix, [int] $Count) {
    # An unlimited emulator on the row's data folder creates the devices (bulk, 100 per request), then stops.
    $e = Start-Emulator $Data
    try {
        $ready = Join-Path $Work ('ready-' + [guid]::NewGuid().ToString('N') + '.json')
        Set-Content -Path $ready -Value $e.ReadyLine
        $null = Invoke-Child 'dotnet' @($BenchmarkDll, 'cmdlet-raw', 'bulk', '--prefix', $Prefix, '--count', "$Count", '--ready', $ready)
    }
    finally { Stop-BenchEmulator $e }
}

function Get-Stats($Emulator) {
    # The emulator's statistics endpoint, read with its own CA trusted (curl, so no client under test is involved).
    $token = New-SasToken $Emulator
    $uri = "https://$($Emulator.hostName):$($Emulator.httpsPort)/`$twinps/stats?api-version=2021-04-12"
    for ($i = 0; ; $i++) {
        $json = & curl -s --cacert $Emulator.caCertificatePath -H "Authorization: $token" $uri
        if ($LASTEXITCODE -eq 0 -and $json) { return $json | ConvertFrom-Json }
        if ($i -ge 10) { throw "Could not read the emulator's statistics (curl exit $LASTEXITCODE)." }
        Start-Sleep -Milliseconds 200
    }
}

function New-SasToken($Emulator) {
    $parts = @{}
    foreach ($p in $Emulator.serviceConnectionString -split ';') { $k, $v = $p -split '=', 2; $parts[$k] = $v }
    $sr = [Uri]::EscapeDataString($parts.HostName)
    $se = [DateTimeOffset]::UtcNow.AddHours(2).ToUnixTimeSeconds()
    $hmac = [Security.Cryptography.HMACSHA256]::new([Convert]::FromBase64String($parts.SharedAccessKey))
    $sig = [Convert]::ToBase64String($hmac.ComputeHash([Text.Encoding]::UTF8.GetBytes("$sr`n$se")))
    "SharedAccessSignature sr=$sr&sig=$([Uri]::EscapeDataString($sig))&se=$se&skn=$($parts.SharedAccessKeyName)"
}

# Reads every twin's desired "bench" value back on an unlimited restart of the row's data folder.
function Read-Back([string] $Data, [string] $Prefix, [int] $Count) {
    $e = Start-Emulator $Data
    try {
        Invoke-PwshJson @"
`$ErrorActionPreference = 'Stop'
Import-Module '$ModulePath'
`$c = Connect-IoTHub -ConnectionString `$env:BENCH_CS -CACertificatePath `$env:BENCH_CA
`$values = @{}
Search-IoTTwin 'SELECT deviceId, properties.desired.bench AS bench FROM devices' -PageSize 100 |
    ForEach-Object { `$values[`$_.deviceId] = `$_.bench }
`$values | ConvertTo-Json -Compress
"@ @{ BENCH_CS = $e.serviceConnectionString; BENCH_CA = $e.caCertificatePath } -AsHashtable
    }
    finally { Stop-BenchEmulator $e }
}

$Prologue = @"
`$ErrorActionPreference = 'Stop'
Import-Module '$ModulePath'
`$c = Connect-IoTHub -ConnectionString `$env:BENCH_CS -CACertificatePath `$env:BENCH_CA
"@

function Get-Ids([string] $Prefix, [int] $Count) { 0..($Count - 1) | ForEach-Object { '{0}{1:D6}' -f $Prefix, $_ } }

$rows = [Collections.Generic.List[object]]::new()
function Add-Row($Name, $Limits, $Result, $Goal = '—', $Met = $null, $Load) {
    $rows.Add([pscustomobject]@{ Name = $Name; Limits = $Limits; Result = $Result; Goal = $Goal; Met = $Met; Load = $Load })
}

# One write row: the cmdlet, the ForEach-Object -Parallel loop and the Node SDK, each on its own fresh emulator with
# the same limits, each on its own 1,000 twins; read back afterwards.
function Measure-WriteRow([string] $Mode, [string[]] $Limits, [double] $Limit) {
    $label = $Limits -join ' '
    foreach ($who in $Clients) {
        $data = Join-Path $Work "$Mode-$who"
        $prefix = "$who-"
        New-Devices $data $prefix $Twins
        $e = Start-Emulator $data $Limits
        $envs = @{ BENCH_CS = $e.serviceConnectionString; BENCH_CA = $e.caCertificatePath }
        $load = Get-LoadAverage
        try {
            switch ($who) {
                'cmdlet' {
                    $r = Invoke-PwshJson @"
$Prologue
`$ids = 0..$($Twins - 1) | ForEach-Object { '{0}{1:D6}' -f '$prefix', `$_ }
`$sw = [Diagnostics.Stopwatch]::StartNew()
Set-IoTTwinDesired -DeviceId `$ids -Desired @{ bench = 1 } -ThrottleLimit 16 -Connection `$c -ErrorVariable errs -ErrorAction SilentlyContinue
`$s = `$sw.Elapsed.TotalSeconds
`$rate = (`$c.Throttling | Where-Object Class -eq 'TwinUpdate').LearnedRate
@{ seconds = `$s; errors = @(`$errs).Count; codes = (@(`$errs | ForEach-Object { (`$_.FullyQualifiedErrorId -split ',')[0] } | Group-Object | ForEach-Object { "`$(`$_.Name) `$(`$_.Count)" }) -join ', '); learned = `$rate } | ConvertTo-Json -Compress
"@ $envs
                }
                'parallel' {
                    $envs.BENCH_TOKEN = New-SasToken $e
                    $envs.SSL_CERT_FILE = $e.caCertificatePath
                    $r = Invoke-PwshJson @"
`$ErrorActionPreference = 'Stop'
`$hostName = '$($e.hostName):$($e.httpsPort)'
`$ids = 0..$($Twins - 1) | ForEach-Object { '{0}{1:D6}' -f '$prefix', `$_ }
`$sw = [Diagnostics.Stopwatch]::StartNew()
`$results = `$ids | ForEach-Object -ThrottleLimit 16 -Parallel {
    try {
        `$null = Invoke-RestMethod -Method Patch -Uri "https://`$using:hostName/twins/`$(`$_)?api-version=2021-04-12" ``
            -Headers @{ Authorization = `$env:BENCH_TOKEN; 'If-Match' = '*' } -ContentType 'application/json' ``
            -Body '{"properties":{"desired":{"bench":1}}}'
        'ok'
    }
    catch {
        `$code = if (`$_.ErrorDetails.Message -match 'ErrorCode:(\w+)') { `$Matches[1] } else { `$_.Exception.GetType().Name }
        "error `$code"
    }
}
`$s = `$sw.Elapsed.TotalSeconds
`$errs = @(`$results | Where-Object { `$_ -ne 'ok' })
@{ seconds = `$s; errors = `$errs.Count; codes = (@(`$errs | ForEach-Object { `$_.Substring(6) } | Group-Object | ForEach-Object { "`$(`$_.Name) `$(`$_.Count)" }) -join ', ') } | ConvertTo-Json -Compress
"@ $envs
                }
                'node' {
                    $out = Invoke-Child 'node' @($NodeScript) @{
                        SERVICE_CONNECTION_STRING = $e.serviceConnectionString; NODE_EXTRA_CA_CERTS = $e.caCertificatePath
                        NODE_PATH = (Resolve-Path $NodeModules).Path; BENCH_PREFIX = $prefix; BENCH_COUNT = $Twins; BENCH_INFLIGHT = 16; BENCH_VALUE = 1
                    }
                    $n = ($out.Output.Trim() -split "`n")[-1] | ConvertFrom-Json
                    $r = [pscustomobject]@{ seconds = $n.seconds; errors = $n.errors; codes = (@($n.codes.PSObject.Properties | ForEach-Object { "$($_.Name) $($_.Value)" }) -join ', ') }
                }
            }
        }
        finally { Stop-BenchEmulator $e }

        $values = Read-Back $data $prefix $Twins
        $notUpdated = @(Get-Ids $prefix $Twins | Where-Object { $values[$_] -ne 1 }).Count
        # The rate counts twins actually updated (read back), not calls: a call answered 429 updated nothing.
        $rate = ($Twins - $notUpdated) / $r.seconds
        $pct = 100 * $rate / $Limit
        $detail = '{0:N1} updates/s ({1:N0} % of {2}/s): {7} calls in {3:N1} s, {4} errors{5}, {6} twins not updated' -f $rate, $pct, $Limit, $r.seconds, $r.errors,
            $(if ($r.errors) { " ($($r.codes))" } else { '' }), $notUpdated, $Twins
        # The hub's 1 s bucket lets the first $Limit through at once; the fastest any client can finish is the rest at the rate.
        $detail += '; the hub''s own bound for this work: {0:N1} s' -f (($Twins - $Limit) / $Limit)
        if ($who -eq 'cmdlet' -and $r.learned) { $detail += (', learned pace {0:N1}/s' -f $r.learned) }
        $name = switch ($who) {
            'cmdlet' { "``Set-IoTTwinDesired -DeviceId <$Twins ids> -ThrottleLimit 16``" }
            'parallel' { "``ForEach-Object -Parallel -ThrottleLimit 16 { Invoke-RestMethod PATCH }`` (no retry)" }
            'node' { '`azure-iothub` `Registry.updateTwin`, 16 in flight (the SDK does not retry REST)' }
        }
        if ($who -eq 'cmdlet') {
            $met = $pct -ge 95 -and $r.errors -eq 0 -and $notUpdated -eq 0
            Add-Row $name $label $detail "≥ 95 % of $Limit/s, 0 errors, all $Twins updated" $met $load
            if (-not $met) { $notes.Add(("{0}: the cmdlet reached {1:N0} % of the limit with {2} errors and {3} twins not updated; goal not met." -f $Mode, $pct, $r.errors, $notUpdated)) }
        }
        else {
            Add-Row $name $label $detail -Load $load
        }
        Write-Host "$Mode $who`: $detail"
        if ($who -ne 'cmdlet' -and ($r.errors -gt 0 -or $notUpdated -gt 0)) {
            $notes.Add(("{0}, {1}: {2} of {3} calls failed and {4} twins were left without the update; a client without pacing or retries loses that work under this throttle." -f $Mode, $who, $r.errors, $Twins, $notUpdated))
        }
    }
}

try {
    # 1-2. S1 x1 twin updates (50/s), shaping and strict. The emulator's default shaping burst is 60 s of the rate,
    # which would absorb the whole run: the burst is set to 1 s so the throttle is met within it.
    if ($Measure -contains 'shape') { Measure-WriteRow 'shape' @('--tier', 'S1', '--units', '1', '--throttle', 'shape', '--burst', '1') 50 }
    if ($Measure -contains 'strict') { Measure-WriteRow 'strict' @('--tier', 'S1', '--units', '1', '--throttle', 'strict') 50 }

    if ($Measure -contains 'read') {
        # 3. Get-IoTTwin on 1,000 ids at S1 (100 reads/s).
        $data = Join-Path $Work 'read'
        New-Devices $data 'read-' $Twins
        $limits = @('--tier', 'S1', '--units', '1', '--burst', '1')
        $e = Start-Emulator $data $limits
        $load = Get-LoadAverage
        try {
            $r = Invoke-PwshJson @"
$Prologue
`$ids = 0..$($Twins - 1) | ForEach-Object { '{0}{1:D6}' -f 'read-', `$_ }
`$sw = [Diagnostics.Stopwatch]::StartNew()
`$twins = @(Get-IoTTwin -DeviceId `$ids -ThrottleLimit 16 -Connection `$c -ErrorVariable errs -ErrorAction SilentlyContinue)
`$s = `$sw.Elapsed.TotalSeconds
@{ seconds = `$s; errors = @(`$errs).Count; count = `$twins.Count; distinct = @(`$twins.DeviceId | Sort-Object -Unique).Count; learned = (`$c.Throttling | Where-Object Class -eq 'TwinRead').LearnedRate } | ConvertTo-Json -Compress
"@ @{ BENCH_CS = $e.serviceConnectionString; BENCH_CA = $e.caCertificatePath }
        }
        finally { Stop-BenchEmulator $e }
        $rate = $Twins / $r.seconds
        $detail = '{0:N1} reads/s ({1:N0} % of 100/s) in {2:N1} s, {3} errors, {4} twins ({5} distinct); the hub''s own bound: {6:N1} s' -f $rate, ($rate), $r.seconds, $r.errors, $r.count, $r.distinct, (($Twins - 100) / 100)
        if ($r.learned) { $detail += (', learned pace {0:N1}/s' -f $r.learned) }
        Add-Row "``Get-IoTTwin -DeviceId <$Twins ids> -ThrottleLimit 16``" ($limits -join ' ') $detail '≥ 95 % of 100/s, 0 errors' ($rate -ge 95 -and $r.errors -eq 0 -and $r.distinct -eq $Twins) $load
        Write-Host "read: $detail"
    }

    if ($Measure -contains 'search') {
        # 4. Search-IoTTwin over 10,000 twins under S1's query throttle (20/min/unit), units raised so it fits in minutes.
        $data = Join-Path $Work 'search'
        New-Devices $data 'q-' $SearchTwins
        $limits = @('--tier', 'S1', '--units', "$SearchUnits", '--burst', '1')
        $e = Start-Emulator $data $limits
        $load = Get-LoadAverage
        try {
            $r = Invoke-PwshJson @"
$Prologue
`$sw = [Diagnostics.Stopwatch]::StartNew()
`$ids = @(Search-IoTTwin 'SELECT * FROM devices' -PageSize 100 -Connection `$c -ErrorVariable errs -ErrorAction SilentlyContinue | ForEach-Object DeviceId)
`$s = `$sw.Elapsed.TotalSeconds
@{ seconds = `$s; errors = @(`$errs).Count; count = `$ids.Count; distinct = @(`$ids | Sort-Object -Unique).Count; retries = (`$c.Throttling | Where-Object Class -eq 'Query').Retries; throttled = (`$c.Throttling | Where-Object Class -eq 'Query').Throttled } | ConvertTo-Json -Compress
"@ @{ BENCH_CS = $e.serviceConnectionString; BENCH_CA = $e.caCertificatePath }
            $stats = Get-Stats $e
        }
        finally { Stop-BenchEmulator $e }
        $pages = [math]::Ceiling($SearchTwins / 100)
        $q = $stats.throttled.byClass.query
        $hubThrottled = [long] $q.ThrottlingException + [long] $q.ThrottleBacklogLimitExceeded + [long] $q.ThrottlingBacklogTimeout
        $detail = '{0} twins ({1} distinct) in {2:N1} s ({3} pages at {4}/min), {5} errors; the hub throttled {6} page requests, {7} retries' -f $r.count, $r.distinct, $r.seconds, $pages, (20 * $SearchUnits), $r.errors, $hubThrottled, [long] $r.retries
        Add-Row "``Search-IoTTwin 'SELECT * FROM devices' -PageSize 100`` over $SearchTwins twins" ($limits -join ' ') $detail 'completes, 0 errors, every twin once' ($r.errors -eq 0 -and $r.count -eq $SearchTwins -and $r.distinct -eq $SearchTwins) $load
        Write-Host "search: $detail"
    }

    if ($Measure -contains 'faults') {
        # 5. 10,000 conditional desired updates (piped twins carry their ETags) through 5 % injected faults of every kind,
        # at a compressed twin-update rate (strict).
        $data = Join-Path $Work 'faults'
        New-Devices $data 'f-' $FaultTwins
        $limits = @('--rate', "twinUpdate=$FaultRate/s", '--throttle', 'strict', '--fault-rate', '0.05', '--fault-seed', '42', '--fault-delay', '1')
        $e = Start-Emulator $data $limits
        $load = Get-LoadAverage
        try {
            $before = Get-Stats $e
            $r = Invoke-PwshJson @"
$Prologue
`$sw = [Diagnostics.Stopwatch]::StartNew()
`$ok = @{}; `$failed = @{}
Search-IoTTwin 'SELECT * FROM devices' -PageSize 100 -Connection `$c |
    Set-IoTTwinDesired -Desired @{ bench = 5 } -PassThru -ThrottleLimit 16 -Connection `$c -ErrorVariable errs -ErrorAction SilentlyContinue |
    ForEach-Object { `$ok[`$_.DeviceId] = 1 }
foreach (`$e in @(`$errs)) { `$failed[[string] `$e.TargetObject] = (`$e.FullyQualifiedErrorId -split ',')[0] }
`$s = `$sw.Elapsed.TotalSeconds
@{ seconds = `$s; ok = @(`$ok.Keys); failed = `$failed; errors = @(`$errs).Count } | ConvertTo-Json -Compress -Depth 4
"@ @{ BENCH_CS = $e.serviceConnectionString; BENCH_CA = $e.caCertificatePath }
            $after = Get-Stats $e
        }
        finally { Stop-BenchEmulator $e }
        $values = Read-Back $data 'f-' $FaultTwins
        $okSet = [Collections.Generic.HashSet[string]]::new([string[]] @($r.ok))
        $failedIds = @($r.failed.PSObject.Properties | ForEach-Object Name)
        $all = Get-Ids 'f-' $FaultTwins
        $lost = @($all | Where-Object { -not $okSet.Contains($_) -and $failedIds -notcontains $_ }).Count
        $silent = @($all | Where-Object { $okSet.Contains($_) -and $values[$_] -ne 5 }).Count
        $falseFailures = @($failedIds | Where-Object { $values[$_] -eq 5 }).Count
        $applied = $after.writesApplied.twin - $before.writesApplied.twin
        $holding = @($all | Where-Object { $values[$_] -eq 5 }).Count
        $faults = ($after.faults.byKind.PSObject.Properties | ForEach-Object { "$($_.Name) $($_.Value - $before.faults.byKind.($_.Name))" }) -join ', '
        $detail = ('{0} reported updated, {1} reported failed{2}; {3} lost, {4} silent failures, {5} false failures; emulator applied {6} twin writes, ' +
            'read-back: {7} twins hold the value; {8:N1} s; faults injected: {9}') -f $okSet.Count, $failedIds.Count,
            $(if ($failedIds.Count) { ' (' + ((@($r.failed.PSObject.Properties | ForEach-Object Value) | Group-Object | ForEach-Object { "$($_.Name) $($_.Count)" }) -join ', ') + ')' } else { '' }),
            $lost, $silent, $falseFailures, $applied, $holding, $r.seconds, $faults
        Add-Row "``Search-IoTTwin | Set-IoTTwinDesired -PassThru -ThrottleLimit 16`` on $FaultTwins twins (If-Match from each twin)" ($limits -join ' ') $detail `
            '0 lost, 0 silent, 0 false failures; applied = reported = read-back' ($lost -eq 0 -and $silent -eq 0 -and $falseFailures -eq 0 -and $applied -eq $okSet.Count -and $holding -eq $okSet.Count) $load
        Write-Host "faults: $detail"
    }
}
finally {
    Remove-Item -Recurse -Force $Work -ErrorAction SilentlyContinue
}

$lastLoad = Get-LoadAverage
$sb = [Text.StringBuilder]::new()
$null = $sb.AppendLine('## Real-hub conditions')
$null = $sb.AppendLine()
$null = $sb.AppendLine(("Measured {0:yyyy-MM-dd HH:mm} UTC by ``tools/Bench-RealHub.ps1`` (``dotnet pwsh -NoProfile -File ./build.ps1 Bench``), one run per row. " -f [datetime]::UtcNow) +
    'Each row ran against its own emulator process with the limits shown, on a durable data folder in which an unlimited emulator had created the devices beforehand, so set-up spent none of the budgets measured. ' +
    'Rates are items divided by the wall time of the whole command (module import and connection excluded); each baseline updated its own 1,000 twins on its own fresh emulator with the same limits. ' +
    '"Not updated" and "hold the value" come from reading every twin back afterwards; "applied" is the emulator''s own count of twin writes it committed (`/$twinps/stats`). ' +
    'The emulator''s default shaping burst (60 s of the rate) would absorb a 1,000-update run whole, so the shaping rows use `--burst 1` (strict mode''s default burst is 1 s already). ' +
    'A 1 s burst still lets the first second''s worth through at once, so a client that keeps the hub busy finishes 1,000 updates in 19 s (50 at once, 950 at 50/s), a little over 100 % of the rate; each row gives that bound.')
$null = $sb.AppendLine()
$null = $sb.AppendLine(('Machine: {0}. ' -f (Get-MachineDescription -WithNode)) + (Get-LoadSentence $firstLoad $lastLoad))
$null = $sb.AppendLine()
$null = $sb.AppendLine('| Measurement | Emulator limits | Result | Goal | Met | Load average when it started (1/5/15 min) |')
$null = $sb.AppendLine('|---|---|---|---|---|---|')
foreach ($row in $rows) {
    $met = if ($null -eq $row.Met) { '—' } elseif ($row.Met) { 'yes' } else { '**no**' }
    $null = $sb.AppendLine("| $($row.Name -replace '\|', '\|') | ``$($row.Limits)`` | $($row.Result -replace '\|', '\|') | $($row.Goal) | $met | $($row.Load) |")
}
if ($notes.Count) {
    $null = $sb.AppendLine()
    $null = $sb.AppendLine('What this run shows:')
    $null = $sb.AppendLine()
    foreach ($note in $notes) { $null = $sb.AppendLine("- $note") }
}
$section = $sb.ToString()
Write-Host $section

if ($Measure.Count -lt 5 -or $Clients.Count -lt 3) {
    Write-Host 'Not all rows and clients ran: the output file is left as it was.'
    return
}
Write-BenchSection $Output 'realhub-benchmark' $section
