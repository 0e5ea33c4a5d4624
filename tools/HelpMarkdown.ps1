# Reads TwinPS's markdown help sources (platyPS v1 layout). Dot-sourced by Build-Help.ps1.
#
# Layout of module/help/<Cmdlet-Name>.md:
#   optional front matter (--- ... ---), '# Name'
#   ## SYNOPSIS, ## SYNTAX (ignored: syntax comes from the cmdlet's metadata), ## DESCRIPTION,
#   ## EXAMPLES with '### Example N: title', a ```powershell fence, then remarks,
#   ## PARAMETERS with '### -Name', its description, optionally a ```yaml block whose 'Default value:' is used,
#   ## INPUTS / ## OUTPUTS with '### TypeName' and a description, ## NOTES, ## RELATED LINKS ('[text](uri)' lines).

Set-StrictMode -Version Latest

function Split-MarkdownSection {
    # Splits lines into sections at headings of exactly the given level; returns ordered title -> lines.
    param([string[]] $Lines, [int] $Level)
    $marker = ('#' * $Level) + ' '
    $sections = [ordered]@{}
    $current = $null
    $inFence = $false
    foreach ($line in $Lines) {
        if ($line -match '^\s*```') { $inFence = -not $inFence }
        if (-not $inFence -and $line.StartsWith($marker)) {
            $current = $line.Substring($marker.Length).Trim()
            $sections[$current] = [System.Collections.Generic.List[string]]::new()
            continue
        }
        if ($null -ne $current) { $sections[$current].Add($line) }
    }
    return $sections
}

function Get-SectionText([System.Collections.Generic.List[string]] $Lines) {
    if ($null -eq $Lines) { return '' }
    return (($Lines -join "`n").Trim())
}

function Read-HelpMarkdown {
    param([Parameter(Mandatory)][string] $Path)
    $lines = @(Get-Content -LiteralPath $Path -Encoding utf8)
    if ($lines.Count -gt 0 -and $lines[0].Trim() -eq '---') {
        $end = [Array]::IndexOf($lines, '---', 1)
        if ($end -gt 0) { $lines = @($lines[($end + 1)..($lines.Count - 1)]) }
    }

    $top = Split-MarkdownSection -Lines $lines -Level 2
    $get = { param($name) if ($top.Contains($name)) { $top[$name] } else { $null } }

    $examples = [System.Collections.Generic.List[object]]::new()
    if ($top.Contains('EXAMPLES')) {
        $exampleSections = Split-MarkdownSection -Lines $top['EXAMPLES'] -Level 3
        foreach ($title in $exampleSections.Keys) {
            $code = [System.Collections.Generic.List[string]]::new()
            $remarks = [System.Collections.Generic.List[string]]::new()
            $state = 'before'
            foreach ($line in $exampleSections[$title]) {
                if ($state -eq 'before' -and $line -match '^\s*```') { $state = 'code'; continue }
                if ($state -eq 'code' -and $line -match '^\s*```\s*$') { $state = 'after'; continue }
                if ($state -eq 'code') { $code.Add($line); continue }
                $remarks.Add($line)
            }
            $examples.Add([pscustomobject]@{
                Title   = $title
                Code    = ($code -join "`n").TrimEnd()
                Remarks = (Get-SectionText $remarks)
            })
        }
    }

    $parameters = @{}
    if ($top.Contains('PARAMETERS')) {
        $paramSections = Split-MarkdownSection -Lines $top['PARAMETERS'] -Level 3
        foreach ($title in $paramSections.Keys) {
            $name = $title.TrimStart('-').Trim()
            $text = [System.Collections.Generic.List[string]]::new()
            $default = $null
            $inYaml = $false
            foreach ($line in $paramSections[$title]) {
                if ($line -match '^\s*```yaml') { $inYaml = $true; continue }
                if ($inYaml -and $line -match '^\s*```') { $inYaml = $false; continue }
                if ($inYaml) {
                    if ($line -match '^\s*Default value:\s*(.*)$') { $default = $Matches[1].Trim() }
                    continue
                }
                $text.Add($line)
            }
            $parameters[$name] = [pscustomobject]@{ Name = $name; Description = (Get-SectionText $text); DefaultValue = $default }
        }
    }

    $typeList = {
        param($sectionLines)
        $list = [System.Collections.Generic.List[object]]::new()
        if ($null -eq $sectionLines) { return , $list }
        $typed = Split-MarkdownSection -Lines $sectionLines -Level 3
        foreach ($typeName in $typed.Keys) {
            $list.Add([pscustomobject]@{ Name = $typeName; Description = (Get-SectionText $typed[$typeName]) })
        }
        return , $list
    }

    $links = [System.Collections.Generic.List[object]]::new()
    foreach ($line in @(& $get 'RELATED LINKS')) {
        if ($line -match '^\s*\[([^\]]+)\]\(([^)]*)\)') { $links.Add([pscustomobject]@{ Text = $Matches[1]; Uri = $Matches[2] }) }
    }

    [pscustomobject]@{
        Synopsis    = Get-SectionText (& $get 'SYNOPSIS')
        Description = Get-SectionText (& $get 'DESCRIPTION')
        Examples    = $examples
        Parameters  = $parameters
        Inputs      = (& $typeList (& $get 'INPUTS'))
        Outputs     = (& $typeList (& $get 'OUTPUTS'))
        Notes       = Get-SectionText (& $get 'NOTES')
        Links       = $links
    }
}

function Test-HelpMarkdown {
    # Returns one message per quality problem (nothing when the file is complete).
    param([Parameter(Mandatory)] $Doc, [Parameter(Mandatory)][string] $CommandName, [string[]] $ParameterNames = @())
    if (-not $Doc.Synopsis) { 'no SYNOPSIS' }
    if (-not $Doc.Description) { 'no DESCRIPTION' }
    $examples = @($Doc.Examples)
    if ($examples.Count -lt 2) { "only $($examples.Count) example(s) (at least 2 needed)" }
    foreach ($example in $examples) {
        if (-not $example.Code) { "example '$($example.Title)' has no code" }
        if (-not $example.Remarks) { "example '$($example.Title)' has no remarks" }
    }
    foreach ($name in $ParameterNames) {
        if (-not $Doc.Parameters.ContainsKey($name)) { "parameter -$name is not documented" }
        elseif (-not $Doc.Parameters[$name].Description) { "parameter -$name has no description" }
    }
    foreach ($name in $Doc.Parameters.Keys) {
        if ($ParameterNames -notcontains $name) { "documents parameter -$name, which the cmdlet does not have" }
    }
}

function ConvertTo-HelpParagraph {
    # Markdown text -> paragraphs for maml:para. Prose lines are joined with spaces; lists, indented
    # lines and fenced code keep their line breaks; `code` and **bold** markers are removed.
    param([string] $Text)
    if (-not $Text) { return , @() }
    $paragraphs = [System.Collections.Generic.List[string]]::new()
    $block = [System.Collections.Generic.List[string]]::new()
    $inFence = $false
    $flush = {
        if ($block.Count -eq 0) { return }
        $keepBreaks = @($block | Where-Object { $_ -match '^\s*([-*+]|\d+\.)\s' }).Count -gt 0
        $joined = if ($keepBreaks) {
            # One line per list item: continuation lines join the item they continue.
            $items = [System.Collections.Generic.List[string]]::new()
            foreach ($l in $block) {
                if ($items.Count -eq 0 -or $l -match '^\s*([-*+]|\d+\.)\s') { $items.Add($l.TrimEnd()) }
                else { $items[$items.Count - 1] += ' ' + $l.Trim() }
            }
            $items -join "`n"
        }
        else { ($block | ForEach-Object { $_.Trim() }) -join ' ' }
        $paragraphs.Add(($joined -replace '(?<!`)`(?!`)', '' -replace '\*\*', ''))
        $block.Clear()
    }
    foreach ($line in ($Text -split "`r?`n")) {
        if ($line -match '^\s*```') {
            if ($inFence) { $paragraphs.Add(($block -join "`n")); $block.Clear(); $inFence = $false }
            else { & $flush; $inFence = $true }
            continue
        }
        if ($inFence) { $block.Add($line); continue }
        if ($line.Trim() -eq '') { & $flush; continue }
        $block.Add($line)
    }
    & $flush
    return , $paragraphs.ToArray()
}
