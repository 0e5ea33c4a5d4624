using System.Management.Automation;
using Azure.Core;
using Azure.Identity;
using TwinPS.Internal;
using TwinPS.Models;
using TwinPS.Protocol;

namespace TwinPS.Commands;

/// <summary>Connect-IoTHub: makes a hub connection the session default after checking it with one cheap request.</summary>
[Cmdlet(VerbsCommunications.Connect, "IoTHub", DefaultParameterSetName = ConnectionStringSet)]
[OutputType(typeof(IoTHubConnection))]
public sealed class ConnectIoTHubCommand : AsyncCmdlet
{
    private const string ConnectionStringSet = "ConnectionString";
    private const string EntraIdSet = "EntraId";
    private const string EntraIdNameSet = "EntraIdName";
    private const string PublicCloudSuffix = ".azure-devices.net";

    /// <summary>A service connection string, as a string or a SecureString.</summary>
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = ConnectionStringSet, ValueFromPipelineByPropertyName = true)]
    [Alias("ServiceConnectionString")]
    [ValidateNotNull]
    public object ConnectionString { get; set; } = null!;

    /// <summary>The hub's host name for Microsoft Entra ID authentication.</summary>
    [Parameter(Mandatory = true, ParameterSetName = EntraIdSet)]
    [ValidateNotNullOrEmpty]
    public string HostName { get; set; } = null!;

    /// <summary>
    /// The name of a hub in Azure's public cloud, for Microsoft Entra ID: short for -HostName &lt;Name&gt;.azure-devices.net.
    /// Not to be confused with -HubName, which only names the hub of a connection whose host name does not carry it.
    /// </summary>
    [Parameter(Mandatory = true, ParameterSetName = EntraIdNameSet)]
    [ValidatePattern("^[A-Za-z0-9-]{3,50}$")]
    public string Name { get; set; } = null!;

    /// <summary>An Azure.Core TokenCredential (typed object so that no Azure type appears in the cmdlet's signature).</summary>
    [Parameter(ParameterSetName = EntraIdSet)]
    [Parameter(ParameterSetName = EntraIdNameSet)]
    [ValidateNotNull]
    public object? Credential { get; set; }

    /// <summary>A PEM file with one extra CA certificate to trust for this connection only (the emulator's CA).</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string? CACertificatePath { get; set; }

    /// <summary>The hub's MQTT/TLS port when it is not 8883 (used for device connection strings).</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateRange(1, 65535)]
    public int? MqttPort { get; set; }

    /// <summary>
    /// The hub's name when the host name does not carry it (an emulator on <c>localhost</c>); binds from the HubName of
    /// Start-IoTHubEmulator's output. Default: the first label of the host name. Not with -Name (which names the hub).
    /// </summary>
    [Parameter(ParameterSetName = ConnectionStringSet, ValueFromPipelineByPropertyName = true)]
    [Parameter(ParameterSetName = EntraIdSet, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string? HubName { get; set; }

    /// <summary>
    /// The time budget, in seconds, of one request's retries (default 300): throttled requests (429, 503) wait the hub's
    /// back-off (about 10 s) and are retried until this much time has passed since their first attempt; 0 = never retry.
    /// </summary>
    [Parameter]
    [ValidateRange(0, 86400)]
    public int? RetryTimeoutSec { get; set; }

    /// <summary>Creates and returns the connection without making it the session default.</summary>
    [Parameter]
    public SwitchParameter NoSessionDefault { get; set; }

    /// <inheritdoc />
    protected override async Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        string? caPath = null;
        if (CACertificatePath is not null)
        {
            caPath = GetUnresolvedProviderPathFromPSPath(CACertificatePath);
            if (!File.Exists(caPath))
            {
                throw new TerminatingErrorException(ErrorRecords.InvalidInput(
                    "CACertificateNotFound", $"The CA certificate file '{caPath}' does not exist.", caPath));
            }
        }

        IoTHubConnection connection = ParameterSetName switch
        {
            EntraIdSet => CreateEntraConnection(HostName, caPath),
            EntraIdNameSet => CreateEntraConnection(Name + PublicCloudSuffix, caPath),
            _ => CreateKeyConnection(caPath),
        };

        WriteVerboseSafe($"Verifying the connection to {connection}.");
        try
        {
            // One request; Ctrl+C cancels it.
            await connection.ServiceClient.VerifyConnectionAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            connection.ServiceClient.Dispose();
            throw;
        }
        catch (Exception ex)
        {
            connection.ServiceClient.Dispose();
            throw new TerminatingErrorException(ErrorRecords.FromException(ex, deviceId: null, moduleId: null));
        }

        if (!NoSessionDefault)
        {
            await InvokeOnPipelineThreadAsync(() =>
            {
                ConnectionResolver.SetDefault(this, connection);
                return true;
            }).ConfigureAwait(false);
        }

        WriteObjectSafe(connection);
    }

    private IoTHubConnection CreateKeyConnection(string? caPath)
    {
        string text = SecretText.From(ConnectionString) ?? throw new TerminatingErrorException(ErrorRecords.InvalidInput(
            "InvalidConnectionStringType",
            $"-ConnectionString must be a string or a SecureString, not {(ConnectionString is PSObject wrapped ? wrapped.BaseObject : ConnectionString).GetType().FullName}.",
            target: null));
        if (!IoTHubConnectionString.TryParse(text, out IoTHubConnectionString? parsed, out string? error) || parsed is null)
        {
            throw new TerminatingErrorException(ErrorRecords.InvalidInput(
                "InvalidConnectionString", $"The connection string is not valid: {error}", target: null));
        }

        if (parsed.Kind != IoTHubConnectionKind.Service)
        {
            throw new TerminatingErrorException(ErrorRecords.InvalidInput(
                "DeviceConnectionStringNotAllowed", IoTHubConnection.DeviceConnectionStringRefused, target: null));
        }

        return IoTHubConnection.FromConnectionString(parsed, caPath, MqttPort, HubName, RetryTimeout);
    }

    private IoTHubConnection CreateEntraConnection(string hostName, string? caPath)
    {
        TokenCredential credential;
        object? given = Credential is PSObject wrapped ? wrapped.BaseObject : Credential;
        if (given is null)
        {
            credential = new DefaultAzureCredential();
        }
        else
        {
            // TwinPS's own TokenCredential (New-IoTHubEmulatorCredential), or one of any other Azure.Core copy in the
            // session (TwinPS's Azure.Core lives in the module's own load context), adapted by reflection.
            credential = ForeignTokenCredential.TryCreate(given) ?? throw new TerminatingErrorException(ErrorRecords.InvalidInput(
                "InvalidCredential",
                $"-Credential must be an Azure.Core.TokenCredential (for example an Azure.Identity credential object, from any Azure.Core version), not {given.GetType().FullName}.",
                target: null));
        }

        try
        {
            return IoTHubConnection.FromTokenCredential(hostName, credential, caPath, MqttPort, HubName, RetryTimeout);
        }
        catch (ArgumentException ex)
        {
            throw new TerminatingErrorException(ErrorRecords.InvalidInput("InvalidHostName", ex.Message, hostName));
        }
    }

    private TimeSpan? RetryTimeout => RetryTimeoutSec is int seconds ? TimeSpan.FromSeconds(seconds) : null;
}
