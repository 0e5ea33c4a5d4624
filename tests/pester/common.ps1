# Shared set-up for the TwinPS Pester suites: imports the BUILT module (never the source tree) and runs a
# real emulator process per test file. Dot-source it in BeforeAll: `BeforeAll { . $PSScriptRoot/common.ps1 }`.
$ErrorActionPreference = 'Stop'

$script:TwinTestRepoRoot = (Resolve-Path (Join-Path $PSScriptRoot '../..')).Path
$script:TwinTestModulePath = if ($env:TWINPS_MODULE_PATH) { $env:TWINPS_MODULE_PATH } else {
    Join-Path $script:TwinTestRepoRoot 'out/TwinPS/TwinPS.psd1'
}
if (-not (Test-Path $script:TwinTestModulePath)) {
    throw "The built module was not found at '$script:TwinTestModulePath'. Build it first: dotnet pwsh ./build.ps1 Build"
}
Import-Module $script:TwinTestModulePath -Force

# Every time bound of the Pester suites, in one place (seconds; see tests/README.md). Tests wait on events and
# conditions; these are only the generous outer limits of such waits, or, where a bound is the behaviour itself
# (Ctrl+C or Select-Object -First stops a run at once), a limit measured from that event and far from what the
# broken behaviour would take. Do not write a literal bound in a test.
$script:TwinTestTime = @{
    # Outer limit for anything that happens eventually (an arrival, a status, an exit): reaching it means broken.
    Eventually   = 60
    # A -Timeout that must NOT be what ends a command (so a command that ends sooner provably did not wait for it).
    Never        = 600
    # Where stopping at once IS the behaviour: measured from the stop; the broken behaviour would take Never.
    Prompt       = 30
    # How long to watch for something that must NOT happen; a slow machine can only make that pass wrongly.
    Quiet        = 1
    # An emulator process until its ready line.
    ProcessStart = 60
    # How long a documented example that runs until Ctrl+C by design runs before DocsCommands.Tests presses it.
    CtrlC        = 5
}

if (-not ('TwinPSTest.HubHttp' -as [type])) {
    # A small HTTPS client for test set-up and for reading the emulator's request counter. It trusts the
    # emulator's CA for its own requests only (certificate validation stays on) and signs its own SAS
    # tokens, independently of the module under test.
    Add-Type -TypeDefinition @'
using System;
using System.Globalization;
using System.Net.Http;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace TwinPSTest
{
    public sealed class HubResponse
    {
        public int Status { get; set; }
        public string Body { get; set; }
    }

    public sealed class HubHttp : IDisposable
    {
        private readonly HttpClient _http;
        private readonly string _hostName;
        private readonly string _keyName;
        private readonly byte[] _key;

        public HubHttp(string connectionString, string caCertificatePath, int timeoutSeconds)
        {
            foreach (string part in connectionString.Split(';'))
            {
                int eq = part.IndexOf('=');
                if (eq < 0) continue;
                string name = part.Substring(0, eq);
                string value = part.Substring(eq + 1);
                if (name == "HostName") _hostName = value;
                else if (name == "SharedAccessKeyName") _keyName = value;
                else if (name == "SharedAccessKey") _key = Convert.FromBase64String(value);
            }

            X509Certificate2 ca = X509Certificate2.CreateFromPem(System.IO.File.ReadAllText(caCertificatePath));
            var handler = new SocketsHttpHandler();
            handler.SslOptions.RemoteCertificateValidationCallback = (sender, certificate, chain, errors) =>
            {
                if (errors == SslPolicyErrors.None) return true;
                if ((errors & ~SslPolicyErrors.RemoteCertificateChainErrors) != SslPolicyErrors.None || certificate == null) return false;
                using (var custom = new X509Chain())
                {
                    custom.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                    custom.ChainPolicy.CustomTrustStore.Add(ca);
                    custom.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                    return custom.Build(new X509Certificate2(certificate));
                }
            };
            _http = new HttpClient(handler) { BaseAddress = new Uri("https://" + _hostName), Timeout = TimeSpan.FromSeconds(timeoutSeconds) };
        }

        public HubResponse Send(string method, string path, string body)
        {
            string separator = path.Contains("?") ? "&" : "?";
            using (var request = new HttpRequestMessage(new HttpMethod(method), path + separator + "api-version=2021-04-12"))
            {
                request.Headers.TryAddWithoutValidation("Authorization", Token());
                if (body != null)
                {
                    request.Content = new StringContent(body, Encoding.UTF8, "application/json");
                }

                using (HttpResponseMessage response = _http.SendAsync(request).GetAwaiter().GetResult())
                {
                    return new HubResponse
                    {
                        Status = (int)response.StatusCode,
                        Body = response.Content.ReadAsStringAsync().GetAwaiter().GetResult(),
                    };
                }
            }
        }

        private string Token()
        {
            string sr = Uri.EscapeDataString(_hostName);
            string se = DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
            string sig;
            using (var hmac = new HMACSHA256(_key))
            {
                sig = Convert.ToBase64String(hmac.ComputeHash(Encoding.UTF8.GetBytes(sr + "\n" + se)));
            }

            return "SharedAccessSignature sr=" + sr + "&sig=" + Uri.EscapeDataString(sig) + "&se=" + se + "&skn=" + Uri.EscapeDataString(_keyName);
        }

        public void Dispose()
        {
            _http.Dispose();
        }
    }
}
'@
}

function Start-TwinTestHub {
    <# Starts an in-memory emulator on free ports, connects the session to it, and returns its ready-line
       object (plus Process and Http, a HubHttp for set-up and request counting). -EmulatorArguments are extra
       emulator options (for example '--rate', 'twinUpdate=40/s', '--throttle', 'strict'). #>
    param([string[]] $EmulatorArguments = @())
    $moduleDir = Split-Path $script:TwinTestModulePath
    $dll = @(
        (Join-Path $moduleDir 'emulator/TwinPS.Emulator.dll'),
        (Join-Path $script:TwinTestRepoRoot 'src/TwinPS.Emulator/bin/Release/net8.0/TwinPS.Emulator.dll'),
        (Join-Path $script:TwinTestRepoRoot 'src/TwinPS.Emulator/bin/Debug/net8.0/TwinPS.Emulator.dll')
    ) | Where-Object { Test-Path $_ } | Select-Object -First 1
    if (-not $dll) { throw 'The emulator was not found; build it first: dotnet pwsh ./build.ps1 Build' }

    $psi = [System.Diagnostics.ProcessStartInfo]::new('dotnet')
    foreach ($a in @($dll, '--https-port', '0', '--mqtt-port', '0', '--in-memory') + $EmulatorArguments) { $psi.ArgumentList.Add($a) }
    $psi.RedirectStandardOutput = $true
    $psi.RedirectStandardError = $true
    $psi.UseShellExecute = $false
    $process = [System.Diagnostics.Process]::Start($psi)
    $null = $process.StandardError.ReadToEndAsync()
    $line = $process.StandardOutput.ReadLineAsync()
    if (-not $line.Wait([TimeSpan]::FromSeconds($script:TwinTestTime.ProcessStart)) -or $null -eq $line.Result) {
        if (-not $process.HasExited) { $process.Kill($true) }
        throw "The emulator did not print its ready line within $($script:TwinTestTime.ProcessStart) s."
    }
    # Keep draining stdout so that the emulator never blocks on a full pipe.
    $null = $process.StandardOutput.ReadToEndAsync()

    try {
        $hub = $line.Result | ConvertFrom-Json
        $hub | Add-Member -NotePropertyName Process -NotePropertyValue $process
        $hub | Add-Member -NotePropertyName Http -NotePropertyValue ([TwinPSTest.HubHttp]::new($hub.serviceConnectionString, $hub.caCertificatePath, $script:TwinTestTime.Eventually))
        $hub | Add-Member -NotePropertyName Connection -NotePropertyValue (
            Connect-IoTHub -ConnectionString $hub.serviceConnectionString -CACertificatePath $hub.caCertificatePath -ErrorAction Stop)
        return $hub
    }
    catch {
        # The caller never receives the hub, so nothing else would stop this emulator.
        if (-not $process.HasExited) { $process.Kill($true) }
        throw
    }
}

function Wait-TwinTestCondition {
    <# Waits until $Condition returns true (polled), and fails the test if it has not within $TwinTestTime.Eventually. #>
    param([Parameter(Mandatory)][scriptblock] $Condition, [Parameter(Mandatory)][string] $What)
    $deadline = [DateTime]::UtcNow.AddSeconds($script:TwinTestTime.Eventually)
    while (-not (& $Condition)) {
        if ([DateTime]::UtcNow -gt $deadline) { throw "$What did not happen within $($script:TwinTestTime.Eventually) s." }
        Start-Sleep -Milliseconds 50
    }
}

function Stop-TwinTestHub($Hub) {
    if ($null -eq $Hub) { return }
    if ($Hub.Http) { $Hub.Http.Dispose() }
    if ($Hub.Process.HasExited) { return }
    if ($IsLinux -or $IsMacOS) { & kill -TERM $Hub.Process.Id 2>$null }
    if (-not $Hub.Process.WaitForExit(10000)) { $Hub.Process.Kill($true) }
}

function Get-TwinTestNuGetFile([string] $RelativePath) {
    <# A file of a package in the NuGet cache (restored there by tests/tools/TestTools.csproj), e.g. another Azure.Core copy. #>
    $root = if ($env:NUGET_PACKAGES) { $env:NUGET_PACKAGES } else { Join-Path ([Environment]::GetFolderPath('UserProfile')) '.nuget/packages' }
    Join-Path $root $RelativePath
}

# The C# source of a TokenCredential of another Azure.Core copy, for child scenarios that compile it against that copy.
$script:SessionCopyCredentialSource = Join-Path $PSScriptRoot 'fixtures/SessionCopyCredential.cs'

function Invoke-TwinTestChild([string] $Script, [hashtable] $Parameters) {
    <# Runs $Script in a fresh pwsh (this same PowerShell) with $Parameters; its last output line is JSON. #>
    $file = Join-Path ([IO.Path]::GetTempPath()) ('twinps-child-' + [guid]::NewGuid().ToString('N') + '.ps1')
    Set-Content -Path $file -Value $Script
    try {
        $self = [Diagnostics.Process]::GetCurrentProcess().MainModule.FileName
        [string[]] $prefix = if ((Split-Path $self -Leaf) -like 'pwsh*') { @() } else { @(Join-Path $PSHOME 'pwsh.dll') }
        [string[]] $arguments = foreach ($key in $Parameters.Keys) { "-$key"; [string] $Parameters[$key] }
        $output = @(& $self @prefix -NoProfile -NonInteractive -File $file @arguments 2>&1 | ForEach-Object { "$_" })
        if ($LASTEXITCODE -ne 0) { throw "The child pwsh failed (exit code $LASTEXITCODE):`n$($output -join "`n")" }
        $output[-1] | ConvertFrom-Json
    }
    finally { Remove-Item $file -ErrorAction SilentlyContinue }
}

function Invoke-TwinTestRest($Hub, [string] $Method, [string] $Path, $Body) {
    <# A raw REST call for set-up; throws unless the status is 2xx. Returns the parsed JSON body. #>
    $json = if ($null -eq $Body) { $null } elseif ($Body -is [string]) { $Body } else { $Body | ConvertTo-Json -Depth 30 -Compress }
    $response = $Hub.Http.Send($Method, $Path, $json)
    if ($response.Status -lt 200 -or $response.Status -ge 300) {
        throw "$Method $Path failed with $($response.Status): $($response.Body)"
    }
    if ($response.Body) { return $response.Body | ConvertFrom-Json -Depth 30 }
}

function Get-TwinTestRequestCount($Hub) {
    <# Every request the emulator has received so far (its /$twinps/stats counter; this call counts too). #>
    [long] (Invoke-TwinTestRest $Hub GET '/$twinps/stats').requests
}

function Assert-NoRequestSent($Hub, [scriptblock] $Action) {
    <# Runs $Action and proves that it sent no request: the counter moves by exactly the one stats read. #>
    $before = Get-TwinTestRequestCount $Hub
    & $Action
    $after = Get-TwinTestRequestCount $Hub
    $after - $before | Should -Be 1 -Because 'the input must be refused before any request is sent'
}

function New-TwinTestDevice($Hub, [string[]] $DeviceId) {
    <# Creates devices through the bulk registry API, 100 per request. #>
    for ($i = 0; $i -lt $DeviceId.Count; $i += 100) {
        $batch = @($DeviceId[$i..([Math]::Min($i + 99, $DeviceId.Count - 1))] | ForEach-Object {
                @{ id = $_; importMode = 'create'; status = 'enabled' }
            })
        $null = Invoke-TwinTestRest $Hub POST '/devices' (ConvertTo-Json -InputObject $batch -Depth 5 -Compress)
    }
}

function New-TwinTestModule($Hub, [string] $DeviceId, [string] $ModuleId) {
    $null = Invoke-TwinTestRest $Hub PUT "/devices/$DeviceId/modules/$ModuleId" @{ deviceId = $DeviceId; moduleId = $ModuleId }
}

function Set-TwinTestTwin($Hub, [string] $DeviceId, $Patch, [string] $ModuleId) {
    <# Patches a twin through raw REST (set-up that does not rely on the cmdlets under test). #>
    $path = if ($ModuleId) { "/twins/$DeviceId/modules/$ModuleId" } else { "/twins/$DeviceId" }
    Invoke-TwinTestRest $Hub PATCH $path $Patch
}

function Get-TwinTestTwin($Hub, [string] $DeviceId, [string] $ModuleId) {
    $path = if ($ModuleId) { "/twins/$DeviceId/modules/$ModuleId" } else { "/twins/$DeviceId" }
    Invoke-TwinTestRest $Hub GET $path
}

function Get-TwinTestWhatIf([scriptblock] $Action) {
    <# Runs $Action and returns the "What if:" lines it printed (they go to the host, so a transcript catches them). #>
    $transcript = Join-Path ([System.IO.Path]::GetTempPath()) ("twinps-whatif-" + [guid]::NewGuid() + '.txt')
    $null = Start-Transcript -Path $transcript -UseMinimalHeader
    try { & $Action | Out-Null }
    finally { $null = Stop-Transcript }
    try { Get-Content $transcript | Where-Object { $_ -like 'What if:*' } }
    finally { Remove-Item $transcript -ErrorAction SilentlyContinue }
}
