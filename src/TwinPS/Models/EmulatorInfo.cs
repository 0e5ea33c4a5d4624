using System.Diagnostics;
using System.Globalization;
using System.Security;

namespace TwinPS.Models;

/// <summary>
/// A running local IoT Hub emulator started by <c>Start-IoTHubEmulator</c>. Its connection strings are SecureStrings
/// (the keys are local-only, but are still not printed): piping this object to <c>Connect-IoTHub</c> binds
/// <see cref="ServiceConnectionString"/>, <see cref="CACertificatePath"/> and <see cref="MqttPort"/> by property name.
/// </summary>
public sealed class EmulatorInfo
{
    private readonly Dictionary<string, SecureString> _policies;

    internal EmulatorInfo(
        string hostName,
        int httpsPort,
        int? mqttPort,
        string hubName,
        SecureString serviceConnectionString,
        Dictionary<string, SecureString> policies,
        string caCertificatePath,
        string? dataPath,
        int processId,
        Process? process)
    {
        HostName = hostName;
        HttpsPort = httpsPort;
        MqttPort = mqttPort;
        HubName = hubName;
        ServiceConnectionString = serviceConnectionString;
        _policies = policies;
        CACertificatePath = caCertificatePath;
        DataPath = dataPath;
        ProcessId = processId;
        Process = process;
        StartTime = DateTimeOffset.Now;
    }

    /// <summary>The host name clients use (<c>localhost</c>).</summary>
    public string HostName { get; }

    /// <summary>The HTTPS (service REST) port.</summary>
    public int HttpsPort { get; }

    /// <summary>The MQTT/TLS (device) port; null when the emulator runs without MQTT.</summary>
    public int? MqttPort { get; }

    /// <summary>The hub name the emulator reports.</summary>
    public string HubName { get; }

    /// <summary>The <c>iothubowner</c> service connection string, as a SecureString.</summary>
    public SecureString ServiceConnectionString { get; }

    /// <summary>Names of the shared access policies (<c>iothubowner</c>, <c>service</c>, <c>registryRead</c>, …).</summary>
    public string[] Policies => _policies.Keys.ToArray();

    /// <summary>The emulator's CA certificate (PEM) that clients trust for this endpoint only.</summary>
    public string CACertificatePath { get; }

    /// <summary>The data folder (SQLite store, certificates, keys); null with <c>-InMemory</c>.</summary>
    public string? DataPath { get; }

    /// <summary>The emulator's process id.</summary>
    public int ProcessId { get; }

    /// <summary>The throttling it applies (tier, units, mode, rates); null for an ideal hub that never throttles.</summary>
    public EmulatorThrottleInfo? Throttle { get; internal init; }

    /// <summary>The faults it injects (rate, seed, kinds); null when it injects none.</summary>
    public EmulatorFaultInfo? Faults { get; internal init; }

    /// <summary>When it was started (local time).</summary>
    public DateTimeOffset StartTime { get; }

    /// <summary>Whether the process is still running.</summary>
    public bool IsRunning
    {
        get
        {
            try
            {
                return Process is not null && !Process.HasExited;
            }
            catch (InvalidOperationException)
            {
                return false;
            }
        }
    }

    /// <summary>The <c>https://host:port</c> address of the service API.</summary>
    public Uri Endpoint => new(string.Create(CultureInfo.InvariantCulture, $"https://{HostName}:{HttpsPort}/"));

    internal Process? Process { get; }

    /// <summary>The service connection string of one policy (e.g. <c>service</c> or <c>registryRead</c>), as a SecureString.</summary>
    /// <exception cref="ArgumentException">No policy of that name.</exception>
    public SecureString GetPolicyConnectionString(string policyName)
    {
        ArgumentNullException.ThrowIfNull(policyName);
        return _policies.TryGetValue(policyName, out SecureString? value)
            ? value
            : throw new ArgumentException(
                $"The emulator has no policy '{policyName}'. Its policies: {string.Join(", ", _policies.Keys)}.", nameof(policyName));
    }

    /// <inheritdoc />
    public override string ToString() => string.Create(
        CultureInfo.InvariantCulture, $"IoT Hub emulator {HubName} at {HostName}:{HttpsPort} (MQTT {MqttPort?.ToString(CultureInfo.InvariantCulture) ?? "off"}, pid {ProcessId})");
}
