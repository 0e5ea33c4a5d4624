using System.Management.Automation;
using System.Security.Cryptography.X509Certificates;
using TwinPS.Client.Device;
using TwinPS.Completion;
using TwinPS.Internal;
using TwinPS.Models;
using TwinPS.Protocol;

namespace TwinPS.Commands;

/// <summary>
/// <para type="synopsis">Connects to IoT Hub as a device (or module) over MQTT and returns a device session.</para>
/// <para type="description">Authenticates with a device connection string (SAS key or token) or an X.509 client certificate,
/// subscribes to desired-property patches and reads the twin. The session reconnects by itself after a drop and raises
/// DesiredPropertiesReceived for each patch.</para>
/// </summary>
[Cmdlet(VerbsCommunications.Connect, "IoTDevice", DefaultParameterSetName = ConnectionStringSet)]
[OutputType(typeof(DeviceSession))]
public sealed class ConnectIoTDeviceCommand : AsyncCmdlet
{
    private const string ConnectionStringSet = "ConnectionString";
    private const string CertificateSet = "Certificate";

    /// <summary>A device or module connection string, as a string or a SecureString.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true, ParameterSetName = ConnectionStringSet)]
    [Alias("DeviceConnectionString")]
    [ValidateNotNull]
    public object ConnectionString { get; set; } = null!;

    /// <summary>The hub host name (X.509 authentication).</summary>
    [Parameter(Mandatory = true, ParameterSetName = CertificateSet)]
    [ValidateNotNullOrEmpty]
    public string HostName { get; set; } = null!;

    /// <summary>The device id (X.509 authentication).</summary>
    [Parameter(Mandatory = true, ParameterSetName = CertificateSet)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(DeviceIdCompleter))]
    public string DeviceId { get; set; } = null!;

    /// <summary>The module id, to connect as a module (X.509 authentication).</summary>
    [Parameter(ParameterSetName = CertificateSet)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(ModuleIdCompleter))]
    public string? ModuleId { get; set; }

    /// <summary>The device's client certificate with its private key (for X.509, or a connection string with x509=true).</summary>
    [Parameter(Mandatory = true, ParameterSetName = CertificateSet)]
    [Parameter(ParameterSetName = ConnectionStringSet)]
    [ValidateNotNull]
    public X509Certificate2? Certificate { get; set; }

    /// <summary>A PEM (or DER) file with one extra CA certificate to trust for this connection only (the emulator's CA).</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string? CACertificatePath { get; set; }

    /// <summary>The MQTT/TLS port (default: the port in GatewayHostName or HostName, else 8883).</summary>
    [Parameter]
    [ValidateRange(1, 65535)]
    public int MqttPort { get; set; }

    /// <summary>Seconds to wait for the connection, and for each twin request later (default 30).</summary>
    [Parameter]
    [ValidateRange(1, 600)]
    public int TimeoutSec { get; set; } = 30;

    /// <summary>Do not reconnect after the connection drops (the session then stays Disconnected).</summary>
    [Parameter]
    public SwitchParameter NoReconnect { get; set; }

    /// <inheritdoc/>
    protected override async Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        var options = new IoTHubDeviceClientOptions
        {
            OperationTimeout = TimeSpan.FromSeconds(TimeoutSec),
            ConnectTimeout = TimeSpan.FromSeconds(Math.Min(TimeoutSec, 60)),
            AutoReconnect = !NoReconnect.IsPresent,
            ProductInfo = "PowerShell",
        };
        if (MyInvocation.BoundParameters.ContainsKey(nameof(MqttPort)))
        {
            options.MqttPort = MqttPort;
        }

        IoTHubConnectionString? parsed = null;
        if (ParameterSetName == ConnectionStringSet)
        {
            var text = ToText(ConnectionString);
            if (!IoTHubConnectionString.TryParse(text, out parsed, out var error))
            {
                throw new TerminatingErrorException(ErrorRecords.InvalidInput("InvalidConnectionString", "The device connection string is invalid: " + error, null));
            }
        }

        var caPath = await ResolveCACertificatePathAsync(parsed is null ? HostName : parsed.GatewayHostName ?? parsed.HostName).ConfigureAwait(false);
        if (caPath is not null)
        {
            options.TrustedCACertificate = LoadCertificate(caPath);
        }

        var client = parsed is null
            ? Create(() => IoTHubDeviceClient.CreateWithCertificate(HostName, DeviceId, ModuleId, Certificate!, options), DeviceId)
            : Create(() => IoTHubDeviceClient.Create(parsed, options, Certificate), parsed.DeviceId);

        var session = new DeviceSession(client, caPath);
        WriteVerboseSafe($"Connecting '{ErrorRecords.Target(client.DeviceId, client.ModuleId)}' to {client.Endpoint} over MQTT/TLS ({client.AuthenticationType}{(caPath is null ? string.Empty : ", trusting " + caPath)}).");
        try
        {
            await client.OpenAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            session.Dispose();
            if (ex is OperationCanceledException && cancellationToken.IsCancellationRequested)
            {
                throw;
            }

            throw new TerminatingErrorException(ErrorRecords.FromException(ex, client.DeviceId, client.ModuleId));
        }

        DeviceSessions.Add(session);
        WriteObjectSafe(session.ToPSObject());
    }

    private static IoTHubDeviceClient Create(Func<IoTHubDeviceClient> create, string? target)
    {
        try
        {
            return create();
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException or IoTHubProtocolException or InvalidOperationException)
        {
            throw new TerminatingErrorException(ErrorRecords.InvalidInput("InvalidDeviceConnection", ex.Message, target));
        }
    }

    // The extra CA: -CACertificatePath; else that of the session's hub connection when it is the same host (an emulator
    // connected with Connect-IoTHub); else IOTHUB_CA_CERTIFICATE_PATH.
    private Task<string?> ResolveCACertificatePathAsync(string host) => InvokeOnPipelineThreadAsync<string?>(() =>
    {
        if (CACertificatePath is not null)
        {
            return GetUnresolvedProviderPathFromPSPath(CACertificatePath);
        }

        var hub = ConnectionResolver.GetDefault(this);
        if (hub?.CACertificatePath is not null && string.Equals(HostOnly(hub.HostName), HostOnly(host), StringComparison.OrdinalIgnoreCase))
        {
            return hub.CACertificatePath;
        }

        var fromEnvironment = Environment.GetEnvironmentVariable(ConnectionResolver.CACertificateVariableName);
        return string.IsNullOrWhiteSpace(fromEnvironment) ? null : GetUnresolvedProviderPathFromPSPath(fromEnvironment);
    });

    private static string HostOnly(string hostAndPort)
    {
        var colon = hostAndPort.LastIndexOf(':');
        return colon > 0 && !hostAndPort.EndsWith(']') ? hostAndPort[..colon] : hostAndPort;
    }

    private static X509Certificate2 LoadCertificate(string path)
    {
        try
        {
            var bytes = File.ReadAllBytes(path);
            var text = System.Text.Encoding.ASCII.GetString(bytes);
            return text.Contains("-----BEGIN CERTIFICATE-----", StringComparison.Ordinal)
                ? X509Certificate2.CreateFromPem(text)
                : new X509Certificate2(bytes);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException)
        {
            throw new TerminatingErrorException(ErrorRecords.InvalidInput("InvalidCACertificate", $"Cannot read the CA certificate '{path}': {ex.Message}", path));
        }
    }

    private static string ToText(object value) => SecretText.From(value) ?? throw new TerminatingErrorException(ErrorRecords.InvalidInput(
        "InvalidConnectionStringType", $"-ConnectionString must be a string or a SecureString, not {value.GetType().FullName}.", null));
}
