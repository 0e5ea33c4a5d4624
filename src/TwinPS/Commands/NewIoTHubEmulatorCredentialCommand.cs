using System.Management.Automation;
using TwinPS.Client;
using TwinPS.Internal;
using TwinPS.Protocol;

namespace TwinPS.Commands;

/// <summary>
/// New-IoTHubEmulatorCredential: an Azure.Core TokenCredential whose bearer tokens come from the local emulator's own
/// token issuer (a TEST STAND-IN for Microsoft Entra ID), for a principal with the given IoT Hub data-plane roles, so
/// that <c>Connect-IoTHub -HostName … -Credential $credential</c> runs a script under Entra-style roles offline.
/// </summary>
[Cmdlet(VerbsCommon.New, "IoTHubEmulatorCredential")]
[OutputType("Azure.Core.TokenCredential")]
public sealed class NewIoTHubEmulatorCredentialCommand : PSCmdlet, IDisposable
{
    private static readonly TimeSpan MinLifetime = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan MaxLifetime = TimeSpan.FromHours(24);
    private readonly CancellationTokenSource _stop = new();

    /// <summary>The IoT Hub data-plane roles the principal holds.</summary>
    [Parameter(Mandatory = true, Position = 0)]
    [ValidateSet("IoT Hub Data Reader", "IoT Hub Data Contributor", "IoT Hub Registry Contributor", "IoT Hub Twin Contributor")]
    public string[] Role { get; set; } = null!;

    /// <summary>The emulator's iothubowner connection string (string or SecureString); Start-IoTHubEmulator's output binds it.</summary>
    [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true)]
    [Alias("ServiceConnectionString")]
    [ValidateNotNull]
    public object ConnectionString { get; set; } = null!;

    /// <summary>The emulator's CA certificate (PEM); Start-IoTHubEmulator's output binds it.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string? CACertificatePath { get; set; }

    /// <summary>How long each token is valid (1 second to 24 hours; default 1 hour). Tokens are refreshed before they expire.</summary>
    [Parameter]
    public TimeSpan Lifetime { get; set; } = TimeSpan.FromHours(1);

    /// <inheritdoc />
    protected override void ProcessRecord()
    {
        if (Lifetime < MinLifetime || Lifetime > MaxLifetime)
        {
            ThrowTerminatingError(ErrorRecords.InvalidInput(
                "InvalidLifetime", "-Lifetime must be from 1 second to 24 hours.", Lifetime));
        }

        string? text = SecretText.From(ConnectionString);
        if (text is null)
        {
            ThrowTerminatingError(ErrorRecords.InvalidInput(
                "InvalidConnectionStringType", "-ConnectionString must be a string or a SecureString.", target: null));
            return;
        }

        if (!IoTHubConnectionString.TryParse(text, out IoTHubConnectionString? parsed, out string? error) || parsed is null)
        {
            ThrowTerminatingError(ErrorRecords.InvalidInput(
                "InvalidConnectionString", $"The emulator's connection string is not valid: {error}", target: null));
            return;
        }

        if (parsed.Kind != IoTHubConnectionKind.Service || !string.Equals(parsed.SharedAccessKeyName, "iothubowner", StringComparison.Ordinal))
        {
            ThrowTerminatingError(ErrorRecords.InvalidInput(
                "OwnerConnectionStringRequired",
                "The emulator issues tokens to its 'iothubowner' policy only: give the emulator's iothubowner connection string (Start-IoTHubEmulator | New-IoTHubEmulatorCredential does).",
                target: null));
        }

        string? caPath = CACertificatePath is null ? null : GetUnresolvedProviderPathFromPSPath(CACertificatePath);
        if (caPath is not null && !File.Exists(caPath))
        {
            ThrowTerminatingError(ErrorRecords.InvalidInput("CACertificateNotFound", $"The CA certificate file '{caPath}' does not exist.", caPath));
        }

        var owner = new IoTHubServiceClient(parsed!, new IoTHubServiceClientOptions { TrustedCACertificatePath = caPath });
        var credential = new EmulatorTokenCredential(owner, Role.Distinct(StringComparer.OrdinalIgnoreCase).ToArray(), Lifetime);
        try
        {
            // One token now, so that a wrong address or a real hub (which has no token endpoint) fails here, not later.
            WriteVerbose($"Asking the emulator at {owner.HostName} for a token ({string.Join(", ", credential.Roles)}).");
            credential.GetTokenAsync(new Azure.Core.TokenRequestContext([IoTHubServiceClient.EntraScope]), _stop.Token).AsTask().GetAwaiter().GetResult();
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            credential.Dispose();
            throw new PipelineStoppedException();
        }
        catch (Exception ex) when (ex is Azure.Identity.AuthenticationFailedException { InnerException: IoTHubServiceException })
        {
            credential.Dispose();
            ThrowTerminatingError(ErrorRecords.FromException(ex.InnerException!, deviceId: null, moduleId: null));
        }

        WriteObject(credential);
    }

    /// <inheritdoc />
    protected override void StopProcessing() => _stop.Cancel();

    /// <inheritdoc />
    public void Dispose() => _stop.Dispose();
}
