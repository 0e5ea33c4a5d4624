# Every command README.md, the cmdlet help (module/help/*.md) and about_TwinPS show runs as written, against one emulator,
# in one fresh pwsh (docs/DocsCommands.Runner.ps1, with the fixture it describes); the few that cannot run here are
# listed, with the reason, in docs/DocsCommands.Exceptions.psd1.
BeforeDiscovery {
    . $PSScriptRoot/docs/DocExamples.ps1
    $script:docExamples = @(Get-TwinDocExample (Resolve-Path (Join-Path $PSScriptRoot '../..')).Path)
    $script:docFiles = @($docExamples | Group-Object File | ForEach-Object { @{ File = $_.Name; Examples = @($_.Group | ForEach-Object { @{ Key = $_.Key; Code = $_.Code } }) } })
}

BeforeAll {
    . $PSScriptRoot/common.ps1
    . $PSScriptRoot/docs/DocExamples.ps1
    $script:plan = Import-PowerShellDataFile (Join-Path $PSScriptRoot 'docs/DocsCommands.Exceptions.psd1')
    $script:exceptions = $plan.NotRun
    $all = @(Get-TwinDocExample $TwinTestRepoRoot)
    $hub = Start-TwinTestHub
    $work = Join-Path ([System.IO.Path]::GetTempPath()) ('twinps-docs-run-' + [guid]::NewGuid())
    $null = New-Item -ItemType Directory $work, (Join-Path $work 'home/.local/share')
    $examplesPath = Join-Path $work 'examples.json'
    $all | Where-Object { -not $exceptions.ContainsKey($_.Key) } |
        Select-Object *, @{ n = 'CtrlC'; e = { $plan.CtrlC.ContainsKey($_.Key) } } |
        ConvertTo-Json -Depth 4 -AsArray | Set-Content $examplesPath
    $fixturePath = Join-Path $work 'fixture.json'
    [pscustomobject]@{ serviceConnectionString = $hub.serviceConnectionString; caCertificatePath = $hub.caCertificatePath; mqttPort = $hub.mqttPort; hubName = $hub.hubName } |
        ConvertTo-Json | Set-Content $fixturePath
    $resultPath = Join-Path $work 'results.json'

    $pwsh = [System.Diagnostics.Process]::GetCurrentProcess().MainModule.FileName
    [string[]] $prefix = if ((Split-Path $pwsh -Leaf) -like 'pwsh*') { @() } else { Join-Path $PSHOME 'pwsh.dll' }
    # The fixture hub is trusted like a public hub, and the examples' own files (~/...) go to a throwaway HOME: in the
    # child only.
    $saved = @{ SSL_CERT_FILE = $env:SSL_CERT_FILE; HOME = $env:HOME; XDG_DATA_HOME = $env:XDG_DATA_HOME }
    $env:SSL_CERT_FILE = $hub.caCertificatePath
    $env:HOME = Join-Path $work 'home'
    $env:XDG_DATA_HOME = Join-Path $work 'home/.local/share'
    try {
        $script:runnerOutput = & $pwsh @prefix -NoProfile -NonInteractive -File (Join-Path $PSScriptRoot 'docs/DocsCommands.Runner.ps1') `
            -ExamplesPath $examplesPath -FixturePath $fixturePath -ResultPath $resultPath -ModulePath $TwinTestModulePath -RepoRoot $TwinTestRepoRoot `
            -TimeoutSeconds (2 * $TwinTestTime.Eventually) -CtrlCAfterSeconds $TwinTestTime.CtrlC 2>&1 |
            ForEach-Object { "$_" }
    }
    finally { foreach ($name in $saved.Keys) { [Environment]::SetEnvironmentVariable($name, $saved[$name]) } }
    $script:results = @{}
    if (Test-Path $resultPath) { foreach ($r in @(Get-Content -Raw $resultPath | ConvertFrom-Json)) { $results[$r.Key] = $r } }
    Remove-Item $work -Recurse -Force -ErrorAction SilentlyContinue
}

AfterAll {
    Stop-TwinTestHub $hub
}

Describe 'The documented commands' {
    It 'are found: README, every help page and about_TwinPS' {
        $docExamples.Count | Should -BeGreaterThan 100
        @($docExamples | Where-Object File -EQ 'README.md').Count | Should -BeGreaterOrEqual 4
        @($docExamples | Where-Object File -EQ 'about_TwinPS.help.txt').Count | Should -BeGreaterOrEqual 10
        @($docExamples.File | Sort-Object -Unique).Count | Should -Be (@(Get-ChildItem (Join-Path $TwinTestRepoRoot 'module/help') -Filter *.md).Count + 2)
    }

    It 'list as exceptions only examples that exist, each with a reason' {
        foreach ($list in $plan.NotRun, $plan.CtrlC) {
            foreach ($key in $list.Keys) {
                $docExamples.Key | Should -Contain $key -Because 'an exception must name a documented command'
                "$($list[$key])".Length | Should -BeGreaterThan 20 -Because "the exception '$key' needs its reason"
            }
        }
        $exceptions.Count | Should -BeLessOrEqual 12 -Because 'the list is for what truly cannot run here'
    }
}

Describe '<File>' -ForEach $docFiles {
    It '<Key>' -ForEach $Examples {
        if ($exceptions.ContainsKey($Key)) {
            Set-ItResult -Skipped -Because $exceptions[$Key]
            return
        }
        $result = $results[$Key]
        $result | Should -Not -BeNullOrEmpty -Because "the runner must report it (runner output: $($runnerOutput -join ' | '))"
        $result.Error | Should -BeNullOrEmpty -Because "this is documented as:`n$Code"
        $result.Passed | Should -BeTrue
    }
}
