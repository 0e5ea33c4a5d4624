using System.Globalization;
using System.Net;
using TwinPS.Emulator.Security;
using TwinPS.Emulator.Limits;

namespace TwinPS.Emulator.Hosting;

/// <summary>The emulator's command-line options.</summary>
internal sealed class EmulatorOptions
{
    public int HttpsPort { get; init; } = 8443;
    public int MqttPort { get; init; } = 8883;
    public string? DataPath { get; init; }
    public bool InMemory { get; init; }
    public IPAddress BindAddress { get; init; } = IPAddress.Loopback;
    public string HubName { get; init; } = "twinps-emulator";
    public bool Verbose { get; init; }
    public bool ShowHelp { get; init; }

    /// <summary>Tier throttling (<c>--tier</c>, <c>--rate</c>, …); <see cref="ThrottleSettings.None"/> by default.</summary>
    public ThrottleSettings Throttle { get; init; } = ThrottleSettings.None;

    /// <summary>Fault injection (<c>--fault-rate</c>, …); <see cref="FaultSettings.None"/> by default.</summary>
    public FaultSettings Faults { get; init; } = FaultSettings.None;

    /// <summary>The user's own shared access policies (<c>--policy NAME=Right,Right</c>), in the order given.</summary>
    public IReadOnlyList<PolicyDefinition> CustomPolicies { get; init; } = [];

    /// <summary>How long a client has to complete the TLS handshake (HTTPS and MQTT) and, on MQTT, to send CONNECT.</summary>
    public TimeSpan HandshakeTimeout { get; init; } = DefaultHandshakeTimeout;

    /// <summary>Kestrel's default HTTPS handshake timeout, used for MQTT as well.</summary>
    public static readonly TimeSpan DefaultHandshakeTimeout = TimeSpan.FromSeconds(10);

    /// <summary>The clock skew the bearer-token check allows on expiry (--entra-clock-skew).</summary>
    public TimeSpan EntraClockSkew { get; init; } = Security.EntraTokenIssuer.DefaultClockSkew;

    /// <summary>The data folder used when --data is not given.</summary>
    public static string DefaultDataPath =>
        Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.Create), "twinps-emulator");

    public const string HelpText = """
        TwinPS local IoT Hub emulator

        Usage: TwinPS.Emulator [options]

          --https-port N     HTTPS (REST) port; 0 picks a free port (default 8443)
          --mqtt-port N      MQTT/TLS port; 0 picks a free port (default 8883)
          --data PATH        data folder: SQLite store, certificates, policy keys
                             (default: twinps-emulator under the local application data folder)
          --in-memory        keep nothing on disk (throwaway run; certificates in a temp folder)
          --bind ADDRESS     the one IP address to listen on, HTTPS and MQTT; "::" is every
                             IPv6 address and no IPv4 one (default 127.0.0.1)
          --hub-name NAME    hub name reported in the ready line (default twinps-emulator)
          --handshake-timeout SECONDS
                             time a client has to complete TLS (HTTPS and MQTT) and to send
                             MQTT CONNECT; 1-300 (default 10)
          --policy NAME=RIGHT[,RIGHT...]
                             add a shared access policy of your own (repeatable); rights:
                             RegistryRead, RegistryWrite, ServiceConnect, DeviceConnect.
                             Its keys are generated once and kept in the data folder
          --entra-clock-skew SECONDS
                             clock skew allowed on bearer-token expiry, 0-300 (default 60); bearer
                             tokens come from the emulator's own test issuer, never from Entra ID
          --verbose          log every request line to stderr
          --help             show this help


        """ + LimitOptionsParser.HelpText + """


        When ready, one line of JSON is written to stdout (host name, ports, connection strings,
        CA certificate path). Stop with Ctrl+C or SIGTERM.
        """;

    /// <summary>Parses the arguments or throws <see cref="OptionsException"/> with a message for the user.</summary>
    public static EmulatorOptions Parse(IReadOnlyList<string> args)
    {
        ArgumentNullException.ThrowIfNull(args);
        int https = 8443, mqtt = 8883;
        string? data = null;
        bool inMemory = false, verbose = false, help = false;
        IPAddress bind = IPAddress.Loopback;
        string hub = "twinps-emulator";
        var limits = new LimitOptionsParser();
        TimeSpan handshakeTimeout = DefaultHandshakeTimeout;
        var policies = new List<PolicyDefinition>();
        TimeSpan skew = Security.EntraTokenIssuer.DefaultClockSkew;

        for (int i = 0; i < args.Count; i++)
        {
            string arg = args[i];
            string name = arg;
            string? inlineValue = null;
            int eq = arg.IndexOf('=', StringComparison.Ordinal);
            if (arg.StartsWith("--", StringComparison.Ordinal) && eq > 0)
            {
                name = arg[..eq];
                inlineValue = arg[(eq + 1)..];
            }

            string Value()
            {
                if (inlineValue is not null) return inlineValue;
                if (i + 1 >= args.Count) throw new OptionsException($"Option '{name}' needs a value.");
                return args[++i];
            }

            switch (name.ToLowerInvariant())
            {
                case "--https-port": https = ParsePort(name, Value()); break;
                case "--mqtt-port": mqtt = ParsePort(name, Value()); break;
                case "--data":
                    data = Value();
                    if (string.IsNullOrWhiteSpace(data)) throw new OptionsException("Option '--data' needs a folder path.");
                    break;
                case "--in-memory": NoValue(name, inlineValue); inMemory = true; break;
                case "--verbose": NoValue(name, inlineValue); verbose = true; break;
                case "--bind":
                    string b = Value();
                    if (!IPAddress.TryParse(b, out IPAddress? parsed))
                        throw new OptionsException($"Option '--bind' needs an IP address, got '{b}'.");
                    bind = parsed;
                    break;
                case "--hub-name":
                    hub = Value();
                    if (!IsValidHubName(hub))
                        throw new OptionsException($"Option '--hub-name' needs 3-50 letters, digits or '-', got '{hub}'.");
                    break;
                case "--handshake-timeout":
                    string t = Value();
                    if (!int.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out int seconds) || seconds is < 1 or > 300)
                        throw new OptionsException($"Option '--handshake-timeout' needs a number of seconds 1-300, got '{t}'.");
                    handshakeTimeout = TimeSpan.FromSeconds(seconds);
                    break;
                case "--policy":
                    PolicyDefinition policy = PolicyDefinition.Parse(Value());
                    if (policies.Any(p => string.Equals(p.Name, policy.Name, StringComparison.OrdinalIgnoreCase)))
                        throw new OptionsException($"Option '--policy' names the policy '{policy.Name}' twice.");
                    policies.Add(policy);
                    break;
                case "--entra-clock-skew":
                    string skewText = Value();
                    if (!int.TryParse(skewText, NumberStyles.None, CultureInfo.InvariantCulture, out int skewSeconds) || skewSeconds > 300)
                        throw new OptionsException($"Option '--entra-clock-skew' needs a number of seconds 0-300, got '{skewText}'.");
                    skew = TimeSpan.FromSeconds(skewSeconds);
                    break;
                case "--help" or "-h" or "-?" or "/?": help = true; break;
                default:
                    if (limits.TryApply(name.ToLowerInvariant(), Value)) break;
                    throw new OptionsException($"Unknown option '{arg}'. Use --help to list the options.");
            }
        }

        PolicyDefinition.CheckQuota(policies);
        if (inMemory && data is not null)
            throw new OptionsException("Options '--in-memory' and '--data' cannot be used together.");

        (ThrottleSettings throttle, FaultSettings faults) = limits.Build();
        return new EmulatorOptions
        {
            Throttle = throttle, Faults = faults,
            HttpsPort = https, MqttPort = mqtt, DataPath = data, InMemory = inMemory, BindAddress = bind,
            HubName = hub, Verbose = verbose, ShowHelp = help, HandshakeTimeout = handshakeTimeout,
            CustomPolicies = policies, EntraClockSkew = skew,
        };
    }

    private static void NoValue(string name, string? inlineValue)
    {
        if (inlineValue is not null) throw new OptionsException($"Option '{name}' takes no value.");
    }

    private static int ParsePort(string name, string value)
    {
        if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int port) || port > 65535)
            throw new OptionsException($"Option '{name}' needs a port number 0-65535, got '{value}'.");
        return port;
    }

    private static bool IsValidHubName(string name) =>
        name.Length is >= 3 and <= 50 && name.All(c => char.IsAsciiLetterOrDigit(c) || c == '-');
}

/// <summary>A command-line error to show the user (exit code 2).</summary>
internal sealed class OptionsException(string message) : Exception(message);
