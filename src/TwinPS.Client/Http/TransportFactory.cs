using System.Net.Http;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Azure.Core.Pipeline;

namespace TwinPS.Client.Http;

/// <summary>
/// Builds this client's own transport: a pooled <see cref="SocketsHttpHandler"/> that accepts a server certificate
/// which validates against the system store, or (when configured) builds to the one extra trusted CA. Never accept-all.
/// </summary>
internal static class TransportFactory
{
    public static HttpClientTransport Create(IoTHubServiceClientOptions options, out SocketsHttpHandler handler)
    {
        var extraCa = LoadTrustedCa(options);
        handler = new SocketsHttpHandler
        {
            MaxConnectionsPerServer = Math.Max(1, options.MaxConnectionsPerServer),
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1),
            ConnectTimeout = TimeSpan.FromSeconds(30),
            AutomaticDecompression = System.Net.DecompressionMethods.None,
            UseCookies = false,
            AllowAutoRedirect = false,
        };
        if (extraCa is not null)
        {
            handler.SslOptions = new SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = (_, certificate, chain, errors) => Validate(certificate, chain, errors, extraCa),
            };
        }

        return new HttpClientTransport(handler);
    }

    /// <summary>System trust first; otherwise only a chain error may be forgiven, and only if the chain builds to <paramref name="extraCa"/>.</summary>
    internal static bool Validate(X509Certificate? certificate, X509Chain? presented, SslPolicyErrors errors, X509Certificate2 extraCa)
    {
        if (errors == SslPolicyErrors.None)
        {
            return true;
        }

        if (certificate is null || errors != SslPolicyErrors.RemoteCertificateChainErrors)
        {
            return false; // no certificate, or a name mismatch: never forgiven
        }

        using var leaf = new X509Certificate2(certificate);
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(extraCa);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.VerificationFlags = X509VerificationFlags.NoFlag;
        if (presented is not null)
        {
            foreach (var element in presented.ChainElements)
            {
                if (!element.Certificate.RawData.AsSpan().SequenceEqual(leaf.RawData))
                {
                    chain.ChainPolicy.ExtraStore.Add(element.Certificate);
                }
            }
        }

        return chain.Build(leaf);
    }

    internal static X509Certificate2? LoadTrustedCa(IoTHubServiceClientOptions options)
    {
        if (options.TrustedCACertificate is not null)
        {
            return options.TrustedCACertificate;
        }

        if (string.IsNullOrWhiteSpace(options.TrustedCACertificatePath))
        {
            return null;
        }

        var path = options.TrustedCACertificatePath;
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"The CA certificate file '{path}' does not exist.", path);
        }

        try
        {
            var text = File.ReadAllText(path);
            return text.Contains("-----BEGIN CERTIFICATE-----", StringComparison.Ordinal)
                ? X509Certificate2.CreateFromPem(text)
                : LoadDer(path);
        }
        catch (System.Security.Cryptography.CryptographicException ex)
        {
            throw new ArgumentException($"The file '{path}' does not hold a PEM or DER X.509 certificate: {ex.Message}", nameof(options), ex);
        }
    }

#pragma warning disable SYSLIB0057 // X509CertificateLoader is .NET 9+; this project targets net8.0.
    private static X509Certificate2 LoadDer(string path) => new(File.ReadAllBytes(path));
#pragma warning restore SYSLIB0057
}
