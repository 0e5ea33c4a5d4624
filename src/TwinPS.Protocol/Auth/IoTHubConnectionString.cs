using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;

namespace TwinPS.Protocol;

/// <summary>
/// A parsed IoT Hub connection string (service, device or module). Part names are case-insensitive.
/// <see cref="ToString"/> and every exception message redact the key and any signature; <see cref="ToSecretString"/> returns the full string.
/// </summary>
public sealed class IoTHubConnectionString
{
    private const string Redacted = "***";

    private static readonly string[] KnownParts =
    [
        "HostName", "SharedAccessKeyName", "SharedAccessKey", "DeviceId", "ModuleId", "GatewayHostName", "x509", "SharedAccessSignature",
    ];

    private IoTHubConnectionString(
        string hostName,
        string? sharedAccessKeyName,
        string? sharedAccessKey,
        string? deviceId,
        string? moduleId,
        string? gatewayHostName,
        bool useX509,
        string? sharedAccessSignature)
    {
        HostName = hostName;
        (Host, Port) = SplitHostPort(hostName);
        SharedAccessKeyName = sharedAccessKeyName;
        SharedAccessKey = sharedAccessKey;
        DeviceId = deviceId;
        ModuleId = moduleId;
        GatewayHostName = gatewayHostName;
        UseX509 = useX509;
        SharedAccessSignature = sharedAccessSignature;
        Kind = moduleId is not null ? IoTHubConnectionKind.Module
            : deviceId is not null ? IoTHubConnectionKind.Device
            : IoTHubConnectionKind.Service;
    }

    /// <summary>The <c>HostName</c> part verbatim (may carry a port, e.g. <c>localhost:8443</c>).</summary>
    public string HostName { get; }

    /// <summary>The host of <see cref="HostName"/> without any port.</summary>
    public string Host { get; }

    /// <summary>The port carried by <see cref="HostName"/>, if any.</summary>
    public int? Port { get; }

    /// <summary>Service, Device or Module.</summary>
    public IoTHubConnectionKind Kind { get; }

    /// <summary>The shared access policy name (<c>SharedAccessKeyName</c>).</summary>
    public string? SharedAccessKeyName { get; }

    /// <summary>The base64 key (secret).</summary>
    public string? SharedAccessKey { get; }

    /// <summary>The device id.</summary>
    public string? DeviceId { get; }

    /// <summary>The module id.</summary>
    public string? ModuleId { get; }

    /// <summary>The gateway (IoT Edge) host name, if any.</summary>
    public string? GatewayHostName { get; }

    /// <summary>True for <c>x509=true</c> (the device authenticates with a client certificate).</summary>
    public bool UseX509 { get; }

    /// <summary>A pre-made SAS token (the whole <c>SharedAccessSignature sr=…</c> value; secret).</summary>
    public string? SharedAccessSignature { get; }

    /// <summary>
    /// The resource a SAS token for this connection is signed for: the host name (verbatim, with any port) for a service
    /// connection, <c>{host}/devices/{id}[/modules/{mid}]</c> for a device or module.
    /// </summary>
    public string SasResource => Kind == IoTHubConnectionKind.Service
        ? Protocol.SharedAccessSignature.ServiceResource(HostName)
        : Protocol.SharedAccessSignature.DeviceResource(HostName, DeviceId!, ModuleId);

    /// <summary>Parses a connection string; throws <see cref="FormatException"/> naming the missing, unknown, duplicate or invalid part.</summary>
    public static IoTHubConnectionString Parse(string connectionString)
    {
        var result = ParseCore(connectionString, out var error);
        return result ?? throw new FormatException(error);
    }

    /// <summary>Parses a connection string without throwing.</summary>
    public static bool TryParse(string? connectionString, [NotNullWhen(true)] out IoTHubConnectionString? result)
    {
        result = ParseCore(connectionString, out _);
        return result is not null;
    }

    /// <summary>Parses a connection string without throwing, returning the (secret-free) reason on failure.</summary>
    public static bool TryParse(string? connectionString, [NotNullWhen(true)] out IoTHubConnectionString? result, [NotNullWhen(false)] out string? error)
    {
        result = ParseCore(connectionString, out error);
        return result is not null;
    }

    /// <summary>Builds a service (shared access policy) connection string.</summary>
    public static IoTHubConnectionString ForService(string hostName, string keyName, string key) =>
        Parse($"HostName={hostName};SharedAccessKeyName={keyName};SharedAccessKey={key}");

    /// <summary>Builds a device (or, with <paramref name="moduleId"/>, module) connection string with a symmetric key.</summary>
    public static IoTHubConnectionString ForDevice(string hostName, string deviceId, string key, string? moduleId = null) =>
        Parse(moduleId is null
            ? $"HostName={hostName};DeviceId={deviceId};SharedAccessKey={key}"
            : $"HostName={hostName};DeviceId={deviceId};ModuleId={moduleId};SharedAccessKey={key}");

    /// <summary>
    /// The value for an <c>Authorization</c> header or MQTT password: the pre-made token if the string carries one,
    /// otherwise a token signed with the key for <see cref="SasResource"/> that expires at <paramref name="expiresOn"/>.
    /// </summary>
    public string CreateSasToken(DateTimeOffset expiresOn)
    {
        if (SharedAccessSignature is not null)
        {
            return SharedAccessSignature;
        }

        if (SharedAccessKey is null)
        {
            throw new InvalidOperationException("This connection string has no SharedAccessKey to sign a token with (it uses X.509).");
        }

        return Protocol.SharedAccessSignature.Build(SasResource, SharedAccessKey, SharedAccessKeyName, expiresOn);
    }

    /// <summary>The connection string with the key and any signature replaced by <c>***</c>.</summary>
    public override string ToString() => Format(redact: true);

    /// <summary>The full connection string, including secrets. Never log this.</summary>
    public string ToSecretString() => Format(redact: false);

    private string Format(bool redact)
    {
        var sb = new StringBuilder();
        Append(sb, "HostName", HostName);
        Append(sb, "DeviceId", DeviceId);
        Append(sb, "ModuleId", ModuleId);
        Append(sb, "SharedAccessKeyName", SharedAccessKeyName);
        Append(sb, "SharedAccessKey", SharedAccessKey is null ? null : redact ? Redacted : SharedAccessKey);
        Append(sb, "SharedAccessSignature", SharedAccessSignature is null ? null : redact ? Redacted : SharedAccessSignature);
        Append(sb, "GatewayHostName", GatewayHostName);
        if (UseX509)
        {
            Append(sb, "x509", "true");
        }

        return sb.ToString();
    }

    private static void Append(StringBuilder sb, string name, string? value)
    {
        if (value is null)
        {
            return;
        }

        if (sb.Length > 0)
        {
            sb.Append(';');
        }

        sb.Append(name).Append('=').Append(value);
    }

    private static IoTHubConnectionString? ParseCore(string? text, out string? error)
    {
        error = null;
        if (string.IsNullOrWhiteSpace(text))
        {
            error = "The connection string is empty.";
            return null;
        }

        var parts = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var rawSegment in text.Split(';'))
        {
            var segment = rawSegment.Trim();
            if (segment.Length == 0)
            {
                continue;
            }

            var eq = segment.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                error = eq == 0
                    ? "The connection string has a part with no name (a segment that starts with '=')."
                    : "The connection string has a segment without '=' (expected Name=Value parts separated by ';').";
                return null;
            }

            var name = segment[..eq].Trim();
            var value = segment[(eq + 1)..].Trim();
            var known = Array.Find(KnownParts, k => string.Equals(k, name, StringComparison.OrdinalIgnoreCase));
            if (known is null)
            {
                error = $"The connection string has an unknown part '{SafeName(name)}'. Known parts: {string.Join(", ", KnownParts)}.";
                return null;
            }

            if (!parts.TryAdd(known, value))
            {
                error = $"The connection string has the part '{known}' more than once.";
                return null;
            }

            if (value.Length == 0)
            {
                error = $"The connection string part '{known}' is empty.";
                return null;
            }
        }

        if (!parts.TryGetValue("HostName", out var hostName))
        {
            error = "The connection string is missing the 'HostName' part.";
            return null;
        }

        if (!IsValidHostName(hostName, out var hostError))
        {
            error = $"The connection string part 'HostName' is invalid: {hostError}";
            return null;
        }

        parts.TryGetValue("SharedAccessKeyName", out var keyName);
        parts.TryGetValue("SharedAccessKey", out var key);
        parts.TryGetValue("DeviceId", out var deviceId);
        parts.TryGetValue("ModuleId", out var moduleId);
        parts.TryGetValue("GatewayHostName", out var gateway);
        parts.TryGetValue("SharedAccessSignature", out var signature);
        var useX509 = false;
        if (parts.TryGetValue("x509", out var x509))
        {
            if (!bool.TryParse(x509, out useX509))
            {
                error = "The connection string part 'x509' must be 'true' or 'false'.";
                return null;
            }
        }

        if (gateway is not null && !IsValidHostName(gateway, out var gatewayError))
        {
            error = $"The connection string part 'GatewayHostName' is invalid: {gatewayError}";
            return null;
        }

        if (moduleId is not null && deviceId is null)
        {
            error = "The connection string has 'ModuleId' but is missing the 'DeviceId' part.";
            return null;
        }

        if (key is not null && signature is not null)
        {
            error = "The connection string has both 'SharedAccessKey' and 'SharedAccessSignature'; give only one.";
            return null;
        }

        if (useX509 && (key is not null || signature is not null))
        {
            error = "The connection string has 'x509=true' together with 'SharedAccessKey' or 'SharedAccessSignature'; give only one way to authenticate.";
            return null;
        }

        if (key is not null && !IsBase64(key))
        {
            error = "The connection string part 'SharedAccessKey' is not valid base64.";
            return null;
        }

        if (signature is not null && !Protocol.SharedAccessSignature.TryParse(signature, out _))
        {
            error = "The connection string part 'SharedAccessSignature' is not a valid token (expected 'SharedAccessSignature sr=…&sig=…&se=…').";
            return null;
        }

        if (deviceId is null)
        {
            if (useX509)
            {
                error = "The connection string has 'x509=true' but is missing the 'DeviceId' part (X.509 is for devices and modules).";
                return null;
            }

            if (keyName is null)
            {
                error = "The connection string is missing the 'SharedAccessKeyName' part (a service connection string names its shared access policy), or the 'DeviceId' part for a device.";
                return null;
            }

            if (key is null && signature is null)
            {
                error = "The connection string is missing the 'SharedAccessKey' part (or a 'SharedAccessSignature').";
                return null;
            }
        }
        else
        {
            try
            {
                IdentityRules.ValidateDeviceId(deviceId);
                if (moduleId is not null)
                {
                    IdentityRules.ValidateModuleId(moduleId, allowSystemModules: true);
                }
            }
            catch (IoTHubProtocolException ex)
            {
                error = $"The connection string is invalid: {ex.Message}";
                return null;
            }

            if (key is null && signature is null && !useX509)
            {
                error = "The connection string is missing the 'SharedAccessKey' part (or 'SharedAccessSignature', or 'x509=true').";
                return null;
            }
        }

        return new IoTHubConnectionString(hostName, keyName, key, deviceId, moduleId, gateway, useX509, signature);
    }

    private static bool IsValidHostName(string hostName, out string error)
    {
        error = string.Empty;
        if (hostName.Contains("://", StringComparison.Ordinal))
        {
            error = "give the bare host name without a scheme (e.g. 'myhub.azure-devices.net').";
            return false;
        }

        if (hostName.Any(c => char.IsWhiteSpace(c) || char.IsControl(c) || c is '/' or '\\' or '?' or '#' or '@'))
        {
            error = "it must be a host name with an optional ':port', with no path, spaces or query.";
            return false;
        }

        var (host, _) = SplitHostPort(hostName);
        if (host.Length == 0)
        {
            error = "the host is empty.";
            return false;
        }

        var colon = hostName.LastIndexOf(':');
        if (colon >= 0 && !hostName.EndsWith(']')
            && (!int.TryParse(hostName[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535))
        {
            error = "the port after ':' must be a number from 1 to 65535.";
            return false;
        }

        return true;
    }

    private static (string Host, int? Port) SplitHostPort(string hostName)
    {
        var colon = hostName.LastIndexOf(':');
        if (colon < 0 || hostName.EndsWith(']'))
        {
            return (hostName, null);
        }

        return int.TryParse(hostName[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var port)
            ? (hostName[..colon], port)
            : (hostName, null);
    }

    private static bool IsBase64(string value)
    {
        var buffer = new byte[value.Length];
        return Convert.TryFromBase64String(value, buffer, out var written) && written > 0;
    }

    // Unknown part names are echoed (shortened), never their values: a typo'd key name must not leak the key.
    private static string SafeName(string name) =>
        name.Length <= 40 && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-') ? name : "(a name that is not a known part)";
}
