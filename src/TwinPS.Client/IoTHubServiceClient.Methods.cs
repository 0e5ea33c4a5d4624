using System.Text.Json.Nodes;
using Azure.Core;
using TwinPS.Client.Http;
using TwinPS.Protocol;

namespace TwinPS.Client;

public sealed partial class IoTHubServiceClient
{
    /// <summary>What the client adds to a call's two timeouts for its own network timeout (as the C# SDK does).</summary>
    public static readonly TimeSpan MethodWireTimeAllowance = TimeSpan.FromSeconds(15);

    /// <summary>The client's network timeout for one invoke: response timeout + connect timeout + <see cref="MethodWireTimeAllowance"/>.</summary>
    public static TimeSpan MethodNetworkTimeout(DirectMethodRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return TimeSpan.FromSeconds(request.ResponseTimeoutInSeconds + request.ConnectTimeoutInSeconds) + MethodWireTimeAllowance;
    }

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
        var networkTimeout = MethodNetworkTimeout(request);
        try
        {
            using var message = await SendAsync(RequestMethod.Post, path, request.ToJson(), null, null, cancellationToken, m =>
            {
                ThrottlingOnlyResponseClassifier.Apply(m);
                m.NetworkTimeout = networkTimeout;
            }).ConfigureAwait(false);
            var response = message.Response;
            var json = ReadJsonObject(response, "direct-method result");
            DirectMethodResponse answer;
            try
            {
                answer = DirectMethodResponse.Parse(json);
            }
            catch (IoTHubProtocolException)
            {
                throw InvalidResponse(response, "a direct-method result without an integer 'status'");
            }

            return new DirectMethodResult(deviceId, moduleId, request.MethodName, answer.Status, answer.Payload);
        }
        catch (IoTHubServiceException ex)
        {
            throw WithTarget(ex, deviceId, moduleId);
        }
    }
}
