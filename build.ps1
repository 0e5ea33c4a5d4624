#Requires -Version 7.4
<#
.SYNOPSIS
    Builds, tests, demonstrates and packages TwinPS.

.DESCRIPTION
    Tasks:
      Build     Compiles the solution and assembles the ready module folder out/TwinPS
                (manifest, root psm1 and TwinPS.Loader.dll, the cmdlet assembly and its dependencies under
                out/TwinPS/dependencies, formats, generated help, and the emulator under out/TwinPS/emulator).
      Test      Build, then every suite listed in tests/suites.psd1: the xunit suites, the Pester suites
                against the built module, and the official-SDK conformance suite against a freshly started
                emulator (see tests/README.md). Ends with one line 'N passed, N failed' (', N skipped' when
                any were) and exits non-zero on any failure or unmet expectation.
      Emulator  Build, then run the local IoT Hub emulator in the foreground (extra arguments are passed on).
      Demo      Build, then run the quick-start demo against a throwaway emulator.
      Bench     Build, then run the benchmarks and rewrite docs/benchmarks.md.
      Package   Build, then write a PowerShell Gallery package (.nupkg) of out/TwinPS into out/package
                (PSResourceGet's Compress-PSResource; installs with Install-PSResource from a local repository).

.EXAMPLE
    dotnet tool restore; dotnet pwsh -NoProfile -File ./build.ps1 Test

.PARAMETER Task
    Build (default), Test, Emulator, Demo, Bench or Package.

.PARAMETER Configuration
    Release (default) or Debug.

.NOTES
    Every other argument goes to the task (for Emulator: to the emulator), with or without a '--' before it:
    ./build.ps1 Emulator -- --https-port 8443 --mqtt-port 8883 --data ./hub-data
    The arguments are read by hand, not by a param() block: 'pwsh -File' hands a script arguments such as
    '--mqtt-port' as parameter names, and PowerShell's binder then stops with "parameter name '' is ambiguous".
#>

$Task = 'Build'
$Configuration = 'Release'
$TaskArguments = [System.Collections.Generic.List[string]]::new()
$taskSeen = $false
for ($i = 0; $i -lt $args.Count; $i++) {
    $arg = [string] $args[$i]
    if ($arg -match '^-(Task|Configuration)(:(.*))?$' -and -not $TaskArguments.Count) {
        $value = if ($Matches[3]) { $Matches[3] } elseif ($i + 1 -lt $args.Count) { [string] $args[++$i] } else { '' }
        if ($Matches[1] -eq 'Task') { $Task = $value; $taskSeen = $true } else { $Configuration = $value }
    }
    elseif ($arg -eq '--' -and -not $TaskArguments.Count) { continue }
    elseif (-not $taskSeen -and -not $TaskArguments.Count -and $arg -notlike '-*') { $Task = $arg; $taskSeen = $true }
    else { $TaskArguments.Add($arg) }
}
$tasks = 'Build', 'Test', 'Emulator', 'Demo', 'Bench', 'Package'
if ($Task -notin $tasks) { throw "Unknown task '$Task'. Tasks: $($tasks -join ', ')." }
if ($Configuration -notin 'Debug', 'Release') { throw "Unknown configuration '$Configuration': Debug or Release." }
$Task = $tasks | Where-Object { $_ -eq $Task }  # canonical spelling
$TaskArguments = $TaskArguments.ToArray()
if ($env:TWINPS_BUILD_PARSE_ONLY -eq '1') {
    # For the tests of this argument handling: show what was understood and do nothing.
    [pscustomobject]@{ Task = $Task; Configuration = $Configuration; TaskArguments = $TaskArguments } | ConvertTo-Json -Compress
    exit 0
}

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
if ([Console]::IsOutputRedirected) { $PSStyle.OutputRendering = 'PlainText' }  # CI logs: no escape codes

$Root = $PSScriptRoot
$Out = Join-Path $Root 'out'
$ModuleOut = Join-Path $Out 'TwinPS'
$EmulatorOut = Join-Path $ModuleOut 'emulator'
$DependencyOut = Join-Path $ModuleOut 'dependencies'
$ResultsDir = Join-Path $Out 'test-results'
$PesterVersion = '5.7.1'

function Write-Step([string] $Message) {
    Write-Host "==> $Message" -ForegroundColor Cyan
}

function Invoke-Native {
    # Runs a native command and throws when it fails, so that no failure goes unnoticed.
    param([Parameter(Mandatory)][string] $FilePath, [string[]] $ArgumentList = @())
    # Out-Host: the output streams as the command runs and never becomes part of a function's return value.
    & $FilePath @ArgumentList | Out-Host
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
    # The cmdlet assembly and every dependency go to dependencies/, which only TwinPS's own AssemblyLoadContext reads
    # (PowerShell probes the folder of an assembly it loaded, never a subfolder); the loader alone sits at the top.
    Invoke-Native dotnet @('publish', (Join-Path $Root 'src/TwinPS/TwinPS.csproj'), '-c', $Configuration, '--no-build', '--nologo', '-o', $DependencyOut)
    Invoke-Native dotnet @('publish', (Join-Path $Root 'src/TwinPS.Loader/TwinPS.Loader.csproj'), '-c', $Configuration, '--no-build', '--nologo', '-o', $ModuleOut)
    Invoke-Native dotnet @('publish', (Join-Path $Root 'src/TwinPS.Emulator/TwinPS.Emulator.csproj'), '-c', $Configuration, '--no-build', '--nologo', '-o', $EmulatorOut)

    # PowerShell loads its own System.Management.Automation; never ship a copy.
    Get-ChildItem $DependencyOut -Filter 'System.Management.Automation.dll' -ErrorAction SilentlyContinue | Remove-Item
    foreach ($folder in $ModuleOut, $DependencyOut) {
        Get-ChildItem $folder -Filter '*.pdb' | Remove-Item
        Get-ChildItem $folder -Filter '*.deps.json' | Remove-Item
    }
    $strays = @(Get-ChildItem $ModuleOut -Filter '*.dll' | Where-Object Name -ne 'TwinPS.Loader.dll')
    if ($strays) { throw "Only TwinPS.Loader.dll may sit at the top of the module folder; found: $($strays.Name -join ', ')" }

    Get-ChildItem $EmulatorOut -Filter '*.pdb' | Remove-Item
    Copy-Item (Join-Path $Root 'TwinPS.psd1'), (Join-Path $Root 'LICENSE') $ModuleOut
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

function Invoke-Test {
    Invoke-Build
    if (Test-Path $ResultsDir) { Remove-Item $ResultsDir -Recurse -Force }
    New-Item -ItemType Directory -Force $ResultsDir | Out-Null
    # Pester comes from NuGet (tests/tools/TestTools.csproj), pinned.
    Invoke-Native dotnet @('restore', (Join-Path $Root 'tests/tools/TestTools.csproj'), '--nologo', '-v', 'quiet')
    $nugetRoot = if ($env:NUGET_PACKAGES) { $env:NUGET_PACKAGES } else { Join-Path ([Environment]::GetFolderPath('UserProfile')) '.nuget/packages' }

    # What must run is listed in tests/suites.psd1 (see tests/README.md); the runner streams each suite's
    # output as it runs and prints the summary last.
    Import-Module (Join-Path $Root 'tools/TestRunner.psm1') -Force
    $exit = Invoke-TestRun -Root $Root -ManifestPath (Join-Path $Root 'tests/suites.psd1') -ResultsDir $ResultsDir `
        -ModulePath (Join-Path $ModuleOut 'TwinPS.psd1') -EmulatorDll (Join-Path $EmulatorOut 'TwinPS.Emulator.dll') `
        -PesterPath (Join-Path $nugetRoot "pester/$PesterVersion/tools/Pester.psd1") -Configuration $Configuration
    exit $exit
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
    # The query row of the cmdlet benchmark and the real-hub rows run Microsoft's Node.js SDK from the conformance
    # suite's own npm dependencies.
    Push-Location (Join-Path $Root 'tests/conformance')
    try { Invoke-Native npm @('ci', '--no-audit', '--no-fund', '--loglevel=error') }
    finally { Pop-Location }
    $module = @('-ModulePath', (Join-Path $ModuleOut 'TwinPS.psd1'))
    $emulator = @('-EmulatorDll', (Join-Path $EmulatorOut 'TwinPS.Emulator.dll'))
    $benchmarkDll = @('-BenchmarkDll', (Join-Path $Root "tests/TwinPS.Benchmarks/bin/$Configuration/net8.0/TwinPS.Benchmarks.dll"))
    Write-Step 'Import-Module benchmark'
    Invoke-BenchScript 'Bench-Import.ps1' $doc $module
    Write-Step 'Cmdlet benchmark'
    Invoke-BenchScript 'Bench-Cmdlets.ps1' $doc ($module + $emulator + $benchmarkDll)
    Write-Step 'Jobs and direct-methods benchmark'
    Invoke-BenchScript 'Bench-JobsMethods.ps1' $doc ($module + $emulator)
    # Real-hub conditions: the cmdlets, a ForEach-Object -Parallel loop and the official Node.js SDK under the emulator's
    # S1 throttles and injected faults.
    Write-Step 'Real-hub conditions benchmark'
    Invoke-BenchScript 'Bench-RealHub.ps1' $doc ($module + $emulator + $benchmarkDll)
}

function Invoke-BenchScript([string] $Script, [string] $Doc, [string[]] $Arguments) {
    # One tools/Bench-*.ps1 in a fresh pwsh; each rewrites its own section of $Doc.
    Invoke-Native dotnet (@((Join-Path $PSHOME 'pwsh.dll'), '-NoProfile', '-NonInteractive', '-File', (Join-Path $Root "tools/$Script")) + $Arguments + @('-Output', $Doc))
}

function Invoke-Package {
    # A PowerShell Gallery package (.nupkg) made with PSResourceGet's own packer, offline: tools/New-Package.ps1.
    Invoke-Build
    $packageOut = Join-Path $Out 'package'
    if (Test-Path $packageOut) { Remove-Item $packageOut -Recurse -Force }
    $exit = Invoke-ChildPwsh @('-NoProfile', '-NonInteractive', '-File', (Join-Path $Root 'tools/New-Package.ps1'),
        '-ModulePath', $ModuleOut, '-OutputPath', $packageOut)
    if ($exit -ne 0) { throw "Packaging failed (exit code $exit)." }
    $nupkg = Get-ChildItem $packageOut -Filter '*.nupkg'
    Write-Step "Package: $($nupkg.FullName)"
    Write-Host '    Try it: Register-PSResourceRepository -Name local -Uri <folder with the .nupkg> -Trusted; Install-PSResource TwinPS -Repository local'
}

switch ($Task) {
    'Build' { Invoke-Build }
    'Test' { Invoke-Test }
    'Emulator' { Invoke-Emulator }
    'Demo' { Invoke-Demo }
    'Bench' { Invoke-Bench }
    'Package' { Invoke-Package }
}
