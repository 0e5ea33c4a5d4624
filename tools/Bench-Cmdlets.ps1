#Requires -Version 7.4
<#
.SYNOPSIS
    Cmdlet benchmark (not a test): Get-IoTTwin overhead over raw HttpClient, Set-IoTTwinDesired
    concurrency against a raw 16-request loop, Search-IoTTwin against Microsoft's Node.js SDK paging the same query,
    and Search-IoTTwin streaming time and memory over 100,000 twins.
.DESCRIPTION
    Every timed PowerShell run happens in a fresh child pwsh (-NoProfile) that imports the built module; the raw
    baselines run in the TwinPS.Benchmarks console ('cmdlet-raw' mode) and in Node.js with azure-iothub from the
    conformance suite's own npm dependencies (tests/conformance/node_modules, `npm ci` there first). The emulator runs
    --in-memory on its own process: these figures are about the client, and the durable server cost is in the
    Emulator section. Import-Module time has its own section and script: tools/Bench-Import.ps1.
    Shared set-up: tools/BenchCommon.ps1.
    Rewrites the block between the cmdlet-benchmark markers of the output file.
#>
[CmdletBinding()]
param(
    [string] $ModulePath = (Join-Path $PSScriptRoot '../out/TwinPS/TwinPS.psd1'),
    [string] $EmulatorDll = (Join-Path $PSScriptRoot '../out/TwinPS/emulator/TwinPS.Emulator.dll'),
    [string] $BenchmarkDll = (Join-Path $PSScriptRoot '../tests/TwinPS.Benchmarks/bin/Release/net8.0/TwinPS.Benchmarks.dll'),
    [string] $Output = (Join-Path $PSScriptRoot '../docs/benchmarks.md'),
    [ValidateRange(100, 100000)] [int] $GetCalls = 2000,
    [ValidateRange(100, 100000)] [int] $Patches = 1000,
    [ValidateRange(1000, 1000000)] [int] $Twins = 100000,
    [ValidateRange(1, 9)] [int] $Rounds = 5,
    # The shortest warm-up of every timed Get and Set process (raw and PowerShell alike), before the JIT rule applies.
    [ValidateRange(0, 60)] [int] $WarmUpSeconds = 5,
    [string] $NodeModules = (Join-Path $PSScriptRoot '../tests/conformance/node_modules'),
    # Which parts to run (all by default); a partial run still rewrites the section with the rows it measured.
    [ValidateSet('Get', 'Set', 'Search')] [string[]] $Part = @('Get', 'Set', 'Search')
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
$ModulePath = (Resolve-Path $ModulePath).Path
$EmulatorDll = (Resolve-Path $EmulatorDll).Path
$BenchmarkDll = (Resolve-Path $BenchmarkDll).Path
$NodeScript = (Resolve-Path (Join-Path $PSScriptRoot 'bench-query-node.js')).Path
. (Join-Path $PSScriptRoot 'BenchCommon.ps1')
# The same pwsh as this one, started through dotnet exactly like `dotnet pwsh` minus the tool-manifest lookup.
$PwshDll = $BenchPwshDll
$Work = New-BenchWorkFolder 'cmdlet'

function Invoke-Raw([string[]] $Arguments) {
    $r = Invoke-Child 'dotnet' (@($BenchmarkDll, 'cmdlet-raw') + $Arguments + @('--ready', $script:ReadyFile, '--warmup-seconds', "$WarmUpSeconds"))
    ConvertFrom-LastJsonLine $r.Output
}

# Prologue of every child script: import the built module and connect to the emulator (the connection string and CA
# path come from the environment, never the command line).
$Prologue = @"
`$ErrorActionPreference = 'Stop'
Import-Module '$ModulePath'
Connect-IoTHub -ConnectionString `$env:TWINPS_BENCH_CS -CACertificatePath `$env:TWINPS_BENCH_CA | Out-Null
function Get-Status([string] `$Name) { [long]((Get-Content /proc/self/status | Where-Object { `$_ -like "`${Name}:*" }) -replace '\D', '') }
# Warm-up until the process has settled (the rule of JitWarmUp in tests/TwinPS.Benchmarks, used for the raw baselines
# too): passes run for at least $WarmUpSeconds s and until three in a row compile fewer than 20 methods, at most 60 s.
# A PowerShell session keeps recompiling for many thousands of calls, and its thread pool keeps adjusting after that; a
# fixed 1,000-call warm-up timed it while it did.
function Invoke-WarmUp([scriptblock] `$Pass) {
    `$clock = [Diagnostics.Stopwatch]::StartNew(); `$quiet = 0
    while ((`$quiet -lt 3 -or `$clock.Elapsed.TotalSeconds -lt $WarmUpSeconds) -and `$clock.Elapsed.TotalSeconds -lt 60) {
        `$before = [System.Runtime.JitInfo]::GetCompiledMethodCount()
        & `$Pass
        `$quiet = if ([System.Runtime.JitInfo]::GetCompiledMethodCount() - `$before -lt 20) { `$quiet + 1 } else { 0 }
    }
}
"@

# The raw side of every Get and Set process, with no TwinPS code: one HttpClient (the emulator's CA trusted through a
# custom-root chain policy, no callback), the SAS signed in script, the C# loops of tools/BenchRawLoop.cs, and the raw
# GET written in PowerShell (the context row of the Get part).
$RawClientSetup = @'
$rawCa = [Security.Cryptography.X509Certificates.X509Certificate2]::CreateFromPem((Get-Content -Raw $env:TWINPS_BENCH_CA))
$rawPolicy = [Security.Cryptography.X509Certificates.X509ChainPolicy]::new()
$rawPolicy.TrustMode = 'CustomRootTrust'; $rawPolicy.RevocationMode = 'NoCheck'; $null = $rawPolicy.CustomTrustStore.Add($rawCa)
$rawHandler = [Net.Http.SocketsHttpHandler]::new(); $rawHandler.SslOptions.CertificateChainPolicy = $rawPolicy
$rawHttp = [Net.Http.HttpClient]::new($rawHandler)
$rawParts = @{}; foreach ($pair in $env:TWINPS_BENCH_CS -split ';') { $at = $pair.IndexOf('='); $rawParts[$pair.Substring(0, $at)] = $pair.Substring($at + 1) }
$rawResource = [Uri]::EscapeDataString($rawParts.HostName)
$rawExpiry = [DateTimeOffset]::UtcNow.AddHours(1).ToUnixTimeSeconds()
$rawHmac = [Security.Cryptography.HMACSHA256]::new([Convert]::FromBase64String($rawParts.SharedAccessKey))
$rawSignature = [Uri]::EscapeDataString([Convert]::ToBase64String($rawHmac.ComputeHash([Text.Encoding]::UTF8.GetBytes("$rawResource`n$rawExpiry"))))
$rawToken = "SharedAccessSignature sr=$rawResource&sig=$rawSignature&se=$rawExpiry&skn=$($rawParts.SharedAccessKeyName)"
$rawBase = "https://$($rawParts.HostName)/"
$rawUri = "${rawBase}twins/get-000000?api-version=2021-04-12"
# The raw C# loops (tools/BenchRawLoop.cs) run in this same pwsh, alternating with the cmdlet passes.
Add-Type -Path $env:TWINPS_BENCH_RAW_LOOP
function Get-RawTwin {
    $request = [Net.Http.HttpRequestMessage]::new('GET', $rawUri)
    $null = $request.Headers.TryAddWithoutValidation('Authorization', $rawToken)
    $response = $rawHttp.SendAsync($request).GetAwaiter().GetResult()
    $body = $response.Content.ReadAsStringAsync().GetAwaiter().GetResult()
    if ([int]$response.StatusCode -ne 200) { throw "The raw GET answered $([int]$response.StatusCode)." }
    $response.Dispose(); $request.Dispose()
    $body
}
'@

$results = [Collections.Generic.List[object]]::new()
function Add-Result($Name, $Value, $Goal = '—', $Met = $null, $Load) {
    $results.Add([pscustomobject]@{ Name = $Name; Value = $Value; Goal = $Goal; Met = $Met; Load = $Load })
}

$emulator = $null
# In memory: these figures are about the client; the durable server cost is in the Emulator section.
$EmulatorArguments = @('--https-port', '0', '--mqtt-port', '0', '--in-memory')
$notes = [Collections.Generic.List[string]]::new()
$firstLoad = Get-LoadAverage
try {
    # The emulator on its own process; the section's text is derived from these arguments.
    $emulator = Start-BenchEmulator $EmulatorDll $EmulatorArguments
    $script:ReadyFile = Join-Path $Work 'ready.json'
    Set-Content -Path $ReadyFile -Value $emulator.ReadyLine
    $env:TWINPS_BENCH_CS = $emulator.serviceConnectionString
    $env:TWINPS_BENCH_CA = $emulator.caCertificatePath
    $env:TWINPS_BENCH_RAW_LOOP = (Resolve-Path (Join-Path $PSScriptRoot 'BenchRawLoop.cs')).Path

    # 2. Get-IoTTwin per call against a raw sequential HttpClient GET of the same twin: $Rounds rounds of fresh processes,
    # each warmed up until the JIT settled (Invoke-WarmUp, JitWarmUp) before it is timed, after one discarded pass that
    # warms the emulator. In the pwsh the raw C# loop (tools/BenchRawLoop.cs) and the cmdlet alternate, five passes each;
    # the raw loop also runs in a C# console process of its own, for context. Medians.
    $each = { param($list) ($list | ForEach-Object { '{0:N0}' -f $_ }) -join ' / ' }
    if ('Get' -in $Part) {
        Invoke-Raw @('bulk', '--prefix', 'get-', '--count', '1') | Out-Null
        # A fresh emulator runs its request path unoptimised (tiered JIT) at first: one discarded raw pass warms it, so
        # the first timed round does not measure the server's warm-up.
        Invoke-Raw @('get', '--device', 'get-000000', '--count', "$GetCalls", '--warmup', '1000') | Out-Null
        Write-Host "Get-IoTTwin: $GetCalls sequential calls, raw and cmdlet, $Rounds rounds…"
        $load = Get-LoadAverage
        $rawGet = [Collections.Generic.List[double]]::new(); $cmdGet = [Collections.Generic.List[double]]::new()
        $clientGet = [Collections.Generic.List[double]]::new(); $refused = [Collections.Generic.List[double]]::new()
        $floor = [Collections.Generic.List[double]]::new(); $rawFromPwsh = [Collections.Generic.List[double]]::new()
        $cold = [Collections.Generic.List[double]]::new(); $rawInProcess = [Collections.Generic.List[double]]::new()
        $pairRatios = [Collections.Generic.List[double]]::new()
        for ($round = 0; $round -lt $Rounds; $round++) {
            $rawGet.Add((Invoke-Raw @('get', '--device', 'get-000000', '--count', "$GetCalls", '--warmup', '1000')).perCallMicroseconds)
            $clientGet.Add((Invoke-Raw @('client-get', '--device', 'get-000000', '--count', "$GetCalls", '--warmup', '1000')).perCallMicroseconds)
            $cmd = Invoke-PwshJson -WorkFolder $Work @"
$Prologue
# Context: the first 1,000 calls of a fresh session (tiered JIT still compiling), then warm-up until it has settled.
`$sw = [Diagnostics.Stopwatch]::StartNew()
for (`$i = 0; `$i -lt 1000; `$i++) { `$null = Get-IoTTwin -DeviceId get-000000 }
`$c0 = `$sw.Elapsed.TotalSeconds
$RawClientSetup
Invoke-WarmUp { for (`$i = 0; `$i -lt 1000; `$i++) { `$null = Get-IoTTwin -DeviceId get-000000 } }
Invoke-WarmUp { `$null = [TwinPS.Benchmarks.RawLoop]::Get(`$rawHttp, `$rawUri, `$rawToken, 1000) }
# The goal's pair: the raw C# loop and the cmdlet, alternating in this process, five passes each.
`$rawPasses = [Collections.Generic.List[double]]::new(); `$cmdPasses = [Collections.Generic.List[double]]::new()
for (`$k = 0; `$k -lt 5; `$k++) {
    `$rawPasses.Add([TwinPS.Benchmarks.RawLoop]::Get(`$rawHttp, `$rawUri, `$rawToken, $GetCalls))
    `$sw = [Diagnostics.Stopwatch]::StartNew()
    for (`$i = 0; `$i -lt $GetCalls; `$i++) { `$null = Get-IoTTwin -DeviceId get-000000 }
    `$cmdPasses.Add(`$sw.Elapsed.TotalSeconds / $GetCalls * 1e6)
}
`$rawUs = (`$rawPasses | Sort-Object)[2]; `$cmdUs = (`$cmdPasses | Sort-Object)[2]
# Breakdown (diagnostic): the cmdlet with an id it refuses before any request (invocation, binding, an error record; no
# HTTP), and PowerShell's own cost of invoking a binary cmdlet that does nothing but return an object.
Invoke-WarmUp { for (`$i = 0; `$i -lt 1000; `$i++) { `$null = Get-IoTTwin -DeviceId 'not/valid' -ErrorAction SilentlyContinue } }
`$sw = [Diagnostics.Stopwatch]::StartNew()
for (`$i = 0; `$i -lt $GetCalls; `$i++) { `$null = Get-IoTTwin -DeviceId 'not/valid' -ErrorAction SilentlyContinue }
`$c3 = `$sw.Elapsed.TotalSeconds
Invoke-WarmUp { for (`$i = 0; `$i -lt 1000; `$i++) { `$null = Get-IoTHubConnection } }
`$sw = [Diagnostics.Stopwatch]::StartNew()
for (`$i = 0; `$i -lt $GetCalls; `$i++) { `$null = Get-IoTHubConnection }
`$c4 = `$sw.Elapsed.TotalSeconds
Invoke-WarmUp { for (`$i = 0; `$i -lt 1000; `$i++) { `$null = Get-RawTwin } }
`$sw = [Diagnostics.Stopwatch]::StartNew()
for (`$i = 0; `$i -lt $GetCalls; `$i++) { `$null = Get-RawTwin }
`$c5 = `$sw.Elapsed.TotalSeconds
@{ perCallMicroseconds = `$cmdUs; rawInProcessMicroseconds = `$rawUs; coldPerCallMicroseconds = `$c0 / 1000 * 1e6; refusedPerCallMicroseconds = `$c3 / $GetCalls * 1e6; floorPerCallMicroseconds = `$c4 / $GetCalls * 1e6; rawFromPwshPerCallMicroseconds = `$c5 / $GetCalls * 1e6 } | ConvertTo-Json -Compress
"@
            $cmdGet.Add($cmd.perCallMicroseconds); $rawInProcess.Add($cmd.rawInProcessMicroseconds); $pairRatios.Add($cmd.perCallMicroseconds / $cmd.rawInProcessMicroseconds); $cold.Add($cmd.coldPerCallMicroseconds); $refused.Add($cmd.refusedPerCallMicroseconds); $floor.Add($cmd.floorPerCallMicroseconds); $rawFromPwsh.Add($cmd.rawFromPwshPerCallMicroseconds)
        }
        $rawUs = Get-Median $rawInProcess; $cmdUs = Get-Median $cmdGet; $ratio = Get-Median $pairRatios
        $separateUs = Get-Median $rawGet
        Add-Result "Raw HttpClient GET /twins/{id} in C# (tools/BenchRawLoop.cs: sequential, awaited on the thread pool, one keep-alive connection), run in the cmdlet's own pwsh, alternating with it ($GetCalls calls a pass, 5 passes each after warm-up until the JIT settled; the median pass; median of $Rounds processes)" ('{0:N0} µs per call (rounds: {1})' -f $rawUs, (& $each $rawInProcess)) -Load $load
        Add-Result "``Get-IoTTwin -DeviceId`` in a loop, the passes alternating with the raw ones above" ('{0:N0} µs per call (rounds: {1})' -f $cmdUs, (& $each $cmdGet)) -Load $load
        Add-Result 'Get-IoTTwin per call ÷ raw GET per call in the same pwsh (median of the processes'' ratios)' ('{0:N2}× (rounds: {1})' -f $ratio, (($pairRatios | ForEach-Object { '{0:N2}' -f $_ }) -join ' / ')) '≤ 1.5×' ($ratio -le 1.5) $load
        Add-Result "Context: the same raw GET loop in a C# console process of its own (tests/TwinPS.Benchmarks cmdlet-raw get, same counts and warm-up rule), and Get-IoTTwin ÷ it" ('{0:N0} µs per call (rounds: {1}); {2:N2}×' -f $separateUs, (& $each $rawGet), ($cmdUs / $separateUs)) -Load $load
        Add-Result "Context: ``Get-IoTTwin -DeviceId``, the first 1,000 calls of a fresh pwsh (while the JIT still compiles)" ('{0:N0} µs per call (rounds: {1})' -f (Get-Median $cold), (& $each $cold)) -Load $load
        Add-Result "Breakdown: the module's TwinPS.Client ``IoTHubServiceClient.GetTwinAsync`` (its Azure.Core pipeline and twin parsing) in a C# console loop like the one above, no PowerShell" ('{0:N0} µs per call (rounds: {1})' -f (Get-Median $clientGet), (& $each $clientGet)) -Load $load
        Add-Result "Breakdown: ``Get-IoTTwin -DeviceId 'not/valid' -ErrorAction SilentlyContinue`` in a loop (refused before any request: PowerShell's invocation and binding + an error record)" ('{0:N0} µs per call (rounds: {1})' -f (Get-Median $refused), (& $each $refused)) -Load $load
        Add-Result "Breakdown: ``Get-IoTHubConnection`` in a loop (PowerShell's own cost of invoking a binary cmdlet that returns one object)" ('{0:N0} µs per call (rounds: {1})' -f (Get-Median $floor), (& $each $floor)) -Load $load
        Add-Result "Context: the same raw HttpClient GET issued from PowerShell script in the same pwsh (one HttpRequestMessage with the SAS, SendAsync(...).GetAwaiter().GetResult(), body read as text), and Get-IoTTwin ÷ it" ('{0:N0} µs per call (rounds: {1}); {2:N2}×' -f (Get-Median $rawFromPwsh), (& $each $rawFromPwsh), ($cmdUs / (Get-Median $rawFromPwsh))) -Load $load
        $notes.Add(('Get-IoTTwin took {0:N0} µs per call against {1:N0} µs for the raw C# GET loop in the same pwsh ({2:N2}×, the median of the processes'' ratios; {3:N0} µs and {4:N2}× against the same loop in a process of its own). The module''s client alone (C#) took {5:N0} µs; in the pwsh, a Get-IoTTwin refused before any request took {6:N0} µs, a binary cmdlet that only returns an object {7:N0} µs, and the raw GET issued from PowerShell script {8:N0} µs ({9}).' -f $cmdUs, $rawUs, $ratio, $separateUs, ($cmdUs / $separateUs), (Get-Median $clientGet), (Get-Median $refused), (Get-Median $floor), (Get-Median $rawFromPwsh), (Get-LoadDescription $load)))
    }

    # 3. Desired patches to distinct devices: $Rounds rounds; in each, one process per cmdlet form, where the raw C# loop
    # (tools/BenchRawLoop.cs) and the cmdlet alternate after both were warmed up until the JIT settled, three passes each
    # (the median pass counts); and the raw loop in a C# console process of its own, for context. Medians of the rounds.
    if ('Set' -in $Part) {
        Write-Host "Set-IoTTwinDesired: $Patches devices, $Rounds rounds…"
        Invoke-Raw @('bulk', '--prefix', 'patch-', '--count', "$Patches") | Out-Null
        # Warms the emulator's PATCH path (discarded), as for the GETs.
        Invoke-Raw @('patch', '--prefix', 'patch-', '--count', "$Patches", '--concurrency', '16', '--warmup', "$Patches") | Out-Null
        $load = Get-LoadAverage
        $variants = @(@('pipe', 1), @('pipe', 16), @('array', 16))
        $rates = @{ raw = [Collections.Generic.List[double]]::new() }
        $shares = @{}
        foreach ($v in $variants) {
            $rates["$($v[0])$($v[1])"] = [Collections.Generic.List[double]]::new()
            $rates["raw-$($v[0])$($v[1])"] = [Collections.Generic.List[double]]::new()
            $shares["$($v[0])$($v[1])"] = [Collections.Generic.List[double]]::new()
        }
        for ($round = 0; $round -lt $Rounds; $round++) {
            $rates.raw.Add((Invoke-Raw @('patch', '--prefix', 'patch-', '--count', "$Patches", '--concurrency', '16', '--warmup', "$Patches")).rate)
            foreach ($v in $variants) {
                $form, $limit = $v
                $invocation = if ($form -eq 'pipe') { "`$ids | Set-IoTTwinDesired -Desired @{ bench = `$n } -ThrottleLimit $limit" } else { "Set-IoTTwinDesired -DeviceId `$ids -Desired @{ bench = `$n } -ThrottleLimit $limit" }
                $r = Invoke-PwshJson -WorkFolder $Work @"
$Prologue
$RawClientSetup
`$ids = [string[]] (0..$($Patches - 1) | ForEach-Object { 'patch-{0:D6}' -f `$_ })
`$n = 0
Invoke-WarmUp { $invocation }
Invoke-WarmUp { `$null = [TwinPS.Benchmarks.RawLoop]::Patch(`$rawHttp, `$rawBase, `$rawToken, `$ids, 16, 0) }
# Three passes each, alternating (raw first), the median pass of each reported.
`$rawRates = [Collections.Generic.List[double]]::new(); `$cmdRates = [Collections.Generic.List[double]]::new()
for (`$n = 1; `$n -le 3; `$n++) {
    `$rawRates.Add([TwinPS.Benchmarks.RawLoop]::Patch(`$rawHttp, `$rawBase, `$rawToken, `$ids, 16, `$n))
    `$sw = [Diagnostics.Stopwatch]::StartNew()
    $invocation
    `$cmdRates.Add($Patches / `$sw.Elapsed.TotalSeconds)
}
@{ rate = (`$cmdRates | Sort-Object)[1]; rawRate = (`$rawRates | Sort-Object)[1]; errors = `$Error.Count } | ConvertTo-Json -Compress
"@
                if ($r.errors -ne 0) { throw "Set-IoTTwinDesired reported $($r.errors) errors." }
                $rates["$form$limit"].Add($r.rate)
                $rates["raw-$form$limit"].Add($r.rawRate)
                $shares["$form$limit"].Add($r.rate / $r.rawRate)
            }
        }
        foreach ($v in $variants) {
            $form, $limit = $v
            $text = if ($form -eq 'pipe') { "`$ids | Set-IoTTwinDesired -Desired @{…} -ThrottleLimit $limit" } else { "Set-IoTTwinDesired -DeviceId `$ids -Desired @{…} -ThrottleLimit $limit" }
            Add-Result "``$text``: $Patches desired PATCHes to $Patches distinct devices, and the raw C# loop (tools/BenchRawLoop.cs, 16 in flight) in the same pwsh, alternating (3 passes each after warm-up until the JIT settled; the median pass; median of $Rounds processes)" ('{0:N0} patches/s (rounds: {1}); raw {2:N0} patches/s (rounds: {3})' -f (Get-Median $rates["$form$limit"]), (& $each $rates["$form$limit"]), (Get-Median $rates["raw-$form$limit"]), (& $each $rates["raw-$form$limit"])) -Load $load
        }
        $sharePipe = Get-Median $shares.pipe16
        Add-Result 'Piped ids (`$ids | …`), -ThrottleLimit 16: rate ÷ raw 16-concurrent rate in the same pwsh (median of the processes'' ratios)' ('{0:P0} (rounds: {1})' -f $sharePipe, (($shares.pipe16 | ForEach-Object { '{0:P0}' -f $_ }) -join ' / ')) '≥ 80 %' ($sharePipe -ge 0.8) $load
        $shareArray = Get-Median $shares.array16
        Add-Result 'Ids as one array (`-DeviceId $ids`), -ThrottleLimit 16: rate ÷ raw 16-concurrent rate in the same pwsh (median of the processes'' ratios)' ('{0:P0} (rounds: {1})' -f $shareArray, (($shares.array16 | ForEach-Object { '{0:P0}' -f $_ }) -join ' / ')) '≥ 80 %' ($shareArray -ge 0.8) $load
        $rawRate = Get-Median $rates.raw
        Add-Result "Context: the raw loop in a C# console process of its own (tests/TwinPS.Benchmarks cmdlet-raw patch, same warm-up rule, median of 3 passes), and the piped / array medians ÷ it" ('{0:N0} patches/s (rounds: {1}); {2:P0} / {3:P0}' -f $rawRate, (& $each $rates.raw), ((Get-Median $rates.pipe16) / $rawRate), ((Get-Median $rates.array16) / $rawRate)) -Load $load
        $all = @($variants | ForEach-Object { $rates["$($_[0])$($_[1])"] } | Sort-Object)
        $notes.Add(('Set-IoTTwinDesired at -ThrottleLimit 16 reached {0:P0} (piped) and {1:P0} (one array) of the raw 16-concurrent C# loop in the same pwsh ({2:P0} and {3:P0} of the same loop in a process of its own); across all {4} timed cmdlet passes of this step the rates ranged from {5:N0} to {6:N0} patches/s ({7}).' -f $sharePipe, $shareArray, ((Get-Median $rates.pipe16) / $rawRate), ((Get-Median $rates.array16) / $rawRate), $all.Count, $all[0], $all[-1], (Get-LoadDescription $load)))
    }

    # 4. Search-IoTTwin against Microsoft's Node.js SDK paging the same query (page size 100) from the same emulator:
    # $Rounds alternating rounds of fresh processes, each after one warm-up query; medians. Then streaming over many
    # twins: time and the child pwsh's peak memory by result count.
    if ('Search' -in $Part) {
        # The side-by-side query runs while the emulator holds just the twins it returns: with the streaming rows' 100,000
        # in it, every query's last page would scan the 90,000 that do not match (to prove there is no further page), the
        # same work for both clients, and the row would measure the emulator instead of the clients.
        $sideBySide = [math]::Min(10000, $Twins)
        Write-Host "Creating $sideBySide twins in bulk…"
        $load = Get-LoadAverage
        $bulkSeconds = (Invoke-Raw @('bulk', '--prefix', 'q-', '--count', "$sideBySide")).seconds
        $query = "SELECT * FROM devices WHERE tags.set = 'q-' AND tags.n < $sideBySide"
        $warmQuery = "SELECT * FROM devices WHERE tags.set = 'q-' AND tags.n < 1000"
        Write-Host "Search-IoTTwin and the Node.js SDK: $sideBySide twins, page size 100, $Rounds rounds…"
        $load = Get-LoadAverage
        $nodeRates = [Collections.Generic.List[double]]::new(); $cmdRates = [Collections.Generic.List[double]]::new()
        for ($round = 0; $round -lt $Rounds; $round++) {
            $n = ConvertFrom-LastJsonLine (Invoke-Child 'node' @($NodeScript) @{
                    SERVICE_CONNECTION_STRING = $emulator.serviceConnectionString; NODE_EXTRA_CA_CERTS = $emulator.caCertificatePath
                    NODE_PATH = (Resolve-Path $NodeModules).Path; BENCH_QUERY = $query; BENCH_WARMUP_QUERY = $warmQuery; BENCH_PAGE_SIZE = 100
                }).Output
            if ($n.count -ne $sideBySide) { throw "The Node.js SDK returned $($n.count) twins, expected $sideBySide." }
            $nodeRates.Add($n.count / $n.seconds)
            $r = Invoke-PwshJson -WorkFolder $Work @"
$Prologue
`$null = Search-IoTTwin -Query "$warmQuery" -PageSize 100 | Measure-Object
`$sw = [Diagnostics.Stopwatch]::StartNew()
`$count = (Search-IoTTwin -Query "$query" -PageSize 100 | Measure-Object).Count
`$s = `$sw.Elapsed.TotalSeconds
@{ count = `$count; seconds = `$s } | ConvertTo-Json -Compress
"@
            if ($r.count -ne $sideBySide) { throw "Search-IoTTwin returned $($r.count) twins, expected $sideBySide." }
            $cmdRates.Add($r.count / $r.seconds)
        }
        $nodeRate = Get-Median $nodeRates; $cmdRate = Get-Median $cmdRates
        Add-Result ("Node.js SDK (azure-iothub 1.16.6, tests/conformance): ``registry.createQuery(query, 100)`` paged with ``nextAsTwin()`` to the end, {0:N0} twins, the emulator holding those {0:N0} devices (after one warm-up query; median of {1} processes)" -f $sideBySide, $Rounds) ('{0:N0} twins/s (rounds: {1})' -f $nodeRate, (& $each $nodeRates)) -Load $load
        Add-Result ("``Search-IoTTwin -Query ""…"" -PageSize 100 | Measure-Object``, the same query (same counts)" -f $sideBySide) ('{0:N0} twins/s (rounds: {1})' -f $cmdRate, (& $each $cmdRates)) -Load $load
        $searchShare = $cmdRate / $nodeRate
        Add-Result 'Search-IoTTwin rate ÷ Node.js SDK rate (medians)' ('{0:N2}×' -f $searchShare) '≥ 1.00×' ($searchShare -ge 1) $load
        $notes.Add(('Search-IoTTwin streamed {0:N0} twins at {1:N0}/s, the Node.js SDK paged the same query from the same emulator at {2:N0}/s ({3:N2}×; query `{4}`, page size 100, {0:N0} devices in the emulator; {5}).' -f $sideBySide, $cmdRate, $nodeRate, $searchShare, $query, (Get-LoadDescription $load)))

        if ($Twins -gt $sideBySide) {
            Write-Host "Creating the other $($Twins - $sideBySide) twins in bulk…"
            $bulkSeconds += (Invoke-Raw @('bulk', '--prefix', 'q-', '--from', "$sideBySide", '--count', "$Twins")).seconds
        }

        Add-Result "Bulk create of $('{0:N0}' -f $Twins) devices with tags (POST /devices, 100 per request, 16 concurrent; the first $('{0:N0}' -f $sideBySide) before the side-by-side query, the rest after it)" ('{0:N1} s' -f $bulkSeconds) -Load $load

        $counts = @(@(10000, 50000, 100000) | Where-Object { $_ -le $Twins })
        $peaks = @{}
        foreach ($n in $counts) {
            Write-Host "Search-IoTTwin: $n results…"
            $load = Get-LoadAverage
            $r = Invoke-PwshJson -WorkFolder $Work @"
$Prologue
`$null = Search-IoTTwin -Query "SELECT * FROM devices WHERE tags.set = 'q-' AND tags.n < 200" | Measure-Object
`$before = Get-Status VmHWM
`$sw = [Diagnostics.Stopwatch]::StartNew()
`$count = (Search-IoTTwin -Query "SELECT * FROM devices WHERE tags.set = 'q-' AND tags.n < $n" | Measure-Object).Count
`$s = `$sw.Elapsed.TotalSeconds
@{ count = `$count; seconds = `$s; hwmBeforeKb = `$before; hwmKb = (Get-Status VmHWM); rssKb = (Get-Status VmRSS) } | ConvertTo-Json -Compress
"@
            if ($r.count -ne $n) { throw "Search-IoTTwin returned $($r.count) twins, expected $n." }
            $peaks[$n] = $r.hwmKb
            Add-Result ("``Search-IoTTwin -Query ""SELECT * FROM devices WHERE tags.set = 'q-' AND tags.n < {0}"" | Measure-Object``: {1:N0} twins streamed" -f $n, $r.count) `
                ('{0:N1} s ({1:N0} twins/s); pwsh peak memory (VmHWM) {2:N0} MB (after warm-up, before the search: {3:N0} MB)' -f $r.seconds, ($r.count / $r.seconds), ($r.hwmKb / 1024), ($r.hwmBeforeKb / 1024)) -Load $load
        }
        if ($counts.Count -ge 2) {
            $small = $peaks[$counts[0]]; $large = $peaks[$counts[-1]]
            $growth = ($large - $small) / 1024
            $flat = $large -le $small * 1.25
            Add-Result ("pwsh peak memory, {0:N0} vs {1:N0} results" -f $counts[0], $counts[-1]) ('{0:N0} MB → {1:N0} MB ({2:+#,0;-#,0;0} MB)' -f ($small / 1024), ($large / 1024), $growth) 'flat (≤ +25 %)' $flat $load
            $notes.Add(('Search-IoTTwin: the pwsh peak memory was {0:N0} MB after {1:N0} results and {2:N0} MB after {3:N0}, so results were streamed, not collected ({4}).' -f ($small / 1024), $counts[0], ($large / 1024), $counts[-1], (Get-LoadDescription $load)))
        }
    }
}
finally {
    Stop-BenchEmulator $emulator
    Remove-Item -Recurse -Force $Work -ErrorAction SilentlyContinue
    Remove-Item Env:TWINPS_BENCH_CS, Env:TWINPS_BENCH_CA -ErrorAction SilentlyContinue
}

# The section.
$lastLoad = Get-LoadAverage
$sb = [Text.StringBuilder]::new()
$null = $sb.AppendLine('## Cmdlets')
$null = $sb.AppendLine()
$null = $sb.AppendLine(("Measured {0:yyyy-MM-dd HH:mm} UTC by ``tools/Bench-Cmdlets.ps1`` (``dotnet pwsh -NoProfile -File ./build.ps1 Bench``), in one run. " -f [datetime]::UtcNow) +
    'Every PowerShell measurement ran in a fresh child `pwsh -NoProfile` (started as `dotnet pwsh.dll`) that imported the built module from out/TwinPS and connected with the emulator''s service policy, trusting its CA. ' +
    'The raw baselines are the `cmdlet-raw` mode of tests/TwinPS.Benchmarks: one .NET HttpClient that signs its own SAS with TwinPS.Protocol and trusts only the emulator''s CA; the query baseline is Microsoft''s Node.js SDK from the conformance suite''s npm dependencies. ' +
    "Every Get and Set process, raw and PowerShell alike, was warmed for at least $WarmUpSeconds s and until the JIT settled (three passes in a row compiling fewer than 20 methods; at most 60 s) before it was timed: a PowerShell session keeps recompiling for its first 15,000-20,000 calls, a small C# loop only for a few hundred. " +
    'The Get and Set goals compare the cmdlet with a raw C# HttpClient loop (tools/BenchRawLoop.cs) compiled into the same pwsh, their passes alternating moments apart, which takes the process-to-process spread (easily ±30 % on this shared machine) out of the ratio; the same loop in a C# process of its own is shown for context. ' +
    $(if ($EmulatorArguments -contains '--in-memory') { 'The emulator ran **in memory** (`--in-memory`) as its own process on the same machine: these figures are about the client, and the durable server cost is in the Emulator section.' }
      else { 'The emulator ran as its own process on the same machine with a durable data folder.' }))
$null = $sb.AppendLine()
$null = $sb.AppendLine(('Machine: {0}. ' -f (Get-MachineDescription -WithNode:('Search' -in $Part))) + (Get-LoadSentence $firstLoad $lastLoad))
$null = $sb.AppendLine()
$null = $sb.Append((Format-BenchTable $results))
$null = $sb.AppendLine()
$null = $sb.AppendLine('What this run shows:')
$null = $sb.AppendLine()
foreach ($note in $notes) { $null = $sb.AppendLine("- $note") }
$section = $sb.ToString()
Write-Host $section
Write-BenchSection $Output 'cmdlet-benchmark' $section
