using System.Collections.Concurrent;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using MQTTnet;
using MQTTnet.Protocol;
using TwinPS.Protocol;
using TwinPS.Testing;

namespace TwinPS.Emulator.Tests.Infrastructure;

/// <summary>
/// A device spoken for with a plain MQTT client (MQTTnet, no TwinPS device code): connects with a SAS token over TLS
/// trusting only the emulator's CA, subscribes, publishes, and collects what the hub sends.
/// </summary>
public sealed class RawMqttDevice : IDisposable
{
    private readonly IMqttClient _client;
    private readonly BlockingCollection<(string Topic, string Body)> _received = [];
    private readonly TaskCompletionSource _disconnected = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private RawMqttDevice(IMqttClient client, string deviceId, string? moduleId)
    {
        _client = client;
        DeviceId = deviceId;
        ModuleId = moduleId;
        _client.ApplicationMessageReceivedAsync += e =>
        {
            _received.Add((e.ApplicationMessage.Topic, Encoding.UTF8.GetString(System.Buffers.BuffersExtensions.ToArray(e.ApplicationMessage.Payload))));
            return Task.CompletedTask;
        };
        _client.DisconnectedAsync += _ =>
        {
            _disconnected.TrySetResult();
            return Task.CompletedTask;
        };
    }

    public bool IsConnected => _client.IsConnected;

    public string DeviceId { get; }

    public string? ModuleId { get; }

    /// <summary>Connects as the device (or module) whose identity JSON (from PUT /devices…) is given.</summary>
    public static async Task<RawMqttDevice> ConnectAsync(EmulatorProcess emulator, JsonObject identity)
    {
        ArgumentNullException.ThrowIfNull(emulator);
        ArgumentNullException.ThrowIfNull(identity);
        string deviceId = (string)identity["deviceId"]!;
        string? moduleId = (string?)identity["moduleId"];
        string key = (string)identity["authentication"]!["symmetricKey"]!["primaryKey"]!;
        string host = (string)emulator.Ready["hostName"]!;
        int port = (int)emulator.Ready["mqttPort"]!;
        string clientId = moduleId is null ? deviceId : deviceId + "/" + moduleId;
        string token = SharedAccessSignature.Build(SharedAccessSignature.DeviceResource(host, deviceId, moduleId), key, null, DateTimeOffset.UtcNow.AddHours(1));
        var client = new MqttClientFactory().CreateMqttClient();
        var options = new MqttClientOptionsBuilder()
            .WithTcpServer("localhost", port)
            .WithProtocolVersion(MQTTnet.Formatter.MqttProtocolVersion.V311)
            .WithClientId(clientId)
            .WithCredentials($"{host}/{clientId}/?api-version=2021-04-12", token)
            .WithTimeout(TwinPS.Testing.TimeBounds.Eventually)
            .WithTlsOptions(o => o.UseTls().WithTargetHost("localhost").WithTrustChain([X509Certificate2.CreateFromPem(File.ReadAllText(emulator.CaCertificatePath))]))
            .Build();
        var result = await client.ConnectAsync(options).ConfigureAwait(false);
        if (result.ResultCode != MqttClientConnectResultCode.Success)
        {
            client.Dispose();
            throw new InvalidOperationException("CONNECT refused: " + result.ResultCode);
        }

        return new RawMqttDevice(client, deviceId, moduleId);
    }

    public Task SubscribeAsync(string filter) =>
        _client.SubscribeAsync(new MqttClientFactory().CreateSubscribeOptionsBuilder().WithTopicFilter(filter, MqttQualityOfServiceLevel.AtMostOnce).Build());

    public Task UnsubscribeAsync(string filter) =>
        _client.UnsubscribeAsync(new MqttClientFactory().CreateUnsubscribeOptionsBuilder().WithTopicFilter(filter).Build());

    public Task PublishAsync(string topic, string body) =>
        _client.PublishAsync(new MqttApplicationMessageBuilder().WithTopic(topic).WithPayload(body).WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtMostOnce).Build());

    /// <summary>Waits for the next message whose topic starts with <paramref name="prefix"/> (others are skipped).</summary>
    public (string Topic, string Body) Receive(string prefix, TimeSpan timeout)
    {
        DateTime end = DateTime.UtcNow + timeout;
        while (true)
        {
            TimeSpan left = end - DateTime.UtcNow;
            if (left <= TimeSpan.Zero || !_received.TryTake(out var message, left))
                throw new TimeoutException($"no message on {prefix} within {timeout}");
            if (message.Topic.StartsWith(prefix, StringComparison.Ordinal)) return message;
        }
    }

    /// <summary>Answers every method request with <paramref name="answer"/>(name, payload) → (status, body) until disposed.</summary>
    public void AnswerMethods(Func<string, string, (int Status, string Body)> answer)
    {
        ArgumentNullException.ThrowIfNull(answer);
        _client.ApplicationMessageReceivedAsync += async e =>
        {
            if (!DirectMethodTopics.TryParseRequest(e.ApplicationMessage.Topic, out string name, out string rid)) return;
            var (status, body) = answer(name, Encoding.UTF8.GetString(System.Buffers.BuffersExtensions.ToArray(e.ApplicationMessage.Payload)));
            await PublishAsync(DirectMethodTopics.Response(status, rid), body).ConfigureAwait(false);
        };
    }

    /// <summary>Publishes and waits for the next message of any topic (generous timeout).</summary>
    public async Task<(string Topic, string Body)> RequestAsync(string topic, string body)
    {
        await PublishAsync(topic, body).ConfigureAwait(false);
        Assert.True(TryReceive(TimeBounds.Eventually, out var message), "no answer on " + topic);
        return message;
    }

    public bool TryReceive(TimeSpan timeout, out (string Topic, string Body) message) => _received.TryTake(out message, timeout);

    /// <summary>True once the hub has closed the connection (within <paramref name="timeout"/>).</summary>
    public async Task<bool> WaitDisconnectedAsync(TimeSpan timeout) =>
        await Task.WhenAny(_disconnected.Task, Task.Delay(timeout)).ConfigureAwait(false) == _disconnected.Task;

    public async Task DisconnectAsync() => await _client.DisconnectAsync().ConfigureAwait(false);

    public void Dispose() => _client.Dispose();
}
