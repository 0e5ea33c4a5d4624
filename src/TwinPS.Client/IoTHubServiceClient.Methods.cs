using System.Text.Json.Nodes;
using Azure.Core;
using TwinPS.Client.Http;

namespace TwinPS.Client;

public sealed partial class IoTHubServiceClient
{
    /// <summary>
    /// Invokes a direct method on a device, or on a module when <paramref name="moduleId"/> is given, and returns the
    /// device's answer. Retried ONLY when the hub answers 429 (throttled before forwarding): never after a 5xx, a 504
    /// <c>GatewayTimeout</c> or a network failure, because the method may already have run on the device. The network
    /// timeout of the call is the response timeout plus the connect timeout plus 15 s.
    /// </summary>
    /// <exception cref="IoTHubServiceException">E.g. 404 <c>DeviceNotOnline</c> (404103), 504 <c>GatewayTimeout</c> (504101),
    /// 404 <c>DeviceNotFound</c>/<c>ModuleNotFound</c>, 400 <c>ArgumentInvalid</c>.</exception>
    public async Task<DirectMethodResult> InvokeMethodAsync(string deviceId, string? moduleId, DirectMethodRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var path = TwinPath(deviceId, moduleId) + "/methods";
        var networkTimeout = request.NetworkTimeout;
        try
        {
            using var message = await SendAsync(RequestMethod.Post, path, request.ToJson(), null, null, cancellationToken, m =>
            {
                ThrottlingOnlyResponseClassifier.Apply(m);
                m.NetworkTimeout = networkTimeout;
            }).ConfigureAwait(false);
            var response = message.Response;
            var json = ReadJsonObject(response, "direct-method result");
            var status = JsonFields.GetInt64(json, "status") is long s and >= int.MinValue and <= int.MaxValue
                ? (int)s
                : throw InvalidResponse(response, "a direct-method result without an integer 'status'");
            json.TryGetPropertyValue("payload", out var payload);
            json.Remove("payload");
            return new DirectMethodResult(deviceId, moduleId, request.MethodName, status, payload);
        }
        catch (IoTHubServiceException ex)
        {
            throw WithTarget(ex, deviceId, moduleId);
        }
    }
}
