using System.Net;
using System.Security.Cryptography.X509Certificates;
using TwinPS.Emulator.Security;

namespace TwinPS.Emulator.Hosting;

/// <summary>What every endpoint of the emulator shares: options, host name, certificates, policies and the token issuer.</summary>
internal sealed class EmulatorContext
{
    public EmulatorContext(EmulatorOptions options, string hostName, EmulatorCertificates certificates, SharedAccessPolicies policies, EntraTokenIssuer tokenIssuer)
    {
        Options = options;
        HostName = hostName;
        Certificates = certificates;
        Policies = policies;
        TokenIssuer = tokenIssuer;
    }

    public EmulatorOptions Options { get; }

    /// <summary>The host name clients use (<c>localhost</c> unless bound to a specific non-loopback address).</summary>
    public string HostName { get; }

    public IPAddress BindAddress => Options.BindAddress;

    /// <summary>The requested MQTT port (0 = pick a free one).</summary>
    public int RequestedMqttPort => Options.MqttPort;

    /// <summary>TLS server certificate (with private key) for every listener.</summary>
    public X509Certificate2 ServerCertificate => Certificates.ServerCertificate;

    public EmulatorCertificates Certificates { get; }

    public SharedAccessPolicies Policies { get; }

    /// <summary>The emulator's own bearer-token issuer (a test stand-in for Microsoft Entra ID).</summary>
    public EntraTokenIssuer TokenIssuer { get; }

    /// <summary>The HTTPS port actually bound (set once listening).</summary>
    public int HttpsPort { get; set; }

    /// <summary>The MQTT port actually bound (set once listening; 0 before).</summary>
    public int MqttPort { get; set; }
}
