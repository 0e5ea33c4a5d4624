using TwinPS.Emulator.Hosting;
using TwinPS.Protocol;

namespace TwinPS.Emulator.Security;

/// <summary>
/// The emulator's rules for what a SAS token may name and how long it may live, shared by the REST and MQTT
/// endpoints (docs/emulator-fidelity.md, "SAS tokens").
/// </summary>
internal static class HubTokenRules
{
    /// <summary>
    /// The longest lifetime accepted: ten years ahead (the "standardized maximum lifetime currently supported", a
    /// Microsoft maintainer in Azure/azure-iot-sdk-c#714). A token whose expiry lies further ahead is refused.
    /// </summary>
    public static readonly TimeSpan MaxLifetime = TimeSpan.FromDays(3653);

    /// <summary>Whether the token's expiry lies more than <see cref="MaxLifetime"/> (plus clock skew) ahead of <paramref name="now"/>.</summary>
    public static bool ExpiresTooLate(SharedAccessSignatureToken token, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(token);
        return token.ExpiresOn - now > MaxLifetime + SharedAccessSignatureToken.DefaultClockSkew;
    }

    /// <summary>
    /// The hub's host names as a token's <c>sr</c> may give them, each with one of the hub's ports: the host clients
    /// connect to, 127.0.0.1, and <c>{hub}.azure-devices.net</c>. A token whose host carries a port must name the HTTPS
    /// or the MQTT port; a host without a port names the hub (IoT Hub's own host names never carry one).
    /// </summary>
    public static IEnumerable<string> HubHosts(EmulatorContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        string[] hosts = [context.HostName, "127.0.0.1", context.Options.HubName + ".azure-devices.net"];
        int[] ports = context.MqttPort > 0 ? [context.HttpsPort, context.MqttPort] : [context.HttpsPort];
        foreach (string host in hosts)
        {
            foreach (int port in ports)
            {
                yield return host + ":" + port.ToString(System.Globalization.CultureInfo.InvariantCulture);
            }
        }
    }

    /// <summary>Whether the token's <c>sr</c> is this hub itself (no path).</summary>
    public static bool NamesTheHub(SharedAccessSignatureToken token, EmulatorContext context)
    {
        ArgumentNullException.ThrowIfNull(token);
        if (token.Resource.Trim().TrimEnd('/').Contains('/', StringComparison.Ordinal)) return false;
        return HubHosts(context).Any(token.ResourceMatches);
    }
}
