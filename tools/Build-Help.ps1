#Requires -Version 7.4
<#
.SYNOPSIS
    Generates TwinPS's MAML help (TwinPS.dll-Help.xml) from markdown sources and the built module's metadata.

.DESCRIPTION
    Imports the BUILT module from -ModulePath into this PowerShell, reads every exported cmdlet's syntax and
    parameter metadata from Get-Command (parameter sets, types, Mandatory, Position, pipeline input, aliases,
    wildcards, output types), merges the prose of module/help/<Cmdlet-Name>.md (platyPS v1 layout: SYNOPSIS,
    DESCRIPTION, EXAMPLES, PARAMETERS, INPUTS, OUTPUTS, NOTES, RELATED LINKS) and writes
    <OutputPath>/TwinPS.dll-Help.xml, which Get-Help finds beside the module.

    The build fails (exit code 1, one line per problem) when an exported cmdlet has no help file, no synopsis,
    no description, fewer than two examples (each with code), an undocumented parameter, or documents a
    parameter the cmdlet does not have. -WarnOnly reports the same problems as warnings and still writes help
    for the cmdlets that have a file.

    Run it in a fresh process: the module it imports stays loaded.

.EXAMPLE
    dotnet pwsh -NoProfile -File tools/Build-Help.ps1 -ModulePath out/TwinPS -SourcePath module/help -OutputPath out/TwinPS/en-US
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)][string] $ModulePath,
    [Parameter(Mandatory)][string] $SourcePath,
    [Parameter(Mandatory)][string] $OutputPath,
    [string] $ModuleName = 'TwinPS',
    [switch] $WarnOnly
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

. (Join-Path $PSScriptRoot 'HelpMarkdown.ps1')

$ns = @{
    maml    = 'http://schemas.microsoft.com/maml/2004/10'
    command = 'http://schemas.microsoft.com/maml/dev/command/2004/10'
    dev     = 'http://schemas.microsoft.com/maml/dev/2004/10'
    MSHelp  = 'http://msdn.microsoft.com/mshelp'
}

$commonParameters = [System.Collections.Generic.HashSet[string]]::new([StringComparer]::OrdinalIgnoreCase)
foreach ($p in [System.Management.Automation.Cmdlet]::CommonParameters) { [void]$commonParameters.Add($p) }
foreach ($p in [System.Management.Automation.Cmdlet]::OptionalCommonParameters) { [void]$commonParameters.Add($p) }

function Get-FriendlyTypeName([type] $Type) {
    $underlying = [Nullable]::GetUnderlyingType($Type)
    if ($underlying) { $Type = $underlying }
    if ($Type.IsArray) { return (Get-FriendlyTypeName $Type.GetElementType()) + '[]' }
    if ($Type.IsGenericType) {
        $inner = ($Type.GetGenericArguments() | ForEach-Object { Get-FriendlyTypeName $_ }) -join ', '
        return ($Type.Name -replace '`\d+$', '') + "[$inner]"
    }
    return $Type.Name
}

function Get-ParameterMetadata($Command) {
    # One entry per parameter (not per set), merged over the sets it belongs to.
    $byName = [ordered]@{}
    foreach ($set in $Command.ParameterSets) {
        foreach ($p in $set.Parameters) {
            if ($commonParameters.Contains($p.Name)) { continue }
            if (-not $byName.Contains($p.Name)) {
                $byName[$p.Name] = [pscustomobject]@{
                    Name          = $p.Name
                    Type          = $p.ParameterType
                    Aliases       = @($p.Aliases)
                    MandatoryIn   = [System.Collections.Generic.List[string]]::new()
                    Positions     = [System.Collections.Generic.HashSet[int]]::new()
                    ByValue       = $false
                    ByPropertyName = $false
                    Globbing      = $false
                    Sets          = [System.Collections.Generic.List[string]]::new()
                }
            }
            $entry = $byName[$p.Name]
            $entry.Sets.Add($set.Name)
            if ($p.IsMandatory) { $entry.MandatoryIn.Add($set.Name) }
            [void]$entry.Positions.Add($p.Position)
            if ($p.ValueFromPipeline) { $entry.ByValue = $true }
            if ($p.ValueFromPipelineByPropertyName) { $entry.ByPropertyName = $true }
            if ($p.Attributes | Where-Object { $_ -is [System.Management.Automation.SupportsWildcardsAttribute] }) { $entry.Globbing = $true }
        }
    }
    return $byName
}

function Get-PipelineInputText([bool] $ByValue, [bool] $ByPropertyName) {
    if ($ByValue -and $ByPropertyName) { return 'True (ByValue, ByPropertyName)' }
    if ($ByValue) { return 'True (ByValue)' }
    if ($ByPropertyName) { return 'True (ByPropertyName)' }
    return 'False'
}

function Write-Paragraphs([System.Xml.XmlWriter] $W, [string[]] $Paragraphs) {
    foreach ($para in $Paragraphs) {
        $W.WriteElementString('maml', 'para', $ns.maml, $para)
    }
}

function Write-ParameterElement {
    param([System.Xml.XmlWriter] $W, $Meta, [string] $Description, [bool] $Required, [string] $Position, [string] $DefaultValue)
    $isSwitch = $Meta.Type -eq [System.Management.Automation.SwitchParameter]
    $W.WriteStartElement('command', 'parameter', $ns.command)
    $W.WriteAttributeString('required', $Required.ToString().ToLowerInvariant())
    $W.WriteAttributeString('variableLength', $Meta.Type.IsArray.ToString().ToLowerInvariant())
    $W.WriteAttributeString('globbing', $Meta.Globbing.ToString().ToLowerInvariant())
    $W.WriteAttributeString('pipelineInput', (Get-PipelineInputText $Meta.ByValue $Meta.ByPropertyName))
    $W.WriteAttributeString('position', $Position)
    $W.WriteAttributeString('aliases', $(if ($Meta.Aliases.Count) { $Meta.Aliases -join ', ' } else { 'none' }))
    $W.WriteElementString('maml', 'name', $ns.maml, $Meta.Name)
    if ($null -ne $Description) {
        $W.WriteStartElement('maml', 'description', $ns.maml)
        Write-Paragraphs $W (ConvertTo-HelpParagraph $Description)
        $W.WriteEndElement()
    }
    if (-not $isSwitch) {
        $W.WriteStartElement('command', 'parameterValue', $ns.command)
        $W.WriteAttributeString('required', 'true')
        $W.WriteAttributeString('variableLength', $Meta.Type.IsArray.ToString().ToLowerInvariant())
        $W.WriteString((Get-FriendlyTypeName $Meta.Type))
        $W.WriteEndElement()
    }
    $W.WriteStartElement('dev', 'type', $ns.dev)
    $W.WriteElementString('maml', 'name', $ns.maml, $Meta.Type.FullName)
    $W.WriteElementString('maml', 'uri', $ns.maml, '')
    $W.WriteEndElement()
    if ($null -ne $DefaultValue) { $W.WriteElementString('dev', 'defaultValue', $ns.dev, $DefaultValue) }
    $W.WriteEndElement()
}

function Get-PositionText($Meta, [string] $SetName) {
    # Position in one set; across sets, a single shared position or 'named'.
    if ($SetName) {
        $cmdSet = $script:currentCommand.ParameterSets | Where-Object Name -EQ $SetName
        $p = $cmdSet.Parameters | Where-Object Name -EQ $Meta.Name
        if ($p.Position -ge 0) { return [string]$p.Position }
        return 'named'
    }
    # Across sets: the one position all its sets share, else each position with the sets it holds in (a parameter
    # that is positional in some sets only must not read 'named', since it binds by position there).
    if ($Meta.Positions.Count -eq 1) {
        $only = @($Meta.Positions)[0]
        if ($only -ge 0) { return [string]$only }
        return 'named'
    }
    $parts = foreach ($set in $script:currentCommand.ParameterSets) {
        $p = $set.Parameters | Where-Object Name -EQ $Meta.Name
        if ($null -eq $p) { continue }
        [pscustomobject]@{ Position = $(if ($p.Position -ge 0) { [string]$p.Position } else { 'named' }); Set = $set.Name }
    }
    $grouped = $parts | Group-Object Position | Sort-Object @{ Expression = { if ($_.Name -eq 'named') { [int]::MaxValue } else { [int]$_.Name } } }
    return ($grouped | ForEach-Object { "$($_.Name) ($(@($_.Group.Set) -join ', '))" }) -join '; '
}

# --- import the built module -------------------------------------------------------------------------------
$manifest = Join-Path $ModulePath "$ModuleName.psd1"
if (-not (Test-Path $manifest)) { throw "Built module manifest not found: $manifest (run the build first)." }
$manifest = (Resolve-Path $manifest).ProviderPath
$module = Import-Module $manifest -Force -PassThru
$commands = @(Get-Command -Module $module.Name -CommandType Cmdlet | Sort-Object Name)
if ($commands.Count -eq 0) { throw "The module at $ModulePath exports no cmdlets." }

$problems = [System.Collections.Generic.List[string]]::new()
$documented = [System.Collections.Generic.List[object]]::new()

foreach ($command in $commands) {
    $file = Join-Path $SourcePath "$($command.Name).md"
    if (-not (Test-Path $file)) { $problems.Add("$($command.Name): no help file $file"); continue }
    $doc = Read-HelpMarkdown -Path $file
    $params = Get-ParameterMetadata $command
    foreach ($issue in (Test-HelpMarkdown -Doc $doc -CommandName $command.Name -ParameterNames @($params.Keys))) {
        $problems.Add("$($command.Name): $issue")
    }
    $documented.Add([pscustomobject]@{ Command = $command; Doc = $doc; Params = $params })
}

if ($problems.Count -gt 0) {
    $text = "Help problems ($($problems.Count)):`n  " + ($problems -join "`n  ")
    if (-not $WarnOnly) {
        [Console]::Error.WriteLine($text)
        exit 1
    }
    Write-Warning $text
}

# --- write MAML ------------------------------------------------------------------------------------------
New-Item -ItemType Directory -Force $OutputPath | Out-Null
$target = Join-Path $OutputPath "$ModuleName.dll-Help.xml"
$settings = [System.Xml.XmlWriterSettings]::new()
$settings.Indent = $true
$settings.Encoding = [System.Text.UTF8Encoding]::new($false)
$w = [System.Xml.XmlWriter]::Create($target, $settings)
try {
    $w.WriteStartDocument()
    $w.WriteStartElement('helpItems', 'http://msh')
    $w.WriteAttributeString('schema', 'maml')
    foreach ($item in $documented) {
        $command = $item.Command; $doc = $item.Doc; $params = $item.Params
        $script:currentCommand = $command
        $w.WriteStartElement('command', 'command', $ns.command)
        foreach ($prefix in 'maml', 'command', 'dev', 'MSHelp') {
            $w.WriteAttributeString('xmlns', $prefix, $null, $ns[$prefix])
        }

        # 1. details (synopsis)
        $w.WriteStartElement('command', 'details', $ns.command)
        $w.WriteElementString('command', 'name', $ns.command, $command.Name)
        $w.WriteElementString('command', 'verb', $ns.command, $command.Verb)
        $w.WriteElementString('command', 'noun', $ns.command, $command.Noun)
        $w.WriteStartElement('maml', 'description', $ns.maml)
        Write-Paragraphs $w (ConvertTo-HelpParagraph $doc.Synopsis)
        $w.WriteEndElement()
        $w.WriteEndElement()

        # 2. description
        $w.WriteStartElement('maml', 'description', $ns.maml)
        Write-Paragraphs $w (ConvertTo-HelpParagraph $doc.Description)
        $w.WriteEndElement()

        # 3. syntax: one item per parameter set, positional first, then mandatory, then the rest
        $w.WriteStartElement('command', 'syntax', $ns.command)
        foreach ($set in $command.ParameterSets) {
            $w.WriteStartElement('command', 'syntaxItem', $ns.command)
            $w.WriteElementString('maml', 'name', $ns.maml, $command.Name)
            $ordered = $set.Parameters | Where-Object { -not $commonParameters.Contains($_.Name) } |
                Sort-Object @{ Expression = { if ($_.Position -ge 0) { 0 } elseif ($_.IsMandatory) { 1 } else { 2 } } },
                            @{ Expression = { $_.Position } }
            foreach ($p in $ordered) {
                Write-ParameterElement -W $w -Meta $params[$p.Name] -Description $null -Required $p.IsMandatory `
                    -Position (Get-PositionText $params[$p.Name] $set.Name) -DefaultValue $null
            }
            $w.WriteEndElement()
        }
        $w.WriteEndElement()

        # 4. parameters
        $w.WriteStartElement('command', 'parameters', $ns.command)
        foreach ($meta in $params.Values) {
            $section = $doc.Parameters[$meta.Name]
            $required = $meta.MandatoryIn.Count -gt 0 -and $meta.MandatoryIn.Count -eq $meta.Sets.Count
            $default = if ($section -and $section.DefaultValue) { $section.DefaultValue } else { 'None' }
            Write-ParameterElement -W $w -Meta $meta -Description $(if ($section) { $section.Description } else { '' }) `
                -Required $required -Position (Get-PositionText $meta $null) -DefaultValue $default
        }
        $w.WriteEndElement()

        # 5./6. inputs and outputs: markdown when given, else metadata
        $inputs = @($doc.Inputs)
        if ($inputs.Count -eq 0) {
            $inputs = @($params.Values | Where-Object { $_.ByValue -or $_.ByPropertyName } | ForEach-Object {
                [pscustomobject]@{ Name = $_.Type.FullName; Description = "-$($_.Name) binds from the pipeline." } })
        }
        if ($inputs.Count -eq 0) { $inputs = @([pscustomobject]@{ Name = 'None'; Description = 'This cmdlet takes no pipeline input.' }) }
        $w.WriteStartElement('command', 'inputTypes', $ns.command)
        foreach ($in in $inputs) {
            $w.WriteStartElement('command', 'inputType', $ns.command)
            $w.WriteStartElement('dev', 'type', $ns.dev); $w.WriteElementString('maml', 'name', $ns.maml, $in.Name); $w.WriteEndElement()
            $w.WriteStartElement('maml', 'description', $ns.maml); Write-Paragraphs $w (ConvertTo-HelpParagraph $in.Description); $w.WriteEndElement()
            $w.WriteEndElement()
        }
        $w.WriteEndElement()

        $outputs = @($doc.Outputs)
        if ($outputs.Count -eq 0) {
            $outputs = @($command.OutputType | ForEach-Object { [pscustomobject]@{ Name = $_.Name; Description = '' } })
        }
        $w.WriteStartElement('command', 'returnValues', $ns.command)
        foreach ($out in $outputs) {
            $w.WriteStartElement('command', 'returnValue', $ns.command)
            $w.WriteStartElement('dev', 'type', $ns.dev); $w.WriteElementString('maml', 'name', $ns.maml, $out.Name); $w.WriteEndElement()
            $w.WriteStartElement('maml', 'description', $ns.maml); Write-Paragraphs $w (ConvertTo-HelpParagraph $out.Description); $w.WriteEndElement()
            $w.WriteEndElement()
        }
        $w.WriteEndElement()

        # 7. notes
        $w.WriteStartElement('maml', 'alertSet', $ns.maml)
        $w.WriteStartElement('maml', 'alert', $ns.maml)
        Write-Paragraphs $w (ConvertTo-HelpParagraph $doc.Notes)
        $w.WriteEndElement()
        $w.WriteEndElement()

        # 8. examples
        $w.WriteStartElement('command', 'examples', $ns.command)
        foreach ($example in $doc.Examples) {
            $w.WriteStartElement('command', 'example', $ns.command)
            $w.WriteElementString('maml', 'title', $ns.maml, "--------- $($example.Title) ---------")
            $w.WriteElementString('dev', 'code', $ns.dev, $example.Code)
            $w.WriteStartElement('dev', 'remarks', $ns.dev)
            Write-Paragraphs $w (ConvertTo-HelpParagraph $example.Remarks)
            $w.WriteElementString('maml', 'para', $ns.maml, '')  # a blank line before the next example
            $w.WriteEndElement()
            $w.WriteEndElement()
        }
        $w.WriteEndElement()

        # 9. related links
        $w.WriteStartElement('command', 'relatedLinks', $ns.command)
        foreach ($link in $doc.Links) {
            $w.WriteStartElement('maml', 'navigationLink', $ns.maml)
            $w.WriteElementString('maml', 'linkText', $ns.maml, $link.Text)
            # Get-Help prints the uri beside the text: keep only real web addresses, not markdown file links.
            $w.WriteElementString('maml', 'uri', $ns.maml, $(if ($link.Uri -match '^https?://') { $link.Uri } else { '' }))
            $w.WriteEndElement()
        }
        $w.WriteEndElement()

        $w.WriteEndElement() # command:command
    }
    $w.WriteEndElement() # helpItems
    $w.WriteEndDocument()
}
finally {
    $w.Dispose()
}

# Check the file is well-formed MAML that Get-Help can read (an XML error here fails the build).
[xml](Get-Content -Raw $target) | Out-Null
# Quiet on success (build.ps1 reads this process's output); -Verbose tells what was written.
Write-Verbose "Wrote help for $($documented.Count) of $($commands.Count) cmdlets: $target"
