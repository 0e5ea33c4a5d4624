using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using TwinPS.Protocol;

namespace TwinPS.Client.Device;

/// <summary>
/// The device's twin requests (GET and reported PATCH) and their correlation: each request is published with a fresh
/// <c>$rid</c> and waits for the hub's answer with that id (<see cref="TryComplete"/>); a 429 answer is retried with a
/// jittered, growing back-off. When the connection drops, every request in flight fails at once (<see cref="FailAll"/>).
/// </summary>
internal sealed class DeviceTwinRequests(DeviceEndpoint endpoint, IoTHubDeviceClientOptions options, DeviceConnection connection)
{
    private readonly Dictionary<string, TaskCompletionSource<TwinResponse>> _pending = new(StringComparer.Ordinal);
    private TaskCompletionSource? _idle;
    private long _throttledRequests;

    /// <summary>Twin requests the hub answered 429 that were retried so far.</summary>
    public long ThrottledRequests => Interlocked.Read(ref _throttledRequests);

    /// <summary>Reads the twin as the device sees it.</summary>
    public async Task<DeviceTwinProperties> GetTwinAsync(CancellationToken cancellationToken)
    {
        var response = await RequestAsync("twin read", DeviceTwinTopics.Get, [], cancellationToken).ConfigureAwait(false);
        if (response.Status != 200 || HasErrorCode(response.Payload))
        {
            throw DeviceErrors.FromResponse(endpoint.ClientId, "twin read", response.Status == 200 ? 400 : response.Status, response.Payload);
        }

        return ParseTwin(response.Payload);
    }

    /// <summary>Patches reported properties (validated by the caller) and returns the new reported <c>$version</c>.</summary>
    public async Task<long> UpdateReportedAsync(JsonObject patch, CancellationToken cancellationToken)
    {
        const string operation = "reported-properties patch";
        var payload = Encoding.UTF8.GetBytes(patch.ToJsonString());
        var response = await RequestAsync(operation, DeviceTwinTopics.PatchReported, payload, cancellationToken).ConfigureAwait(false);
        if (response.Status != 204 && response.Status != 200)
        {
            throw DeviceErrors.FromResponse(endpoint.ClientId, operation, response.Status, response.Payload);
        }

        if (HasErrorCode(response.Payload))
        {
            throw DeviceErrors.FromResponse(endpoint.ClientId, operation, 400, response.Payload);
        }

        return response.Version ?? throw new IoTHubServiceException($"IoT Hub acknowledged the reported-properties patch of '{endpoint.ClientId}' without a $version.");
    }

    /// <summary>Hands the hub's answer to the request with <paramref name="requestId"/>; false when nobody waits for it.</summary>
    public bool TryComplete(string requestId, int status, long? version, byte[] payload)
    {
        TaskCompletionSource<TwinResponse>? completion;
        lock (_pending)
        {
            if (!_pending.Remove(requestId, out completion))
            {
                return false;
            }

            SignalIfIdle();
        }

        completion.TrySetResult(new TwinResponse(status, version, payload));
        return true;
    }

    /// <summary>Fails every request in flight with <paramref name="error"/> (given the operation name).</summary>
    public void FailAll(Func<string, Exception> error)
    {
        List<TaskCompletionSource<TwinResponse>> failed;
        lock (_pending)
        {
            failed = [.. _pending.Values];
            _pending.Clear();
            SignalIfIdle();
        }

        foreach (var completion in failed)
        {
            completion.TrySetException(error("request"));
        }
    }

    /// <summary>Completes when no request is in flight, or after <paramref name="wait"/>, whichever comes first.</summary>
    public async Task WhenIdleAsync(TimeSpan wait, CancellationToken cancellationToken)
    {
        Task idle;
        lock (_pending)
        {
            if (_pending.Count == 0)
            {
                return;
            }

            _idle ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            idle = _idle.Task;
        }

        try
        {
            await idle.WaitAsync(wait, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // Requests still in flight fail with the connection they were sent on.
        }
    }

    /// <summary>
    /// One twin request; an answer of 429 (the hub's twin throttle) is retried after a jittered, growing back-off until
    /// <see cref="IoTHubDeviceClientOptions.ThrottleRetryTimeout"/> has passed (a throttled request was not applied, so
    /// retrying a reported patch is safe). The last 429 is returned when the budget is spent.
    /// </summary>
    private async Task<TwinResponse> RequestAsync(string operation, Func<string, string> topicFor, byte[] payload, CancellationToken cancellationToken)
    {
        var started = DateTime.UtcNow;
        var delay = options.ThrottleRetryDelay;
        while (true)
        {
            var response = await RequestOnceAsync(operation, topicFor, payload, cancellationToken).ConfigureAwait(false);
            if (response.Status != 429)
            {
                return response;
            }

            var wait = TimeSpan.FromMilliseconds(delay.TotalMilliseconds * (0.8 + (Random.Shared.NextDouble() * 0.4)));
            if (DateTime.UtcNow - started + wait > options.ThrottleRetryTimeout)
            {
                return response;
            }

            Interlocked.Increment(ref _throttledRequests);
            await Task.Delay(wait, cancellationToken).ConfigureAwait(false);
            delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, options.ThrottleMaxRetryDelay.TotalMilliseconds));
        }
    }

    private async Task<TwinResponse> RequestOnceAsync(string operation, Func<string, string> topicFor, byte[] payload, CancellationToken cancellationToken)
    {
        var client = await connection.CurrentClientAsync(operation, cancellationToken).ConfigureAwait(false);
        var rid = Guid.NewGuid().ToString("D");
        var completion = new TaskCompletionSource<TwinResponse>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_pending)
        {
            _pending[rid] = completion;
        }

        try
        {
            // The response may arrive before PublishAsync returns: the request is registered first, then the connection re-checked
            // so a drop between the two cannot leave it waiting for an answer that will never come.
            if (!connection.IsCurrent(client))
            {
                throw DeviceErrors.ConnectionLost(endpoint.ClientId, operation);
            }

            await connection.PublishAsync(client, operation, topicFor(rid), payload, cancellationToken).ConfigureAwait(false);

            try
            {
                return await completion.Task.WaitAsync(options.OperationTimeout, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                throw DeviceErrors.Timeout(endpoint.ClientId, operation, options.OperationTimeout);
            }
        }
        finally
        {
            lock (_pending)
            {
                if (_pending.Remove(rid))
                {
                    SignalIfIdle();
                }
            }
        }
    }

    // Under the lock.
    private void SignalIfIdle()
    {
        if (_pending.Count == 0 && _idle is not null)
        {
            _idle.TrySetResult();
            _idle = null;
        }
    }

    private DeviceTwinProperties ParseTwin(byte[] payload)
    {
        try
        {
            if (JsonNode.Parse(payload) is JsonObject root && root["desired"] is JsonObject desired && root["reported"] is JsonObject reported)
            {
                return new DeviceTwinProperties(
                    DesiredPropertiesDiff.WithoutMetadata(desired),
                    VersionOf(desired),
                    DesiredPropertiesDiff.WithoutMetadata(reported),
                    VersionOf(reported));
            }
        }
        catch (JsonException)
        {
            // Reported below.
        }

        throw new IoTHubServiceException($"IoT Hub answered the twin read of '{endpoint.ClientId}' with a body that is not {{\"desired\":{{…}},\"reported\":{{…}}}}.");
    }

    private static long VersionOf(JsonObject section) =>
        section["$version"] is JsonValue v && v.TryGetValue<long>(out var version) ? version : 0;

    private static bool HasErrorCode(byte[] payload)
    {
        if (payload.Length == 0 || payload[0] != (byte)'{')
        {
            return false;
        }

        try
        {
            using var doc = JsonDocument.Parse(payload);
            return doc.RootElement.ValueKind == JsonValueKind.Object
                && (doc.RootElement.TryGetProperty("errorCode", out _) || doc.RootElement.TryGetProperty("ErrorCode", out _));
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private sealed record TwinResponse(int Status, long? Version, byte[] Payload);
}
