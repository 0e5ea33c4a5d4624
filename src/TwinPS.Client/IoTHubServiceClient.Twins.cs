using System.Text.Json.Nodes;
using Azure.Core;
using TwinPS.Client.Resilience;

namespace TwinPS.Client;

public sealed partial class IoTHubServiceClient
{
    /// <summary>Gets a device twin, or a module twin when <paramref name="moduleId"/> is given.</summary>
    /// <exception cref="IoTHubServiceException">E.g. 404 <c>DeviceNotFound</c> (also for a missing module twin).</exception>
    public async Task<IoTHubTwin> GetTwinAsync(string deviceId, string? moduleId = null, CancellationToken cancellationToken = default)
    {
        var path = TwinPath(deviceId, moduleId);
        try
        {
            using var message = await SendAsync(RequestMethod.Get, path, null, null, null, cancellationToken).ConfigureAwait(false);
            return ReadTwin(message.Response);
        }
        catch (IoTHubServiceException ex)
        {
            throw WithTarget(ex, deviceId, moduleId);
        }
    }

    /// <summary>
    /// Patches (merges) tags and/or desired properties of a device or module twin. The patch is validated before any
    /// request. <paramref name="ifMatch"/>: the twin's etag for a conditional write (412 <c>PreconditionFailed</c> when stale),
    /// <c>*</c> to force, null for an unconditional write without If-Match.
    /// </summary>
    /// <exception cref="TwinPS.Protocol.TwinValidationException">The patch breaks a twin rule (names the key/path).</exception>
    public async Task<IoTHubTwin> UpdateTwinAsync(string deviceId, string? moduleId, TwinPatch patch, string? ifMatch = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(patch);
        var path = TwinPath(deviceId, moduleId);
        if (patch.IsEmpty)
        {
            throw new ArgumentException("The twin patch is empty: give tags and/or desired properties.", nameof(patch));
        }

        var body = patch.ToRequestBody();
        TwinInputValidation.ValidatePatch(body);
        try
        {
            using var message = await SendAsync(new RequestMethod("PATCH"), path, body, IfMatchHeader(ifMatch), null, cancellationToken).ConfigureAwait(false);
            return ReadTwin(message.Response);
        }
        catch (IoTHubServiceException ex) when (ex.Status == 412 && ex.FollowsLostAttempt)
        {
            // The first attempt's answer was lost and the retry's If-Match no longer matched: did our own first attempt
            // change the twin? Only if the twin holds exactly what was sent is it a success.
            var twin = await GetTwinAsync(deviceId, moduleId, cancellationToken).ConfigureAwait(false);
            if (HoldsPatch(twin, body))
            {
                return twin;
            }

            throw WithTarget(ex, deviceId, moduleId);
        }
        catch (IoTHubServiceException ex)
        {
            throw WithTarget(ex, deviceId, moduleId);
        }
    }

    /// <summary>
    /// Replaces tags and desired properties of a device or module twin (PUT): a null section is sent empty, which wipes it.
    /// Validated before any request (nulls are not allowed in a replace). <paramref name="ifMatch"/> as for <see cref="UpdateTwinAsync"/>.
    /// </summary>
    /// <exception cref="TwinPS.Protocol.TwinValidationException">The document breaks a twin rule (names the key/path).</exception>
    public async Task<IoTHubTwin> ReplaceTwinAsync(string deviceId, string? moduleId, JsonObject? tags, JsonObject? desired, string? ifMatch = null, CancellationToken cancellationToken = default)
    {
        var path = TwinPath(deviceId, moduleId);
        var body = TwinPatch.ToReplaceRequestBody(tags, desired);
        TwinInputValidation.ValidateReplace(body);
        try
        {
            using var message = await SendAsync(RequestMethod.Put, path, body, IfMatchHeader(ifMatch), null, cancellationToken).ConfigureAwait(false);
            return ReadTwin(message.Response);
        }
        catch (IoTHubServiceException ex) when (ex.Status == 412 && ex.FollowsLostAttempt)
        {
            // As for UpdateTwinAsync: a success only if the twin holds exactly the sections sent.
            var twin = await GetTwinAsync(deviceId, moduleId, cancellationToken).ConfigureAwait(false);
            if (LostAnswerJudge.HoldsExactly(twin.Tags, body["tags"] as JsonObject ?? [])
                && LostAnswerJudge.HoldsExactly(twin.Desired, body["properties"]?["desired"] as JsonObject ?? []))
            {
                return twin;
            }

            throw WithTarget(ex, deviceId, moduleId);
        }
        catch (IoTHubServiceException ex)
        {
            throw WithTarget(ex, deviceId, moduleId);
        }
    }

    /// <summary>Whether a twin holds every change of a PATCH body (tags and/or desired; a cleared desired section is empty).</summary>
    private static bool HoldsPatch(IoTHubTwin twin, JsonObject body)
    {
        if (body["tags"] is JsonObject tags && !LostAnswerJudge.HoldsMergePatch(twin.Tags, tags))
        {
            return false;
        }

        if (body["properties"] is JsonObject properties && properties.TryGetPropertyValue("desired", out var desired))
        {
            return desired is JsonObject patch
                ? LostAnswerJudge.HoldsMergePatch(twin.Desired, patch)
                : twin.Desired.All(p => p.Key.StartsWith('$'));
        }

        return true;
    }

    private static string TwinPath(string deviceId, string? moduleId)
    {
        ValidateIds(deviceId, moduleId);
        return moduleId is null
            ? "/twins/" + Escape(deviceId)
            : "/twins/" + Escape(deviceId) + "/modules/" + Escape(moduleId);
    }

    private static void ValidateIds(string deviceId, string? moduleId)
    {
        ArgumentNullException.ThrowIfNull(deviceId);
        TwinPS.Protocol.IdentityRules.ValidateDeviceId(deviceId);
        if (moduleId is not null)
        {
            // $edgeAgent/$edgeHub twins may be read and patched.
            TwinPS.Protocol.IdentityRules.ValidateModuleId(moduleId, allowSystemModules: true);
        }
    }
}
