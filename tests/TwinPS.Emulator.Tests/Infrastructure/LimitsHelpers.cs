using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;
using TwinPS.Protocol;

namespace TwinPS.Emulator.Tests.Infrastructure;

/// <summary>Helpers for the throttling and fault-injection tests: emulators with extra options, stats, exact 429 checks.</summary>
public static partial class Limits
{
    /// <summary>An in-memory emulator on free ports with extra options.</summary>
    public static EmulatorProcess Start(params string[] extra) =>
        EmulatorProcess.Start(["--https-port", "0", "--mqtt-port", "0", "--in-memory", .. extra]);

    /// <summary>The <c>/$twinps/stats</c> document.</summary>
    public static async Task<JsonObject> StatsAsync(HubClient client)
    {
        HubResponse r = await client.GetAsync("$twinps/stats");
        Assert.Equal(HttpStatusCode.OK, r.Status);
        return r.Obj;
    }

    public static long Throttled(JsonObject stats, string throttleClass, string code) => (long)stats["throttled"]!["byClass"]![throttleClass]![code]!;

    public static long Admitted(JsonObject stats, string throttleClass) => (long)stats["throttled"]!["byClass"]![throttleClass]!["admitted"]!;

    public static long Queued(JsonObject stats, string throttleClass) => (long)stats["throttled"]!["byClass"]![throttleClass]!["queued"]!;

    public static long Faults(JsonObject stats, string kind) => (long)stats["faults"]!["byKind"]![kind]!;

    public static long Writes(JsonObject stats, string kind) => (long)stats["writesApplied"]![kind]!;

    /// <summary>
    /// Asserts the hub's exact 429: status, classic envelope with the throttling text and operation type, tracking id
    /// and timestamp, <c>iothub-errorcode</c>, and no <c>Retry-After</c>.
    /// </summary>
    public static void AssertThrottled(HubResponse r, string code, string operationType)
    {
        Assert.Equal((HttpStatusCode)429, r.Status);
        JsonObject body = r.Obj;
        Assert.Equal(["ExceptionMessage", "Message"], body.Select(p => p.Key).Order(StringComparer.Ordinal).ToArray());
        Assert.Equal($"ErrorCode:{code};The request has been throttled. Wait 10 seconds and try again. Operation type: {operationType}", (string)body["Message"]!);
        Assert.Matches(TrackingLine(), (string)body["ExceptionMessage"]!);
        Assert.Equal(code, r.Header("iothub-errorcode"));
        Assert.Null(r.Headers.RetryAfter);
        Assert.Null(r.Header("Retry-After"));
    }

    /// <summary>Polls until <paramref name="condition"/> holds (generous overall timeout).</summary>
    public static async Task WaitUntilAsync(Func<Task<bool>> condition, string what, int timeoutSeconds = 30)
    {
        DateTime deadline = DateTime.UtcNow.AddSeconds(timeoutSeconds);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) Assert.Fail("Timed out waiting for " + what);
            await Task.Delay(50);
        }
    }

    [GeneratedRegex(@"^Tracking ID:[0-9a-f]{32}-G:0-TimeStamp:\d\d/\d\d/\d{4} \d\d:\d\d:\d\d$")]
    private static partial Regex TrackingLine();
}

/// <summary>A device over MQTT with a plain MQTTnet client (no TwinPS client code), for the hub's MQTT answers.</summary>
public sealed class RawMqttDevice : IDisposable
{
    private readonly IMqttClient _client;
    private readonly BlockingCollection<(string Topic, string Body)> _received = [];
    private readonly TaskCompletionSource _disconnected = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private RawMqttDevice(IMqttClient client)
    {
        _client = client;
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

    /// <summary>Connects as <paramref name="deviceId"/> with its primary key (from the created device's JSON) and subscribes to twin answers and desired patches.</summary>
    public static async Task<RawMqttDevice> ConnectAsync(EmulatorProcess emulator, string deviceId, string primaryKey)
    {
        ArgumentNullException.ThrowIfNull(emulator);
        int port = (int)emulator.Ready["mqttPort"]!;
        using var ca = X509Certificate2.CreateFromPem(File.ReadAllText(emulator.CaCertificatePath));
        var client = new MqttClientFactory().CreateMqttClient();
        string token = SharedAccessSignature.Build(SharedAccessSignature.DeviceResource("localhost", deviceId), primaryKey, null, DateTimeOffset.UtcNow.AddHours(1));
        var options = new MqttClientOptionsBuilder()
            .WithTcpServer("localhost", port)
            .WithProtocolVersion(MqttProtocolVersion.V311)
            .WithClientId(deviceId)
            .WithCredentials($"localhost/{deviceId}/?api-version=2021-04-12", token)
            .WithTimeout(TimeSpan.FromSeconds(20))
            .WithTlsOptions(o => o.UseTls().WithTargetHost("localhost").WithTrustChain([new X509Certificate2(ca)]))
            .Build();
        MqttClientConnectResult result = await client.ConnectAsync(options);
        Assert.Equal(MqttClientConnectResultCode.Success, result.ResultCode);
        var device = new RawMqttDevice(client);
        await client.SubscribeAsync(new MqttClientFactory().CreateSubscribeOptionsBuilder()
            .WithTopicFilter("$iothub/twin/res/#", MqttQualityOfServiceLevel.AtMostOnce)
            .WithTopicFilter("$iothub/twin/PATCH/properties/desired/#", MqttQualityOfServiceLevel.AtMostOnce)
            .Build());
        return device;
    }

    public Task PublishAsync(string topic, string body) =>
        _client.PublishAsync(new MqttApplicationMessageBuilder().WithTopic(topic).WithPayload(body).WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtMostOnce).Build());

    /// <summary>Publishes and waits for the next message (generous timeout).</summary>
    public async Task<(string Topic, string Body)> RequestAsync(string topic, string body)
    {
        await PublishAsync(topic, body);
        Assert.True(TryReceive(TimeSpan.FromSeconds(20), out var message), "no answer within 20 s on " + topic);
        return message;
    }

    public bool TryReceive(TimeSpan timeout, out (string Topic, string Body) message) => _received.TryTake(out message, timeout);

    public async Task<bool> WaitDisconnectedAsync(TimeSpan timeout) =>
        await Task.WhenAny(_disconnected.Task, Task.Delay(timeout)) == _disconnected.Task;

    public bool IsConnected => _client.IsConnected;

    public void Dispose() => _client.Dispose();
}
