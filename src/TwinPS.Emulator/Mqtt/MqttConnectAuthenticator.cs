using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using MQTTnet.Formatter;
using MQTTnet.Protocol;
using TwinPS.Emulator.Domain;
using TwinPS.Emulator.Hosting;
using TwinPS.Emulator.Security;
using TwinPS.Protocol;

namespace TwinPS.Emulator.Mqtt;

/// <summary>An authenticated device connection (what CONNECT proved).</summary>
internal sealed record DeviceCredentials(string DeviceId, string? ModuleId, string Method, DateTimeOffset? TokenExpiresOn)
{
    public string ClientId => DeviceMqttNames.ClientId(DeviceId, ModuleId);
}

/// <summary>The CONNACK to send when a CONNECT is refused, and why (for the log; never contains secrets).</summary>
internal sealed record ConnectRefusal(MqttConnectReasonCode Code, string Reason);

/// <summary>
/// Checks an MQTT CONNECT the way IoT Hub does (device reference A.1): MQTT 3.1.1; client id <c>{deviceId}</c> or
/// <c>{deviceId}/{moduleId}</c>; a user name <c>{host}/{clientId}/?api-version=…</c> (read leniently) naming the same
/// identity; and either a SAS token password (signed with the identity's primary or secondary key, or with a
/// policy that has DeviceConnect) or, without a password, a client certificate whose thumbprint is registered. Every
/// authentication failure — bad or expired token, wrong key, unknown or disabled identity — is CONNACK 5.
/// </summary>
internal sealed class MqttConnectAuthenticator(EmulatorContext context, DeviceTable devices)
{
    public DeviceCredentials? Authenticate(
        MqttProtocolVersion protocolVersion,
        string? clientId,
        string? userName,
        string? password,
        X509Certificate2? clientCertificate,
        string? willTopic,
        out ConnectRefusal? refusal)
    {
        refusal = null;
        if (protocolVersion != MqttProtocolVersion.V311)
        {
            refusal = new(MqttConnectReasonCode.UnsupportedProtocolVersion, $"protocol {protocolVersion}: IoT Hub speaks MQTT 3.1.1 only");
            return null;
        }

        if (!DeviceMqttNames.TrySplitClientId(clientId, out var deviceId, out var moduleId))
        {
            refusal = new(MqttConnectReasonCode.ClientIdentifierNotValid, "the client id is not {deviceId} or {deviceId}/{moduleId}");
            return null;
        }

        if (!DeviceMqttNames.UserNameNames(userName, deviceId, moduleId, out var userNameProblem))
        {
            return Refuse(out refusal, userNameProblem);
        }

        if (willTopic is not null && MqttTopicRules.Classify(willTopic, deviceId, moduleId, out _) != DevicePublishKind.Telemetry)
        {
            // IoT Hub accepts a will only on the identity's telemetry topic, so a will can never act as a twin request.
            return Refuse(out refusal, "the will topic is not this identity's telemetry topic (devices/{deviceId}/messages/events/…)");
        }

        var identity = devices.FindIdentity(deviceId, moduleId);
        if (identity is null)
        {
            return Refuse(out refusal, moduleId is null ? $"device '{deviceId}' is not registered" : $"module '{deviceId}/{moduleId}' is not registered");
        }

        if (!identity.IsEnabled)
        {
            return Refuse(out refusal, $"device '{deviceId}' is disabled");
        }

        if (!string.IsNullOrEmpty(password))
        {
            return AuthenticateToken(identity, deviceId, moduleId, password, out refusal);
        }

        if (clientCertificate is not null)
        {
            return AuthenticateCertificate(identity, deviceId, moduleId, clientCertificate, out refusal);
        }

        return Refuse(out refusal, "no password (SAS token) and no client certificate");
    }

    private DeviceCredentials? AuthenticateToken(Identity identity, string deviceId, string? moduleId, string password, out ConnectRefusal? refusal)
    {
        refusal = null;
        SharedAccessSignatureToken token;
        try
        {
            token = SharedAccessSignature.Parse(password);
        }
        catch (SharedAccessSignatureFormatException ex)
        {
            return Refuse(out refusal, "the password is not a SAS token: " + ex.Message);
        }

        if (!ResourceCoversIdentity(token, deviceId, moduleId))
        {
            return Refuse(out refusal, "the token's resource (sr) does not name this hub and identity");
        }

        if (token.KeyName is null)
        {
            if (HubTokenRules.NamesTheHub(token, context))
            {
                // A device or module key signs for that identity's resource; a token for the bare hub is a policy's.
                return Refuse(out refusal, "a device-key token must name the device ({host}/devices/{deviceId}), not the bare hub");
            }

            var auth = identity.Authentication;
            if (!string.Equals(auth.Type, "sas", StringComparison.OrdinalIgnoreCase))
            {
                return Refuse(out refusal, $"the identity uses {auth.Type} authentication, not a symmetric key");
            }

            if (!Valid(token, auth.PrimaryKey) && !Valid(token, auth.SecondaryKey))
            {
                return Refuse(out refusal, "the signature does not match the identity's keys");
            }
        }
        else
        {
            var policy = context.Policies.Find(token.KeyName);
            if (policy is null || (policy.Rights & AccessRights.DeviceConnect) == 0)
            {
                return Refuse(out refusal, "the token's policy (skn) does not exist or lacks DeviceConnect");
            }

            if (!Valid(token, policy.PrimaryKey) && !Valid(token, policy.SecondaryKey))
            {
                return Refuse(out refusal, "the signature does not match the policy's keys");
            }
        }

        var now = DateTimeOffset.UtcNow;
        if (token.IsExpired(now))
        {
            return Refuse(out refusal, "the SAS token has expired");
        }

        if (HubTokenRules.ExpiresTooLate(token, now))
        {
            return Refuse(out refusal, "the SAS token expires more than 10 years from now (the longest lifetime IoT Hub supports)");
        }

        return new DeviceCredentials(deviceId, moduleId, token.KeyName is null ? "sas" : "policy:" + token.KeyName, token.ExpiresOn);
    }

    private static DeviceCredentials? AuthenticateCertificate(Identity identity, string deviceId, string? moduleId, X509Certificate2 certificate, out ConnectRefusal? refusal)
    {
        refusal = null;
        var auth = identity.Authentication;
        if (!string.Equals(auth.Type, "selfSigned", StringComparison.OrdinalIgnoreCase))
        {
            // CA-signed identities would need uploaded, verified CA certificates, which the emulator does not have.
            return Refuse(out refusal, $"a client certificate was presented but the identity uses {auth.Type} authentication (the emulator supports thumbprint (selfSigned) X.509 only)");
        }

        var now = DateTime.Now;
        if (now < certificate.NotBefore || now > certificate.NotAfter)
        {
            return Refuse(out refusal, "the client certificate is not valid at this time");
        }

        var sha1 = certificate.GetCertHashString(HashAlgorithmName.SHA1);
        var sha256 = certificate.GetCertHashString(HashAlgorithmName.SHA256);
        bool Matches(string? registered) =>
            !string.IsNullOrEmpty(registered)
            && (string.Equals(registered, sha1, StringComparison.OrdinalIgnoreCase) || string.Equals(registered, sha256, StringComparison.OrdinalIgnoreCase));
        if (!Matches(auth.PrimaryThumbprint) && !Matches(auth.SecondaryThumbprint))
        {
            return Refuse(out refusal, "the client certificate's thumbprint is not registered for the identity");
        }

        return new DeviceCredentials(deviceId, moduleId, "x509", null);
    }

    private bool ResourceCoversIdentity(SharedAccessSignatureToken token, string deviceId, string? moduleId)
    {
        foreach (var host in HubTokenRules.HubHosts(context))
        {
            if (token.ResourceMatches(SharedAccessSignature.DeviceResource(host, deviceId, moduleId)))
            {
                return true;
            }
        }

        return false;
    }

    private static bool Valid(SharedAccessSignatureToken token, string? key) => !string.IsNullOrEmpty(key) && token.IsSignatureValid(key);

    private static DeviceCredentials? Refuse(out ConnectRefusal refusal, string reason)
    {
        refusal = new ConnectRefusal(MqttConnectReasonCode.NotAuthorized, reason);
        return null;
    }
}
