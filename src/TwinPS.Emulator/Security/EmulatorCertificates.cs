using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace TwinPS.Emulator.Security;

/// <summary>
/// The emulator's own CA and its TLS server certificate, generated once per data folder and reused on restart.
/// Clients trust the CA (<see cref="CaCertificatePath"/>, PEM) for this endpoint only.
/// </summary>
internal sealed class EmulatorCertificates : IDisposable
{
    private const string CaCertFile = "ca.pem";
    private const string CaKeyFile = "ca.key.pem";
    private const string ServerCertFile = "server.pem";
    private const string ServerKeyFile = "server.key.pem";

    private EmulatorCertificates(string caCertificatePath, X509Certificate2 ca, X509Certificate2 server)
    {
        CaCertificatePath = caCertificatePath;
        CaCertificate = ca;
        ServerCertificate = server;
    }

    /// <summary>Full path of the CA certificate (PEM) that clients must trust.</summary>
    public string CaCertificatePath { get; }

    public X509Certificate2 CaCertificate { get; }

    /// <summary>The TLS server certificate, with its private key.</summary>
    public X509Certificate2 ServerCertificate { get; }

    /// <summary>Loads the certificates from <paramref name="folder"/>, creating whatever is missing or unusable.</summary>
    public static EmulatorCertificates LoadOrCreate(string folder, IPAddress bindAddress)
    {
        string caCertPath = Path.Combine(folder, CaCertFile);
        string caKeyPath = Path.Combine(folder, CaKeyFile);
        string serverCertPath = Path.Combine(folder, ServerCertFile);
        string serverKeyPath = Path.Combine(folder, ServerKeyFile);

        // Key files of an older emulator version may have been written with the default mode.
        OwnerOnlyFiles.Restrict(caKeyPath);
        OwnerOnlyFiles.Restrict(serverKeyPath);

        X509Certificate2 ca;
        bool newCa = false;
        if (File.Exists(caCertPath) && File.Exists(caKeyPath))
        {
            ca = X509Certificate2.CreateFromPemFile(caCertPath, caKeyPath);
        }
        else
        {
            ca = CreateCa();
            WritePem(caCertPath, ca.ExportCertificatePem(), secret: false);
            using ECDsa caKey = ca.GetECDsaPrivateKey()!;
            WritePem(caKeyPath, caKey.ExportPkcs8PrivateKeyPem(), secret: true);
            newCa = true;
        }

        X509Certificate2? server = null;
        if (!newCa && File.Exists(serverCertPath) && File.Exists(serverKeyPath))
        {
            server = X509Certificate2.CreateFromPemFile(serverCertPath, serverKeyPath);
            if (!IsUsable(server, ca, bindAddress))
            {
                server.Dispose();
                server = null;
            }
        }

        if (server is null)
        {
            server = CreateServer(ca, bindAddress);
            WritePem(serverCertPath, server.ExportCertificatePem(), secret: false);
            using ECDsa serverKey = server.GetECDsaPrivateKey()!;
            WritePem(serverKeyPath, serverKey.ExportPkcs8PrivateKeyPem(), secret: true);
        }

        // A PEM-loaded key is ephemeral; SslStream on some platforms needs a PKCS#12 round trip.
        X509Certificate2 usable = new(server.Export(X509ContentType.Pkcs12));
        server.Dispose();
        return new EmulatorCertificates(caCertPath, ca, usable);
    }

    public void Dispose()
    {
        CaCertificate.Dispose();
        ServerCertificate.Dispose();
    }

    private static X509Certificate2 CreateCa()
    {
        using ECDsa key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=TwinPS Emulator Local CA " + Guid.NewGuid().ToString("N")[..8], key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        DateTimeOffset now = DateTimeOffset.UtcNow;
        return request.CreateSelfSigned(now.AddDays(-1), now.AddYears(10));
    }

    private static X509Certificate2 CreateServer(X509Certificate2 ca, IPAddress bindAddress)
    {
        using ECDsa key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName("localhost");
        san.AddIpAddress(IPAddress.Loopback);
        san.AddIpAddress(IPAddress.IPv6Loopback);
        if (!bindAddress.Equals(IPAddress.Loopback) && !bindAddress.Equals(IPAddress.IPv6Loopback)
            && !bindAddress.Equals(IPAddress.Any) && !bindAddress.Equals(IPAddress.IPv6Any))
        {
            san.AddIpAddress(bindAddress);
        }

        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(ca, true, false));

        DateTimeOffset now = DateTimeOffset.UtcNow;
        DateTimeOffset notAfter = now.AddYears(2) < ca.NotAfter ? now.AddYears(2) : ca.NotAfter.ToUniversalTime().AddMinutes(-1);
        byte[] serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7F;
        using X509Certificate2 publicOnly = request.Create(ca, now.AddDays(-1), notAfter, serial);
        return publicOnly.CopyWithPrivateKey(key);
    }

    private static bool IsUsable(X509Certificate2 server, X509Certificate2 ca, IPAddress bindAddress)
    {
        if (server.NotAfter.ToUniversalTime() < DateTime.UtcNow.AddDays(30)) return false;
        if (!string.Equals(server.Issuer, ca.Subject, StringComparison.Ordinal)) return false;
        if (bindAddress.Equals(IPAddress.Any) || bindAddress.Equals(IPAddress.IPv6Any)
            || IPAddress.IsLoopback(bindAddress)) return true;
        var sanExtension = server.Extensions.OfType<X509SubjectAlternativeNameExtension>().FirstOrDefault();
        return sanExtension is not null && sanExtension.EnumerateIPAddresses().Any(a => a.Equals(bindAddress));
    }

    private static void WritePem(string path, string pem, bool secret) => OwnerOnlyFiles.WriteAllText(path, pem, secret);
}
