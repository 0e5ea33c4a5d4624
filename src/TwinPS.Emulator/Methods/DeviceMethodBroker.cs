using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json.Nodes;
using TwinPS.Protocol;

namespace TwinPS.Emulator.Methods;

/// <summary>How the broker reaches one device connection (implemented by the MQTT endpoint).</summary>
internal interface IMethodChannel
{
    /// <summary>Delivers a QoS 0 message to exactly this connection.</summary>
    Task SendAsync(string topic, byte[] payload);
}

/// <summary>
/// Routes direct methods between the service side (REST, job runner) and devices (MQTT). A device or module is
/// reachable only while a connection of it is subscribed to <c>$iothub/methods/POST/#</c>. An invocation waits up to
/// connectTimeoutInSeconds for that (else 404103 <c>DeviceNotOnline</c>), delivers the request with a fresh
/// <c>$rid</c> and waits up to responseTimeoutInSeconds for the answer on that connection (else 504101
/// <c>GatewayTimeout</c>). Answers from another connection, to an unknown or expired <c>$rid</c>, are dropped.
/// </summary>
internal sealed class DeviceMethodBroker
{
    private readonly ConcurrentDictionary<string, IMethodChannel> _listeners = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, TaskCompletionSource<IMethodChannel>> _arrivals = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, PendingCall> _pending = new(StringComparer.Ordinal);
    private long _nextRequestId;

    /// <summary>Number of calls waiting for a device answer (diagnostics).</summary>
    public int PendingCount => _pending.Count;

    /// <summary>The connection of <paramref name="clientId"/> subscribed to method requests.</summary>
    public void Subscribed(string clientId, IMethodChannel channel)
    {
        _listeners[clientId] = channel;
        if (_arrivals.TryRemove(clientId, out TaskCompletionSource<IMethodChannel>? arrival)) arrival.TrySetResult(channel);
    }

    /// <summary>The connection unsubscribed or went away (ignored when a newer connection of the same client took over).</summary>
    public void Unsubscribed(string clientId, IMethodChannel channel) =>
        _listeners.TryRemove(new KeyValuePair<string, IMethodChannel>(clientId, channel));

    /// <summary>Whether the device (or module) can receive a method right now.</summary>
    public bool IsListening(string deviceId, string? moduleId) => _listeners.ContainsKey(ClientId(deviceId, moduleId));

    /// <summary>
    /// A device answered on <c>$iothub/methods/res/{status}/?$rid={rid}</c>. False when nothing waits for that
    /// request id from that connection (late or forged answers).
    /// </summary>
    public bool TryComplete(IMethodChannel channel, string requestId, int status, ReadOnlySpan<byte> body)
    {
        if (!_pending.TryGetValue(requestId, out PendingCall? call) || !ReferenceEquals(call.Channel, channel)) return false;
        if (!_pending.TryRemove(new KeyValuePair<string, PendingCall>(requestId, call))) return false;
        try
        {
            call.Completion.TrySetResult(DirectMethodResponse.FromDeviceBody(status, body));
        }
        catch (IoTHubProtocolException ex)
        {
            call.Completion.TrySetException(ex);
        }

        return true;
    }

    /// <summary>
    /// Invokes a method on a registered device or module (the caller checks that it exists). Throws
    /// <see cref="MethodCallException"/> for 404103 and 504101.
    /// </summary>
    public async Task<DirectMethodResponse> InvokeAsync(string deviceId, string? moduleId, DirectMethodRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        string clientId = ClientId(deviceId, moduleId);
        IMethodChannel channel = await WaitForListenerAsync(clientId, request.ConnectTimeoutInSeconds, cancellationToken).ConfigureAwait(false)
            ?? throw MethodCallException.DeviceNotOnline(request.ConnectTimeoutInSeconds);

        string requestId = Interlocked.Increment(ref _nextRequestId).ToString("x", CultureInfo.InvariantCulture);
        var call = new PendingCall(channel);
        _pending[requestId] = call;
        try
        {
            byte[] body = request.Payload is null ? "null"u8.ToArray() : System.Text.Encoding.UTF8.GetBytes(request.Payload.ToJsonString());
            await channel.SendAsync(DirectMethodTopics.Request(request.MethodName, requestId), body).ConfigureAwait(false);
            return await call.Completion.Task.WaitAsync(TimeSpan.FromSeconds(request.ResponseTimeoutInSeconds), cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            throw MethodCallException.GatewayTimeout();
        }
        finally
        {
            _pending.TryRemove(new KeyValuePair<string, PendingCall>(requestId, call));
        }
    }

    private async Task<IMethodChannel?> WaitForListenerAsync(string clientId, int connectTimeoutSeconds, CancellationToken cancellationToken)
    {
        if (_listeners.TryGetValue(clientId, out IMethodChannel? channel)) return channel;
        if (connectTimeoutSeconds <= 0) return null;
        TaskCompletionSource<IMethodChannel> arrival = _arrivals.GetOrAdd(clientId, _ => new TaskCompletionSource<IMethodChannel>(TaskCreationOptions.RunContinuationsAsynchronously));
        if (_listeners.TryGetValue(clientId, out channel)) return channel; // subscribed between the two looks
        try
        {
            return await arrival.Task.WaitAsync(TimeSpan.FromSeconds(connectTimeoutSeconds), cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            return _listeners.TryGetValue(clientId, out channel) ? channel : null;
        }
    }

    private static string ClientId(string deviceId, string? moduleId) => moduleId is null ? deviceId : deviceId + "/" + moduleId;

    private sealed class PendingCall(IMethodChannel channel)
    {
        public IMethodChannel Channel { get; } = channel;

        public TaskCompletionSource<DirectMethodResponse> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}

/// <summary>
/// A method call the hub gave up on (404103, 504101). Written in the nested error form the hub uses for methods:
/// <c>{"Message":"{\"errorCode\":404103,…,\"info\":{…}}","ExceptionMessage":""}</c>.
/// </summary>
internal sealed class MethodCallException : IoTHubProtocolException
{
    private MethodCallException(IoTHubErrorCode code, string message, JsonObject info)
        : base(code, message)
    {
        Info = info;
    }

    /// <summary>The <c>info</c> object of the nested envelope.</summary>
    public JsonObject Info { get; }

    public static MethodCallException DeviceNotOnline(int connectTimeoutSeconds) =>
        new(IoTHubErrorCode.DeviceNotOnline, "Timed out waiting for device to connect.",
            new JsonObject { ["timeout"] = TimeSpan.FromSeconds(connectTimeoutSeconds).ToString("c", CultureInfo.InvariantCulture) });

    /// <summary>Any other failure of a method route, written in the same nested form.</summary>
    public static MethodCallException From(IoTHubProtocolException error) =>
        error as MethodCallException ?? new MethodCallException(error.Code, error.Message, []);

    public static MethodCallException GatewayTimeout() =>
        new(IoTHubErrorCode.GatewayTimeout, "Timed out waiting for the response from device.", []);
}
