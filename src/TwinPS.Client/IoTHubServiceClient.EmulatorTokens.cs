using System.Text.Json.Nodes;
using Azure.Core;

namespace TwinPS.Client;

public sealed partial class IoTHubServiceClient
{
    /// <summary>
    /// Asks the local emulator's TEST-SUPPORT token endpoint (<c>POST /$twinps/token</c>, served on loopback to the
    /// <c>iothubowner</c> policy only; no real hub has it) for a bearer token of its own token issuer, which stands in
    /// for Microsoft Entra ID. Throws <see cref="IoTHubServiceException"/> when the emulator refuses.
    /// </summary>
    /// <param name="request">Roles, lifetime, audience and principal of the token.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    public async Task<AccessToken> RequestEmulatorTokenAsync(EmulatorTokenRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var body = new JsonObject
        {
            ["roles"] = new JsonArray(request.Roles.Select(r => (JsonNode?)JsonValue.Create(r)).ToArray()),
            ["lifetimeSeconds"] = (long)Math.Round(request.Lifetime.TotalSeconds),
            ["audience"] = request.Audience,
            ["principalId"] = request.PrincipalId.ToString(),
        };
        using var message = await SendAsync(RequestMethod.Post, "/$twinps/token", body, null, null, cancellationToken).ConfigureAwait(false);
        var answer = JsonNode.Parse(message.Response.Content.ToMemory().Span) as JsonObject;
        var token = (string?)answer?["accessToken"];
        var expiresOn = answer?["expiresOn"] is JsonValue value && value.TryGetValue(out long seconds)
            ? DateTimeOffset.FromUnixTimeSeconds(seconds)
            : (DateTimeOffset?)null;
        if (string.IsNullOrEmpty(token) || expiresOn is null)
        {
            throw new InvalidOperationException($"The emulator at '{HostName}' answered its token endpoint without a token or expiry.");
        }

        return new AccessToken(token, expiresOn.Value);
    }
}

/// <summary>What to ask the emulator's test token endpoint for.</summary>
/// <param name="Roles">IoT Hub data-plane role names (e.g. <c>IoT Hub Data Reader</c>).</param>
/// <param name="Lifetime">How long the token is valid; zero or less gives an already expired token.</param>
/// <param name="Audience">The token's audience; <c>https://iothubs.azure.net</c> for IoT Hub.</param>
/// <param name="PrincipalId">The principal's object id; the same for every token of one credential.</param>
public sealed record EmulatorTokenRequest(IReadOnlyList<string> Roles, TimeSpan Lifetime, string Audience, Guid PrincipalId);
