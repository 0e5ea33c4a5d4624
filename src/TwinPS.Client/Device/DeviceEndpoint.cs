using System.Globalization;
using System.Security.Cryptography.X509Certificates;
using TwinPS.Protocol;

namespace TwinPS.Client.Device;

/// <summary>
/// Where and as whom a device client connects: the MQTT host/port to dial, and the CONNECT client id, user name and
/// (for SAS) the connection string that signs passwords. Follows what the official SDKs put on the wire.
/// </summary>
internal sealed class DeviceEndpoint
{
    private DeviceEndpoint(string hostName, string deviceId, string? moduleId, string dialHost, int port, IoTHubConnectionString? connectionString, X509Certificate2? certificate, string? productInfo)
    {
        HostName = hostName;
        DeviceId = deviceId;
        ModuleId = moduleId;
        DialHost = dialHost;
        Port = port;
        ConnectionString = connectionString;
        Certificate = certificate;
        var userAgent = "TwinPS/" + (typeof(DeviceEndpoint).Assembly.GetName().Version?.ToString(3) ?? "0.0.0")
            + (string.IsNullOrWhiteSpace(productInfo) ? string.Empty : " " + productInfo.Trim());
        UserName = DeviceMqttNames.UserName(hostName, ClientId, userAgent);
    }

    /// <summary>The hub host name as used in the user name and token resource (verbatim, port included if given).</summary>
    public string HostName { get; }

    public string DeviceId { get; }

    public string? ModuleId { get; }

    /// <summary><c>{deviceId}</c> or <c>{deviceId}/{moduleId}</c> — the MQTT client id, also used in messages.</summary>
    public string ClientId => DeviceMqttNames.ClientId(DeviceId, ModuleId);

    public string DialHost { get; }

    public int Port { get; }

    public string UserName { get; }

    public IoTHubConnectionString? ConnectionString { get; }

    public X509Certificate2? Certificate { get; }

    /// <summary>Whether passwords are signed from a key (and so can be renewed).</summary>
    public bool CanRenewToken => ConnectionString?.SharedAccessKey is not null;

    public string Describe() => $"{DialHost}:{Port.ToString(CultureInfo.InvariantCulture)}";

    public static DeviceEndpoint FromConnectionString(IoTHubConnectionString cs, X509Certificate2? certificate, IoTHubDeviceClientOptions options)
    {
        if (cs.Kind == IoTHubConnectionKind.Service || cs.DeviceId is null)
        {
            throw new ArgumentException("This is a service (shared access policy) connection string; a device connection string needs 'DeviceId' (e.g. HostName=…;DeviceId=…;SharedAccessKey=…).", nameof(cs));
        }

        if (cs.UseX509 && certificate is null)
        {
            throw new ArgumentException("The connection string says x509=true: give the device's client certificate (with its private key).", nameof(certificate));
        }

        if (!cs.UseX509 && cs.SharedAccessKey is null && cs.SharedAccessSignature is null)
        {
            throw new ArgumentException("The connection string has neither 'SharedAccessKey' nor 'SharedAccessSignature'.", nameof(cs));
        }

        var (dialHost, port) = Split(cs.GatewayHostName ?? cs.HostName);
        return new DeviceEndpoint(cs.HostName, cs.DeviceId, cs.ModuleId, dialHost, options.MqttPort ?? port ?? IoTHubDeviceClientOptions.DefaultMqttPort, cs.UseX509 ? null : cs, cs.UseX509 ? certificate : null, options.ProductInfo);
    }

    public static DeviceEndpoint FromCertificate(string hostName, string deviceId, string? moduleId, X509Certificate2 certificate, IoTHubDeviceClientOptions options)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(hostName);
        IdentityRules.ValidateDeviceId(deviceId);
        if (moduleId is not null)
        {
            IdentityRules.ValidateModuleId(moduleId, allowSystemModules: true);
        }

        if (!certificate.HasPrivateKey)
        {
            throw new ArgumentException("The device certificate has no private key; X.509 authentication needs the certificate with its private key.", nameof(certificate));
        }

        var (dialHost, port) = Split(hostName);
        return new DeviceEndpoint(hostName, deviceId, moduleId, dialHost, options.MqttPort ?? port ?? IoTHubDeviceClientOptions.DefaultMqttPort, null, certificate, options.ProductInfo);
    }

    /// <summary>A fresh password for the next CONNECT (null for X.509).</summary>
    public string? CreatePassword(TimeSpan timeToLive, out DateTimeOffset? expiresOn)
    {
        expiresOn = null;
        if (ConnectionString is null)
        {
            return null;
        }

        if (ConnectionString.SharedAccessKey is not null)
        {
            expiresOn = DateTimeOffset.UtcNow + timeToLive;
        }

        return ConnectionString.CreateSasToken(expiresOn ?? DateTimeOffset.UtcNow + timeToLive);
    }

    private static (string Host, int? Port) Split(string hostAndPort)
    {
        var colon = hostAndPort.LastIndexOf(':');
        if (colon > 0 && !hostAndPort.EndsWith(']')
            && int.TryParse(hostAndPort[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var port))
        {
            return (hostAndPort[..colon], port);
        }

        return (hostAndPort, null);
    }
}
