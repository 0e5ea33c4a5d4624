# Extracts every command the documentation shows: the fenced code blocks of README.md, the examples of module/help/*.md
# and the indented examples of module/about_TwinPS.help.txt. Each has a stable Key ("<file>: <title or first line>")
# that DocsCommands.Exceptions.psd1 refers to.
function Get-TwinDocExample([string] $RepoRoot) {
    $examples = [System.Collections.Generic.List[object]]::new()
    function Add([string] $File, [string] $Title, [string] $Language, [string[]] $Lines) {
        $code = ($Lines -join "`n").Trim()
        if (-not $code) { return }
        $label = if ($Title) { $Title } else { ($code -split "`n")[0].Trim() }
        $examples.Add([pscustomobject]@{ File = $File; Key = "${File}: $label"; Language = $Language; Code = $code })
    }

    # README.md: every fenced block, in order.
    $block = $null
    foreach ($line in Get-Content (Join-Path $RepoRoot 'README.md')) {
        if ($null -eq $block -and $line -match '^```(\w+)') { $block = @{ Language = $Matches[1]; Lines = @() }; continue }
        if ($null -ne $block -and $line -match '^```') { Add 'README.md' $null $block.Language $block.Lines; $block = $null; continue }
        if ($null -ne $block) { $block.Lines += $line }
    }

    # module/help/*.md: the powershell block of each "### Example" of the EXAMPLES section.
    foreach ($file in Get-ChildItem (Join-Path $RepoRoot 'module/help') -Filter '*.md' | Sort-Object Name) {
        $title = $null; $block = $null; $inExamples = $false
        foreach ($line in Get-Content $file.FullName) {
            if ($line -match '^## ') { $inExamples = $line -eq '## EXAMPLES'; continue }
            if (-not $inExamples) { continue }
            if ($line -match '^### (.+)$') { $title = $Matches[1].Trim(); continue }
            if ($null -eq $block -and $line -match '^```(\w+)') { $block = @{ Language = $Matches[1]; Lines = @() }; continue }
            if ($null -ne $block -and $line -match '^```') { Add $file.Name $title $block.Language $block.Lines; $block = $null; continue }
            if ($null -ne $block) { $block.Lines += $line }
        }
    }

    # about_TwinPS: runs of lines indented by 8 spaces or more.
    $lines = @()
    foreach ($line in (Get-Content (Join-Path $RepoRoot 'module/about_TwinPS.help.txt')) + '') {
        if ($line -match '^ {8}') { $lines += $line.Substring(8); continue }
        if ($lines.Count) { Add 'about_TwinPS.help.txt' $null 'powershell' $lines; $lines = @() }
    }
    return $examples
}
