using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace TwinPS.Client.Tests.Infrastructure;

/// <summary>Throwaway CAs and server certificates generated for the test run (never trusted system-wide).</summary>
public static class TestCertificates
{
    private static readonly Lazy<X509Certificate2> LazyCa = new(() => CreateCa("TwinPS Test CA"));
    private static readonly Lazy<X509Certificate2> LazyOtherCa = new(() => CreateCa("TwinPS Other Test CA"));
    private static readonly Lazy<X509Certificate2> LazyServer = new(() => CreateServer(Ca, "localhost"));
    private static readonly Lazy<X509Certificate2> LazyWrongNameServer = new(() => CreateServer(Ca, "not-this-host.example"));

    /// <summary>The CA that signs <see cref="Server"/>.</summary>
    public static X509Certificate2 Ca => LazyCa.Value;

    /// <summary>An unrelated CA.</summary>
    public static X509Certificate2 OtherCa => LazyOtherCa.Value;

    /// <summary>A server certificate for localhost / 127.0.0.1 signed by <see cref="Ca"/>.</summary>
    public static X509Certificate2 Server => LazyServer.Value;

    /// <summary>A server certificate signed by <see cref="Ca"/> for another host name.</summary>
    public static X509Certificate2 WrongNameServer => LazyWrongNameServer.Value;

    /// <summary>The public CA certificate (no private key), as a client would get it from a PEM file.</summary>
    public static X509Certificate2 PublicOnly(X509Certificate2 cert) => X509Certificate2.CreateFromPem(cert.ExportCertificatePem());

    private static X509Certificate2 CreateCa(string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        using var cert = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        return Reload(cert);
    }

    private static X509Certificate2 CreateServer(X509Certificate2 ca, string dnsName)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={dnsName}", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName(dnsName);
        if (dnsName == "localhost")
        {
            san.AddIpAddress(IPAddress.Loopback);
        }

        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7F;
        using var cert = request.Create(ca, DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddDays(7), serial);
        using var withKey = cert.CopyWithPrivateKey(key);
        return Reload(withKey);
    }

    // A PFX round trip gives a certificate whose private key SslStream can use on every platform.
#pragma warning disable SYSLIB0057
    private static X509Certificate2 Reload(X509Certificate2 cert) => new(cert.Export(X509ContentType.Pkcs12), (string?)null, X509KeyStorageFlags.Exportable);
#pragma warning restore SYSLIB0057
}
