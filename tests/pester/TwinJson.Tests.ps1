# The PowerShell <-> JSON conversion used by every twin cmdlet (TwinPS.Internal.PSObjectJson), through its public API.
BeforeAll {
    . $PSScriptRoot/common.ps1
    $json = [TwinPS.Internal.PSObjectJson]
    function ConvertFrom-TwinJsonText([string] $Text) { $json::ToPowerShell([System.Text.Json.Nodes.JsonNode]::Parse($Text)) }
}

Describe 'PSObjectJson' {
    It 'converts hashtables, ordered dictionaries, PSCustomObjects, arrays and scalars' {
        $value = [ordered]@{
            s = "O'Brien"; i = 42; d = 1.5; b = $false; n = $null
            list = @(1, 'two', [pscustomobject]@{ three = 3 })
            nested = @{ deeper = [ordered]@{ leaf = $true } }
            when = [DateTimeOffset]::new(2024, 1, 2, 3, 4, 5, [TimeSpan]::Zero)
        }
        $node = $json::ToJsonObject($value, 'Desired')
        $node.ToJsonString() | Should -BeExactly ('{"s":"O\u0027Brien","i":42,"d":1.5,"b":false,"n":null,"list":[1,"two",{"three":3}],' +
            '"nested":{"deeper":{"leaf":true}},"when":"2024-01-02T03:04:05.0000000\u002B00:00"}')
    }

    It 'parses JSON text given for an object parameter, and names the parameter in errors' {
        $json::ToJsonObject('{"a": [1, {"b": null}]}', 'Tag').ToJsonString() | Should -BeExactly '{"a":[1,{"b":null}]}'
        { $json::ToJsonObject('{"a": ', 'Tag') } | Should -Throw '*-Tag is malformed at line 1*'
        { $json::ToJsonObject('"text"', 'Tag') } | Should -Throw '*-Tag must be a hashtable*'
        { $json::ToJsonObject(@{ a = @{ b = [System.IO.MemoryStream]::new() } }, 'Tag') } | Should -Throw "*'-Tag.a.b'*"
        { $json::ToJsonObject(@{ x = [double]::NaN }, 'Tag') } | Should -Throw '*finite*'
    }

    It 'gives PSCustomObjects that ConvertTo-Json renders exactly, numbers as exact as possible' {
        $text = '{"int":9007199254740991,"neg":-5,"half":0.5,"tenth":0.1,"one":1.0,"exp":1e3,"s":"2024-01-02T03:04:05.1234567Z","arr":[[],{}],"empty":{}}'
        $object = ConvertFrom-TwinJsonText $text
        $object.int | Should -BeOfType [long]
        $object.half | Should -BeOfType [double]
        $object.one | Should -BeOfType [decimal]
        $object.s | Should -BeOfType [string]
        $object.exp | Should -BeOfType [double]
        # PowerShell itself prints the double 1000 as 1000.0.
        $object | ConvertTo-Json -Depth 20 -Compress | Should -BeExactly '{"int":9007199254740991,"neg":-5,"half":0.5,"tenth":0.1,"one":1.0,"exp":1000.0,"s":"2024-01-02T03:04:05.1234567Z","arr":[[],{}],"empty":{}}'
        $json::FromPowerShell($object).ToJsonString() | Should -BeExactly '{"int":9007199254740991,"neg":-5,"half":0.5,"tenth":0.1,"one":1.0,"exp":1000,"s":"2024-01-02T03:04:05.1234567Z","arr":[[],{}],"empty":{}}'
    }

    It 'keeps keys that differ only by case (JSON keys are case-sensitive)' {
        $object = ConvertFrom-TwinJsonText '{"Temp":1,"temp":2}'
        $object['Temp'] | Should -Be 1
        $object['temp'] | Should -Be 2
        $json::FromPowerShell($object).ToJsonString() | Should -BeExactly '{"Temp":1,"temp":2}'
    }
}
