using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace TwinPS.Client.Device;

/// <summary>
/// Validates the hub's TLS certificate: the platform's verdict, or — only for a chain error — a chain built to the one
/// extra CA this client was told to trust. A host-name mismatch or a missing certificate always fails.
/// </summary>
internal static class ServerCertificateValidator
{
    public static bool Validate(X509Certificate? certificate, X509Chain? presentedChain, SslPolicyErrors errors, X509Certificate2? trustedCa)
    {
        if (errors == SslPolicyErrors.None)
        {
            return true;
        }

        if (trustedCa is null || certificate is null || errors != SslPolicyErrors.RemoteCertificateChainErrors)
        {
            return false;
        }

        using var leaf = new X509Certificate2(certificate);
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(trustedCa);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        if (presentedChain is not null)
        {
            foreach (var element in presentedChain.ChainElements)
            {
                chain.ChainPolicy.ExtraStore.Add(element.Certificate);
            }
        }

        return chain.Build(leaf);
    }
}
