#Requires -Version 7.4
<#
.SYNOPSIS
    Builds, tests, demonstrates and packages TwinPS.

.DESCRIPTION
    Tasks:
      Build     Compiles the solution and assembles the ready module folder out/TwinPS
                (module, dependencies, formats, generated help, and the emulator under out/TwinPS/emulator).
      Test      Build, then every xunit suite, the Pester suite against the built module, and the
                official-SDK conformance suite against a freshly started emulator. Ends with one line
                'N passed, N failed' and exits non-zero on any failure.
      Emulator  Build, then run the local IoT Hub emulator in the foreground (extra arguments are passed on).
      Demo      Build, then run the quick-start demo against a throwaway emulator.
      Bench     Build, then run the benchmarks and rewrite docs/benchmarks.md.
      Package   Build, then write a PowerShell Gallery package (.nupkg) of out/TwinPS into out/package.

.EXAMPLE
    dotnet tool restore; dotnet pwsh -NoProfile -File ./build.ps1 Test
#>
[CmdletBinding()]
param(
    [Parameter(Position = 0)]
    [ValidateSet('Build', 'Test', 'Emulator', 'Demo', 'Bench', 'Package')]
    [string] $Task = 'Build',

    [ValidateSet('Debug', 'Release')]
    [string] $Configuration = 'Release',

    [Parameter(ValueFromRemainingArguments)]
    [string[]] $TaskArguments
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
if ([Console]::IsOutputRedirected) { $PSStyle.OutputRendering = 'PlainText' }  # CI logs: no escape codes

$Root = $PSScriptRoot
$Out = Join-Path $Root 'out'
$ModuleOut = Join-Path $Out 'TwinPS'
$EmulatorOut = Join-Path $ModuleOut 'emulator'
$ResultsDir = Join-Path $Out 'test-results'
$PesterVersion = '5.7.1'

function Write-Step([string] $Message) {
    Write-Host "==> $Message" -ForegroundColor Cyan
}

function Invoke-Native {
    # Runs a native command and throws when it fails, so that no failure goes unnoticed.
    param([Parameter(Mandatory)][string] $FilePath, [string[]] $ArgumentList = @())
    & $FilePath @ArgumentList
    if ($LASTEXITCODE -ne 0) {
        throw "'$FilePath $($ArgumentList -join ' ')' failed with exit code $LASTEXITCODE."
    }
}

function Assert-Prerequisite {
    if (-not (Get-Command dotnet -ErrorAction SilentlyContinue)) {
        throw 'The .NET SDK (dotnet) is required: https://dot.net'
    }
}

function Invoke-Build {
    Assert-Prerequisite
    Write-Step "Compiling TwinPS.sln ($Configuration)"
    Invoke-Native dotnet @('build', (Join-Path $Root 'TwinPS.sln'), '-c', $Configuration, '--nologo', '-clp:ErrorsOnly;Summary')

    Write-Step "Assembling $ModuleOut"
    if (Test-Path $ModuleOut) { Remove-Item $ModuleOut -Recurse -Force }
    Invoke-Native dotnet @('publish', (Join-Path $Root 'src/TwinPS/TwinPS.csproj'), '-c', $Configuration, '--no-build', '--nologo', '-o', $ModuleOut)
    Invoke-Native dotnet @('publish', (Join-Path $Root 'src/TwinPS.Emulator/TwinPS.Emulator.csproj'), '-c', $Configuration, '--no-build', '--nologo', '-o', $EmulatorOut)

    # PowerShell loads its own System.Management.Automation; never ship a copy.
    Get-ChildItem $ModuleOut -Filter 'System.Management.Automation.dll' -ErrorAction SilentlyContinue | Remove-Item
    Get-ChildItem $ModuleOut -Filter '*.pdb' | Remove-Item
    Get-ChildItem $ModuleOut -Filter '*.deps.json' | Remove-Item

    Copy-Item (Join-Path $Root 'TwinPS.psd1') $ModuleOut
    Get-ChildItem (Join-Path $Root 'module') -File -ErrorAction SilentlyContinue |
        Where-Object Extension -in '.ps1xml', '.psm1' |
        Copy-Item -Destination $ModuleOut

    $helpOut = Join-Path $ModuleOut 'en-US'
    New-Item -ItemType Directory -Force $helpOut | Out-Null
    $about = Join-Path $Root 'module/about_TwinPS.help.txt'
    if (Test-Path $about) { Copy-Item $about $helpOut }
    $helpBuilder = Join-Path $Root 'tools/Build-Help.ps1'
    if (Test-Path $helpBuilder) {
        Write-Step 'Generating MAML help'
        # A child process, so that the module loaded to read its metadata does not stay loaded here.
        $exit = Invoke-ChildPwsh @('-NoProfile', '-NonInteractive', '-File', $helpBuilder,
            '-ModulePath', $ModuleOut, '-SourcePath', (Join-Path $Root 'module/help'), '-OutputPath', $helpOut)
        if ($exit -ne 0) { throw "Help generation failed (exit code $exit)." }
    }
    Write-Step "Module ready: $ModuleOut"
}

function Invoke-ChildPwsh {
    # Runs a script in a fresh process of this same PowerShell (the pinned local tool when started with
    # 'dotnet pwsh') and returns its exit code.
    param([Parameter(Mandatory)][string[]] $ArgumentList)
    $self = [System.Diagnostics.Process]::GetCurrentProcess().MainModule.FileName
    # Out-Host: the child's output is shown, never mixed into this function's return value.
    if ((Split-Path $self -Leaf) -like 'pwsh*') {
        & $self @ArgumentList | Out-Host
    }
    else {
        & $self (Join-Path $PSHOME 'pwsh.dll') @ArgumentList | Out-Host
    }
    return $LASTEXITCODE
}

function Start-TestEmulator {
    # Starts the built emulator on free ports with a throwaway store and returns its ready line as an object.
    $dll = Join-Path $EmulatorOut 'TwinPS.Emulator.dll'
    $psi = [System.Diagnostics.ProcessStartInfo]::new('dotnet')
    foreach ($a in @($dll, '--https-port', '0', '--mqtt-port', '0', '--in-memory')) { $psi.ArgumentList.Add($a) }
    $psi.RedirectStandardOutput = $true
    $psi.RedirectStandardError = $true
    $psi.UseShellExecute = $false
    $process = [System.Diagnostics.Process]::Start($psi)
    $stderr = $process.StandardError.ReadToEndAsync()
    $lineTask = $process.StandardOutput.ReadLineAsync()
    if (-not $lineTask.Wait([TimeSpan]::FromSeconds(60)) -or $null -eq $lineTask.Result) {
        if (-not $process.HasExited) { $process.Kill($true) }
        throw "The emulator did not become ready: $($stderr.Result)"
    }
    $info = $lineTask.Result | ConvertFrom-Json
    $info | Add-Member -NotePropertyName Process -NotePropertyValue $process
    return $info
}

function Stop-TestEmulator($Emulator) {
    if ($null -eq $Emulator -or $Emulator.Process.HasExited) { return }
    # SIGTERM first, so that the emulator's clean shutdown path is exercised; kill if it hangs.
    if ($IsLinux -or $IsMacOS) { & kill -TERM $Emulator.Process.Id 2>$null }
    if (-not $Emulator.Process.WaitForExit(10000)) { $Emulator.Process.Kill($true) }
}

function Read-TrxCounts([string] $Path) {
    [xml] $trx = Get-Content -Raw $Path
    $counters = $trx.TestRun.ResultSummary.Counters
    [pscustomobject]@{
        Passed = [int] $counters.passed
        Failed = [int] $counters.failed + [int] $counters.error + [int] $counters.timeout + [int] $counters.aborted
        Skipped = [int] $counters.notExecuted
    }
}

function Invoke-XunitSuites {
    $results = @()
    foreach ($project in Get-ChildItem (Join-Path $Root 'tests') -Filter '*.Tests.csproj' -Recurse) {
        $name = $project.BaseName
        Write-Step "xunit: $name"
        $trxName = "$name.trx"
        & dotnet test $project.FullName -c $Configuration --no-build --nologo `
            --logger "trx;LogFileName=$trxName" --logger 'console;verbosity=minimal' `
            --results-directory $ResultsDir
        $exit = $LASTEXITCODE
        $trx = Join-Path $ResultsDir $trxName
        if (Test-Path $trx) {
            $counts = Read-TrxCounts $trx
            if ($exit -ne 0 -and $counts.Failed -eq 0) { $counts.Failed = 1 }  # the run itself broke
        }
        else {
            $counts = [pscustomobject]@{ Passed = 0; Failed = 1; Skipped = 0 }
        }
        Write-Host "    $name`: $($counts.Passed) passed, $($counts.Failed) failed"
        $results += [pscustomobject]@{ Suite = $name; Passed = $counts.Passed; Failed = $counts.Failed }
    }
    return $results
}

function Invoke-PesterSuite {
    Write-Step 'Pester: tests/pester against out/TwinPS'
    $pesterDir = Join-Path $Root 'tests/pester'
    if (-not (Get-ChildItem $pesterDir -Filter '*.Tests.ps1' -ErrorAction SilentlyContinue)) {
        return [pscustomobject]@{ Suite = 'Pester'; Passed = 0; Failed = 0 }
    }
    Invoke-Native dotnet @('restore', (Join-Path $Root 'tests/tools/TestTools.csproj'), '--nologo', '-v', 'quiet')
    $nugetRoot = if ($env:NUGET_PACKAGES) { $env:NUGET_PACKAGES } else { Join-Path ([Environment]::GetFolderPath('UserProfile')) '.nuget/packages' }
    $pesterPsd1 = Join-Path $nugetRoot "pester/$PesterVersion/tools/Pester.psd1"
    $summary = Join-Path $ResultsDir 'pester-summary.json'
    $runner = Join-Path $ResultsDir 'run-pester.ps1'
    @"
`$ErrorActionPreference = 'Stop'
Import-Module '$pesterPsd1' -RequiredVersion $PesterVersion
`$config = New-PesterConfiguration
`$config.Run.Path = '$pesterDir'
`$config.Run.PassThru = `$true
`$config.Output.Verbosity = 'Normal'
`$config.TestResult.Enabled = `$true
`$config.TestResult.OutputPath = '$(Join-Path $ResultsDir 'pester.xml')'
`$result = Invoke-Pester -Configuration `$config
[pscustomobject]@{ Passed = `$result.PassedCount; Failed = `$result.FailedCount + `$result.FailedBlocksCount + `$result.FailedContainersCount } |
    ConvertTo-Json | Set-Content '$summary'
"@ | Set-Content $runner
    $env:TWINPS_MODULE_PATH = Join-Path $ModuleOut 'TwinPS.psd1'
    $null = Invoke-ChildPwsh @('-NoProfile', '-NonInteractive', '-File', $runner)
    if (-not (Test-Path $summary)) {
        return [pscustomobject]@{ Suite = 'Pester'; Passed = 0; Failed = 1 }
    }
    $counts = Get-Content -Raw $summary | ConvertFrom-Json
    Write-Host "    Pester: $($counts.Passed) passed, $($counts.Failed) failed"
    return [pscustomobject]@{ Suite = 'Pester'; Passed = [int] $counts.Passed; Failed = [int] $counts.Failed }
}

function Invoke-ConformanceSuite {
    Write-Step "Conformance: Microsoft's official Node.js IoT SDKs against a fresh emulator"
    $dir = Join-Path $Root 'tests/conformance'
    if (-not (Get-Command node -ErrorAction SilentlyContinue)) {
        Write-Host '    Node.js is required for the conformance suite (see README).' -ForegroundColor Red
        return [pscustomobject]@{ Suite = 'Conformance'; Passed = 0; Failed = 1 }
    }
    Push-Location $dir
    try { Invoke-Native npm @('ci', '--no-audit', '--no-fund', '--loglevel=error') }
    finally { Pop-Location }

    $emulator = Start-TestEmulator
    try {
        $env:SERVICE_CONNECTION_STRING = $emulator.serviceConnectionString
        $env:MQTT_PORT = [string] $emulator.mqttPort
        $env:NODE_EXTRA_CA_CERTS = $emulator.caCertificatePath
        $output = & node (Join-Path $dir 'conformance.js') 2>&1 | ForEach-Object { "$_" }
        $exit = $LASTEXITCODE
    }
    finally {
        Remove-Item Env:SERVICE_CONNECTION_STRING, Env:MQTT_PORT, Env:NODE_EXTRA_CA_CERTS -ErrorAction SilentlyContinue
        Stop-TestEmulator $emulator
    }
    $output | ForEach-Object { Write-Host "    $_" }
    $passed = @($output | Where-Object { $_ -like 'PASS *' }).Count
    $failed = @($output | Where-Object { $_ -like 'FAIL *' }).Count
    if ($exit -ne 0 -and $failed -eq 0) { $failed = 1 }
    return [pscustomobject]@{ Suite = 'Conformance'; Passed = $passed; Failed = $failed }
}

function Invoke-Test {
    Invoke-Build
    if (Test-Path $ResultsDir) { Remove-Item $ResultsDir -Recurse -Force }
    New-Item -ItemType Directory -Force $ResultsDir | Out-Null

    $results = @()
    $results += Invoke-XunitSuites
    $results += Invoke-PesterSuite
    $results += Invoke-ConformanceSuite

    Write-Host ''
    $results | Format-Table Suite, Passed, Failed -AutoSize | Out-String | Write-Host
    $passed = ($results | Measure-Object Passed -Sum).Sum
    $failed = ($results | Measure-Object Failed -Sum).Sum
    # The one closing line that CI reads.
    Write-Host "$passed passed, $failed failed"
    if ($failed -gt 0 -or $passed -eq 0) { exit 1 }
}

function Invoke-Emulator {
    Invoke-Build
    Write-Step 'Starting the emulator (Ctrl+C stops it)'
    & dotnet (Join-Path $EmulatorOut 'TwinPS.Emulator.dll') @TaskArguments
    exit $LASTEXITCODE
}

function Invoke-Demo {
    Invoke-Build
    $demo = Join-Path $Root 'tools/Demo.ps1'
    $env:TWINPS_MODULE_PATH = Join-Path $ModuleOut 'TwinPS.psd1'
    $exit = Invoke-ChildPwsh @('-NoProfile', '-NonInteractive', '-File', $demo)
    exit $exit
}

function Invoke-Bench {
    # Benchmarks, not tests: each rewrites its own section of docs/benchmarks.md. Extra task arguments go to the emulator benchmark.
    Invoke-Build
    $bench = Join-Path $Root 'tests/TwinPS.Benchmarks/TwinPS.Benchmarks.csproj'
    $doc = Join-Path $Root 'docs/benchmarks.md'
    Write-Step 'Emulator benchmark'
    $arguments = @('run', '--project', $bench, '-c', $Configuration, '--no-build', '--',
        '--emulator', (Join-Path $EmulatorOut 'TwinPS.Emulator.dll'),
        '--module', (Join-Path $ModuleOut 'TwinPS.psd1'),
        '--output', $doc) + @($TaskArguments | Where-Object { $_ })
    Invoke-Native dotnet $arguments
    Write-Step 'Device-side benchmark'
    Invoke-Native dotnet @('run', '--project', $bench, '-c', $Configuration, '--no-build', '--', 'device', '--output', $doc)
    Write-Step 'Cmdlet benchmark'
    Invoke-Native dotnet @((Join-Path $PSHOME 'pwsh.dll'), '-NoProfile', '-NonInteractive', '-File', (Join-Path $Root 'tools/Bench-Cmdlets.ps1'),
        '-ModulePath', (Join-Path $ModuleOut 'TwinPS.psd1'),
        '-EmulatorDll', (Join-Path $EmulatorOut 'TwinPS.Emulator.dll'),
        '-BenchmarkDll', (Join-Path $Root "tests/TwinPS.Benchmarks/bin/$Configuration/net8.0/TwinPS.Benchmarks.dll"),
        '-Output', $doc)
}

function Invoke-Package {
    Invoke-Build
    $packageOut = Join-Path $Out 'package'
    New-Item -ItemType Directory -Force $packageOut | Out-Null
    $manifest = Import-PowerShellDataFile (Join-Path $ModuleOut 'TwinPS.psd1')
    $version = $manifest.ModuleVersion
    $nuspec = Join-Path $Out 'TwinPS.nuspec'
    $tags = ($manifest.PrivateData.PSData.Tags + @('PSModule', 'PSEdition_Core')) -join ' '
    $cmdlets = ($manifest.CmdletsToExport | ForEach-Object { "PSCmdlet_$_" }) -join ' '
    @"
<?xml version="1.0" encoding="utf-8"?>
<package xmlns="http://schemas.microsoft.com/packaging/2011/08/nuspec.xsd">
  <metadata>
    <id>TwinPS</id>
    <version>$version</version>
    <authors>$($manifest.Author)</authors>
    <description>$([System.Security.SecurityElement]::Escape($manifest.Description))</description>
    <license type="expression">MIT</license>
    <tags>$tags $cmdlets</tags>
  </metadata>
  <files>
    <file src="TwinPS/**" target="" />
  </files>
</package>
"@ | Set-Content $nuspec
    # A PowerShell Gallery package is a NuGet package with the module at its root; 'dotnet pack' of a nuspec needs a project, so zip it ourselves.
    $nupkg = Join-Path $packageOut "TwinPS.$version.nupkg"
    if (Test-Path $nupkg) { Remove-Item $nupkg }
    Add-Type -AssemblyName System.IO.Compression.FileSystem
    $zip = [System.IO.Compression.ZipFile]::Open($nupkg, 'Create')
    try {
        [System.IO.Compression.ZipFileExtensions]::CreateEntryFromFile($zip, $nuspec, 'TwinPS.nuspec') | Out-Null
        foreach ($file in Get-ChildItem $ModuleOut -Recurse -File) {
            $relative = [System.IO.Path]::GetRelativePath($ModuleOut, $file.FullName).Replace('\', '/')
            [System.IO.Compression.ZipFileExtensions]::CreateEntryFromFile($zip, $file.FullName, $relative) | Out-Null
        }
    }
    finally { $zip.Dispose() }
    Write-Step "Package: $nupkg"
}

switch ($Task) {
    'Build' { Invoke-Build }
    'Test' { Invoke-Test }
    'Emulator' { Invoke-Emulator }
    'Demo' { Invoke-Demo }
    'Bench' { Invoke-Bench }
    'Package' { Invoke-Package }
}
