using System.Buffers;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;
using TwinPS.Client.Device;
using TwinPS.Protocol;

namespace TwinPS.Client.Tests.Device;

/// <summary>
/// The emulator's MQTT side spoken to directly with a plain MQTT client (no device-client validation in front of it),
/// as an SDK in another language would: server-side validation, error bodies, topic rules, X.509.
/// </summary>
public sealed class EmulatorMqttProtocolTests(DeviceHubFixture fixture) : IClassFixture<DeviceHubFixture>
{
    private readonly DeviceHub _hub = fixture.Hub;

    [Fact]
    public async Task An_invalid_reported_patch_gets_400_with_an_errorCode_body_and_nothing_is_applied()
    {
        var cs = IoTHubConnectionString.Parse(await _hub.CreateDeviceAsync());
        using var raw = await RawDevice.ConnectAsync(_hub, cs);
        await raw.SubscribeAsync("$iothub/twin/res/#");
        var before = await _hub.Service.GetTwinAsync(cs.DeviceId!);

        var (topic, body) = await raw.RequestAsync("$iothub/twin/PATCH/properties/reported/?$rid=r1", """{"fine":1,"bad$key":2}""");

        Assert.Equal("$iothub/twin/res/400/?$rid=r1", topic);
        var error = JsonNode.Parse(body)!;
        Assert.Equal(400004, (int)error["errorCode"]!);
        Assert.Contains("bad$key", (string)error["message"]!, StringComparison.Ordinal);
        Assert.False(string.IsNullOrEmpty((string?)error["trackingId"]));
        var after = await _hub.Service.GetTwinAsync(cs.DeviceId!);
        Assert.Equal(before.ReportedVersion, after.ReportedVersion);
        Assert.False(after.Reported.ContainsKey("fine"));
    }

    [Fact]
    public async Task Malformed_JSON_gets_400_IotHubFormatError_and_the_connection_stays_usable()
    {
        var cs = IoTHubConnectionString.Parse(await _hub.CreateDeviceAsync());
        using var raw = await RawDevice.ConnectAsync(_hub, cs);
        await raw.SubscribeAsync("$iothub/twin/res/#");

        var (topic, body) = await raw.RequestAsync("$iothub/twin/PATCH/properties/reported/?$rid=r2", "{not json");
        Assert.Equal("$iothub/twin/res/400/?$rid=r2", topic);
        Assert.Equal(400006, (int)JsonNode.Parse(body)!["errorCode"]!);

        // The Node SDK sends a single space as the GET payload.
        var (getTopic, twin) = await raw.RequestAsync("$iothub/twin/GET/?$rid=r3", " ");
        Assert.Equal("$iothub/twin/res/200/?$rid=r3", getTopic);
        var parsed = JsonNode.Parse(twin)!.AsObject();
        Assert.Equal(["desired", "reported"], parsed.Select(p => p.Key).Order().ToArray());
        Assert.Equal(1, (int)parsed["reported"]!["$version"]!);

        var (okTopic, okBody) = await raw.RequestAsync("$iothub/twin/PATCH/properties/reported/?$rid=r4", """{"a":1}""");
        Assert.Equal("$iothub/twin/res/204/?$rid=r4&$version=2", okTopic);
        Assert.Empty(okBody);
    }

    [Fact]
    public async Task Twin_requests_at_QoS_1_are_acknowledged_and_answered()
    {
        // The C# and Python SDKs publish twin requests at QoS 1 (Node and C at QoS 0).
        var cs = IoTHubConnectionString.Parse(await _hub.CreateDeviceAsync());
        using var raw = await RawDevice.ConnectAsync(_hub, cs);
        await raw.SubscribeAsync("$iothub/twin/res/#");

        var ack = await raw.PublishAsync("$iothub/twin/PATCH/properties/reported/?$rid=q1", """{"qos":1}""", MqttQualityOfServiceLevel.AtLeastOnce);

        Assert.True(ack.IsSuccess);
        Assert.True(raw.TryReceive(TimeBounds.Eventually, out var answer));
        Assert.Equal("$iothub/twin/res/204/?$rid=q1&$version=2", answer.Topic);
    }

    [Fact]
    public async Task A_subscription_to_a_topic_IoT_Hub_does_not_offer_closes_the_connection()
    {
        var cs = IoTHubConnectionString.Parse(await _hub.CreateDeviceAsync());
        using var raw = await RawDevice.ConnectAsync(_hub, cs);

        try
        {
            await raw.SubscribeAsync("devices/someone-else/messages/devicebound/#");
        }
        catch (Exception ex) when (ex is MQTTnet.Exceptions.MqttCommunicationException or OperationCanceledException)
        {
            // Closing may win the race with the SUBACK.
        }

        Assert.True(await raw.WaitDisconnectedAsync(TimeBounds.Eventually));
    }

    [Fact]
    public async Task A_publish_to_another_device_topic_closes_the_connection_and_nothing_is_routed()
    {
        var victim = IoTHubConnectionString.Parse(await _hub.CreateDeviceAsync());
        using var listener = await RawDevice.ConnectAsync(_hub, victim);
        await listener.SubscribeAsync("$iothub/twin/res/#");
        var attacker = IoTHubConnectionString.Parse(await _hub.CreateDeviceAsync());
        using var raw = await RawDevice.ConnectAsync(_hub, attacker);

        await raw.PublishAsync("$iothub/twin/res/200/?$rid=forged", "{}");

        Assert.True(await raw.WaitDisconnectedAsync(TimeBounds.Eventually));
        Assert.False(listener.TryReceive(TimeBounds.Quiet, out _));
    }

    [Fact]
    public async Task Responses_go_only_to_the_device_that_asked()
    {
        var a = IoTHubConnectionString.Parse(await _hub.CreateDeviceAsync());
        var b = IoTHubConnectionString.Parse(await _hub.CreateDeviceAsync());
        using var rawA = await RawDevice.ConnectAsync(_hub, a);
        using var rawB = await RawDevice.ConnectAsync(_hub, b);
        await rawA.SubscribeAsync("$iothub/twin/res/#");
        await rawB.SubscribeAsync("$iothub/twin/res/#");

        var (topic, _) = await rawA.RequestAsync("$iothub/twin/GET/?$rid=only-a", string.Empty);

        Assert.Equal("$iothub/twin/res/200/?$rid=only-a", topic);
        Assert.False(rawB.TryReceive(TimeBounds.Quiet, out _));
    }

    [Fact]
    public async Task Connect_refusals_are_CONNACK_5_and_protocol_mismatches_are_refused()
    {
        var cs = IoTHubConnectionString.Parse(await _hub.CreateDeviceAsync());

        var wrongUser = await RawDevice.TryConnectAsync(_hub, cs.DeviceId!, $"localhost/other-device/?api-version=2021-04-12", Token(cs));
        Assert.Equal(MqttClientConnectResultCode.NotAuthorized, wrongUser);

        var other = IoTHubConnectionString.Parse(await _hub.CreateDeviceAsync());
        var othersToken = await RawDevice.TryConnectAsync(_hub, cs.DeviceId!, $"localhost/{cs.DeviceId}/?api-version=2021-04-12", Token(other));
        Assert.Equal(MqttClientConnectResultCode.NotAuthorized, othersToken);

        var expired = SharedAccessSignature.Build(SharedAccessSignature.DeviceResource("localhost", cs.DeviceId!), cs.SharedAccessKey!, null, DateTimeOffset.UtcNow.AddHours(-1));
        Assert.Equal(MqttClientConnectResultCode.NotAuthorized, await RawDevice.TryConnectAsync(_hub, cs.DeviceId!, $"localhost/{cs.DeviceId}/?api-version=2021-04-12", expired));

        // Lenient user name: legacy form without '?' and unknown parameters are fine.
        Assert.Equal(MqttClientConnectResultCode.Success, await RawDevice.TryConnectAsync(_hub, cs.DeviceId!, $"localhost/{cs.DeviceId}/api-version=2016-11-14", Token(cs)));
        Assert.Equal(MqttClientConnectResultCode.Success, await RawDevice.TryConnectAsync(_hub, cs.DeviceId!, $"localhost/{cs.DeviceId}/?DeviceClientType=x%2F1&api-version=2020-09-30&model-id=dtmi%3Ax%3By%3B1", Token(cs)));

        // MQTT 5 is refused for what it is (IoT Hub speaks 3.1.1), with the valid credentials that 3.1.1 accepted above.
        Assert.Equal(MqttClientConnectResultCode.UnsupportedProtocolVersion, await RawDevice.TryConnectAsync(_hub, cs.DeviceId!, $"localhost/{cs.DeviceId}/?api-version=2021-04-12", Token(cs), MqttProtocolVersion.V500));
    }

    [Fact]
    public async Task An_X509_device_connects_with_its_registered_thumbprint_and_another_certificate_is_refused()
    {
        using var good = SelfSigned("x509-good");
        using var other = SelfSigned("x509-other");
        var id = DeviceHub.NewId();
        var identity = new DeviceIdentity(id) { AuthenticationType = DeviceAuthenticationType.SelfSigned, PrimaryThumbprint = good.Thumbprint, SecondaryThumbprint = good.GetCertHashString(HashAlgorithmName.SHA256) };
        await _hub.Service.CreateDeviceAsync(identity);

        await using var device = IoTHubDeviceClient.CreateWithCertificate("localhost", id, null, good, _hub.DeviceOptions());
        await device.OpenAsync();
        Assert.Equal("X509", device.AuthenticationType);
        Assert.True(await device.UpdateReportedAsync(new JsonObject { ["auth"] = "x509" }) > 1);

        await using var impostor = IoTHubDeviceClient.CreateWithCertificate("localhost", id, null, other, _hub.DeviceOptions());
        var ex = await Assert.ThrowsAsync<IoTHubServiceException>(() => impostor.OpenAsync());
        Assert.Equal(401, ex.Status);
    }

    public static readonly TheoryData<string> MalformedPatches = new()
    {
        "invalid UTF-8 in a value",
        "invalid UTF-8 in a name",
        "UTF-8-encoded surrogate",
        "lone high surrogate escape",
        "lone low surrogate escape in a name",
        "duplicate name",
        "duplicate name nested",
    };

    private static byte[] Malformed(string shape) => shape switch
    {
        "invalid UTF-8 in a value" => [.. "{\"a\":\""u8, 0xC3, 0x28, .. "\"}"u8],
        "invalid UTF-8 in a name" => [.. "{\""u8, 0xFF, .. "\":1}"u8],
        "UTF-8-encoded surrogate" => [.. "{\"a\":\""u8, 0xED, 0xA0, 0x80, .. "\"}"u8],
        "lone high surrogate escape" => Encoding.UTF8.GetBytes("{\"a\":\"\\ud800\"}"),
        "lone low surrogate escape in a name" => Encoding.UTF8.GetBytes("{\"\\udc00\":1}"),
        "duplicate name" => Encoding.UTF8.GetBytes("{\"a\":1,\"a\":2}"),
        _ => Encoding.UTF8.GetBytes("{\"o\":{\"x\":1,\"x\":{}}}"),
    };

    [Theory]
    [MemberData(nameof(MalformedPatches))]
    public async Task A_malformed_reported_patch_is_answered_400_IotHubFormatError_nothing_applied_and_the_connection_stays_up(string shape)
    {
        var cs = IoTHubConnectionString.Parse(await _hub.CreateDeviceAsync());
        using var raw = await RawDevice.ConnectAsync(_hub, cs);
        await raw.SubscribeAsync("$iothub/twin/res/#");
        var before = await _hub.Service.GetTwinAsync(cs.DeviceId!);

        await raw.PublishAsync("$iothub/twin/PATCH/properties/reported/?$rid=m1", Malformed(shape));
        Assert.True(raw.TryReceive(TimeBounds.Eventually, out var answer), "no answer");

        Assert.Equal("$iothub/twin/res/400/?$rid=m1", answer.Topic);
        Assert.Equal(400006, (int)JsonNode.Parse(answer.Body)!["errorCode"]!);
        Assert.True(raw.IsConnected);
        var (okTopic, _) = await raw.RequestAsync("$iothub/twin/PATCH/properties/reported/?$rid=m2", """{"after":1}""");
        Assert.Equal($"$iothub/twin/res/204/?$rid=m2&$version={before.ReportedVersion + 1}", okTopic);
        var after = await _hub.Service.GetTwinAsync(cs.DeviceId!);
        Assert.Equal(["after"], after.Reported.Select(p => p.Key).Where(k => !k.StartsWith('$')).ToArray());
        Assert.DoesNotContain("unexpected failure", _hub.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", _hub.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_will_is_accepted_only_on_the_telemetry_topic_and_never_acts_as_a_twin_request()
    {
        var cs = IoTHubConnectionString.Parse(await _hub.CreateDeviceAsync());
        foreach (var topic in new[] { "$iothub/twin/PATCH/properties/reported/?$rid=will", "$iothub/twin/GET/?$rid=will", "devices/other/messages/events/" })
        {
            var refused = await RawDevice.TryConnectWithAsync(_hub, cs, o => o.WithWillTopic(topic).WithWillPayload("""{"fromWill":1}"""u8.ToArray()));
            Assert.Null(refused);
        }

        var telemetryWill = await RawDevice.TryConnectWithAsync(_hub, cs, o => o.WithWillTopic($"devices/{cs.DeviceId}/messages/events/").WithWillPayload("""{"fromWill":1}"""u8.ToArray()));
        Assert.NotNull(telemetryWill);
        telemetryWill.Dispose(); // no DISCONNECT packet: the hub publishes the will (as telemetry)

        await using var device = IoTHubDeviceClient.Create(cs, _hub.DeviceOptions());
        await device.OpenAsync();
        var twin = await device.GetTwinAsync();
        Assert.Null(twin.Reported["fromWill"]);
        Assert.Equal(1, twin.ReportedVersion);
    }

    [Fact]
    public async Task A_device_key_token_must_name_the_device_and_a_port_in_sr_must_be_one_of_the_hubs()
    {
        var cs = IoTHubConnectionString.Parse(await _hub.CreateDeviceAsync());
        var user = $"localhost/{cs.DeviceId}/?api-version=2021-04-12";
        string KeyToken(string sr, string key, string? policy = null, DateTimeOffset? expires = null) =>
            SharedAccessSignature.Build(sr, key, policy, expires ?? DateTimeOffset.UtcNow.AddHours(1));

        foreach (var bareHub in new[] { "localhost", $"localhost:{_hub.MqttPort}", "twinps-emulator.azure-devices.net" })
        {
            Assert.Equal(MqttClientConnectResultCode.NotAuthorized, await RawDevice.TryConnectAsync(_hub, cs.DeviceId!, user, KeyToken(bareHub, cs.SharedAccessKey!)));
        }

        // A policy with DeviceConnect may sign for the bare hub (the C# SDK does so with a policy connection string).
        var devicePolicy = _hub.Policy("device");
        Assert.Equal(MqttClientConnectResultCode.Success, await RawDevice.TryConnectAsync(_hub, cs.DeviceId!, user, KeyToken("localhost", devicePolicy.SharedAccessKey!, "device")));

        Assert.Equal(MqttClientConnectResultCode.NotAuthorized, await RawDevice.TryConnectAsync(_hub, cs.DeviceId!, user, KeyToken($"localhost:1/devices/{cs.DeviceId}", cs.SharedAccessKey!)));
        foreach (var host in new[] { "localhost", $"localhost:{_hub.MqttPort}", $"localhost:{_hub.HttpsPort}" })
        {
            Assert.Equal(MqttClientConnectResultCode.Success, await RawDevice.TryConnectAsync(_hub, cs.DeviceId!, user, KeyToken($"{host}/devices/{cs.DeviceId}", cs.SharedAccessKey!)));
        }

        // The end of time is refused (longer than IoT Hub's 10-year maximum), never a crash.
        Assert.Equal(MqttClientConnectResultCode.NotAuthorized, await RawDevice.TryConnectAsync(_hub, cs.DeviceId!, user,
            KeyToken($"localhost/devices/{cs.DeviceId}", cs.SharedAccessKey!, null, DateTimeOffset.FromUnixTimeSeconds(253402300799))));
        Assert.Equal(MqttClientConnectResultCode.Success, await RawDevice.TryConnectAsync(_hub, cs.DeviceId!, user, Token(cs)));
    }

    private static string Token(IoTHubConnectionString cs) =>
        SharedAccessSignature.Build(SharedAccessSignature.DeviceResource("localhost", cs.DeviceId!), cs.SharedAccessKey!, null, DateTimeOffset.UtcNow.AddHours(1));

    private static X509Certificate2 SelfSigned(string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.2")], false));
        using var cert = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        #pragma warning disable SYSLIB0057 // net8.0 has no X509CertificateLoader
        return new X509Certificate2(cert.Export(X509ContentType.Pkcs12));
#pragma warning restore SYSLIB0057
    }

    /// <summary>A bare MQTT 3.1.1 client with the hub's CA trusted.</summary>
    private sealed class RawDevice : IDisposable
    {
        private readonly IMqttClient _client;
        private readonly BlockingCollection<(string Topic, string Body)> _received = [];
        private readonly TaskCompletionSource _disconnected = new(TaskCreationOptions.RunContinuationsAsynchronously);

        private RawDevice(IMqttClient client)
        {
            _client = client;
            _client.ApplicationMessageReceivedAsync += e =>
            {
                _received.Add((e.ApplicationMessage.Topic, Encoding.UTF8.GetString(e.ApplicationMessage.Payload.ToArray())));
                return Task.CompletedTask;
            };
            _client.DisconnectedAsync += _ =>
            {
                _disconnected.TrySetResult();
                return Task.CompletedTask;
            };
        }

        public static async Task<RawDevice> ConnectAsync(DeviceHub hub, IoTHubConnectionString cs)
        {
            var (client, result) = await ConnectCoreAsync(hub, cs.DeviceId!, $"localhost/{cs.DeviceId}/?api-version=2021-04-12", Token(cs), MqttProtocolVersion.V311);
            Assert.Equal(MqttClientConnectResultCode.Success, result);
            return new RawDevice(client);
        }

        public static async Task<MqttClientConnectResultCode> TryConnectAsync(DeviceHub hub, string clientId, string userName, string password, MqttProtocolVersion version = MqttProtocolVersion.V311, Action<MqttClientOptionsBuilder>? configure = null)
        {
            var (client, result) = await ConnectCoreAsync(hub, clientId, userName, password, version, configure);
            client.Dispose();
            return result;
        }

        /// <summary>Connects with extra options (e.g. a will); null when the CONNECT was refused.</summary>
        public static async Task<RawDevice?> TryConnectWithAsync(DeviceHub hub, IoTHubConnectionString cs, Action<MqttClientOptionsBuilder> configure)
        {
            var (client, result) = await ConnectCoreAsync(hub, cs.DeviceId!, $"localhost/{cs.DeviceId}/?api-version=2021-04-12", Token(cs), MqttProtocolVersion.V311, configure);
            if (result == MqttClientConnectResultCode.Success)
            {
                return new RawDevice(client);
            }

            client.Dispose();
            return null;
        }

        public Task<MqttClientPublishResult> PublishAsync(string topic, byte[] body) =>
            _client.PublishAsync(new MqttApplicationMessageBuilder().WithTopic(topic).WithPayload(body).Build());

        public bool IsConnected => _client.IsConnected;

        public Task<MqttClientSubscribeResult> SubscribeAsync(string filter) =>
            _client.SubscribeAsync(new MqttClientFactory().CreateSubscribeOptionsBuilder().WithTopicFilter(filter, MqttQualityOfServiceLevel.AtMostOnce).Build());

        public Task<MqttClientPublishResult> PublishAsync(string topic, string body, MqttQualityOfServiceLevel qos = MqttQualityOfServiceLevel.AtMostOnce) =>
            _client.PublishAsync(new MqttApplicationMessageBuilder().WithTopic(topic).WithPayload(body).WithQualityOfServiceLevel(qos).Build());

        public async Task<(string Topic, string Body)> RequestAsync(string topic, string body)
        {
            await PublishAsync(topic, body);
            Assert.True(TryReceive(TimeBounds.Eventually, out var message), $"no answer within {TimeBounds.Eventually.TotalSeconds} s");
            return message;
        }

        public bool TryReceive(TimeSpan timeout, out (string Topic, string Body) message) => _received.TryTake(out message, timeout);

        public async Task<bool> WaitDisconnectedAsync(TimeSpan timeout) =>
            await Task.WhenAny(_disconnected.Task, Task.Delay(timeout)) == _disconnected.Task;

        public void Dispose() => _client.Dispose();

        private static async Task<(IMqttClient Client, MqttClientConnectResultCode Result)> ConnectCoreAsync(DeviceHub hub, string clientId, string userName, string password, MqttProtocolVersion version, Action<MqttClientOptionsBuilder>? configure = null)
        {
            var client = new MqttClientFactory().CreateMqttClient();
            var builder = new MqttClientOptionsBuilder()
                .WithTcpServer("localhost", hub.MqttPort)
                .WithProtocolVersion(version)
                .WithClientId(clientId)
                .WithCredentials(userName, password)
                .WithTimeout(TimeBounds.Eventually)
                .WithTlsOptions(o => o.UseTls().WithTargetHost("localhost").WithTrustChain([hub.CaCertificate]));
            configure?.Invoke(builder);
            var options = builder.Build();
            try
            {
                var result = await client.ConnectAsync(options);
                return (client, result.ResultCode);
            }
            catch (MQTTnet.Adapter.MqttConnectingFailedException ex)
            {
                // MQTTnet names the CONNACK's result code in the message ("... failed (NotAuthorized)."). Any other
                // failure (TLS, timeout) is not a refusal: it propagates and fails the test.
                foreach (var code in Enum.GetValues<MqttClientConnectResultCode>())
                {
                    if (ex.Message.Contains($"({code})", StringComparison.Ordinal))
                    {
                        return (client, code);
                    }
                }

                throw;
            }
        }
    }
}
