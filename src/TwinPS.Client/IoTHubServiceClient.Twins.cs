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
    /// request (top-level read-only <c>$metadata</c>/<c>$version</c>, as in a twin read back, are left out).
    /// <paramref name="ifMatch"/>: the twin's etag for a conditional write (412 <c>PreconditionFailed</c> when stale),
    /// <c>*</c> to force, null for an unconditional write without If-Match.
    /// </summary>
    /// <exception cref="TwinPS.Protocol.TwinValidationException">The patch breaks a twin rule (names the key/path).</exception>
    public async Task<IoTHubTwin> UpdateTwinAsync(string deviceId, string? moduleId, TwinPatch patch, string? ifMatch = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(patch);
        var path = TwinPath(deviceId, moduleId);
        var write = TwinWrite.MergeBody(patch);
        return await SendTwinWriteAsync(deviceId, moduleId, path, write.Body!, write.Method, ifMatch, cancellationToken, write.SerializedBody).ConfigureAwait(false);
    }

    /// <summary>
    /// Replaces tags and desired properties of a device or module twin (PUT): a null section is sent empty, which wipes it.
    /// Validated before any request (nulls are not allowed in a replace). <paramref name="ifMatch"/> as for <see cref="UpdateTwinAsync"/>.
    /// </summary>
    /// <exception cref="TwinPS.Protocol.TwinValidationException">The document breaks a twin rule (names the key/path).</exception>
    public async Task<IoTHubTwin> ReplaceTwinAsync(string deviceId, string? moduleId, JsonObject? tags, JsonObject? desired, string? ifMatch = null, CancellationToken cancellationToken = default)
    {
        var path = TwinPath(deviceId, moduleId);
        var write = TwinWrite.ReplaceBody(tags, desired);
        return await SendTwinWriteAsync(deviceId, moduleId, path, write.Body!, write.Method, ifMatch, cancellationToken, write.SerializedBody).ConfigureAwait(false);
    }

    /// <summary>
    /// Sends a <see cref="TwinWrite"/> (checked when it was made) to one device or module twin. A merge or a replacement
    /// is sent as it is, with If-Match = <see cref="TwinWriteOptions.IfMatch"/> (<c>*</c> with <see cref="TwinWriteOptions.Force"/>).
    /// A section replacement reads the section (or takes it from <see cref="TwinWriteOptions.Current"/>), PATCHes the
    /// difference (new values, removed keys as null) with If-Match = the given etag or the etag read, and with
    /// <see cref="TwinWriteOptions.Force"/> reads afresh every time and tries three times when the twin changes in between.
    /// <see cref="TwinWriteOptions.ConfirmAsync"/> is asked once, with the first request; returns null when it says no.
    /// </summary>
    /// <exception cref="IoTHubServiceException">The hub refused the write (e.g. 412 <c>PreconditionFailed</c>, 404 <c>DeviceNotFound</c>).</exception>
    public async Task<IoTHubTwin?> WriteTwinAsync(string deviceId, string? moduleId, TwinWrite write, TwinWriteOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(write);
        options ??= new TwinWriteOptions();
        var path = TwinPath(deviceId, moduleId);
        if (write.Section is not TwinPS.Protocol.TwinSectionKind section)
        {
            var request = new TwinWriteRequest(write.Method, write.Body!, options.Force ? TwinPS.Protocol.ETags.Wildcard : options.IfMatch);
            if (options.ConfirmAsync is not null && !await options.ConfirmAsync(request).ConfigureAwait(false))
            {
                return null;
            }

            return await SendTwinWriteAsync(deviceId, moduleId, path, request.Body, request.Method, request.IfMatch, cancellationToken, write.SerializedBody).ConfigureAwait(false);
        }

        const int ForcedAttempts = 3;
        for (int attempt = 1; ; attempt++)
        {
            (JsonObject current, string? readETag) = options.Current is { } held && !options.Force
                ? (SectionOf(held, section), held.ETag)
                : await ReadSectionAsync(deviceId, moduleId, section, cancellationToken).ConfigureAwait(false);
            JsonObject difference = TwinPS.Protocol.TwinMergePatch.ReplacementPatch(current, write.Replacement!);
            JsonObject body = (section == TwinPS.Protocol.TwinSectionKind.Tags ? new TwinPatch { Tags = difference } : new TwinPatch { Desired = difference }).ToRequestBody();
            TwinInputValidation.ValidatePatch(body);
            var request = new TwinWriteRequest("PATCH", body, options.Force ? readETag : options.IfMatch ?? readETag);
            if (attempt == 1 && options.ConfirmAsync is not null && !await options.ConfirmAsync(request).ConfigureAwait(false))
            {
                return null;
            }

            try
            {
                return await SendTwinWriteAsync(deviceId, moduleId, path, body, "PATCH", request.IfMatch, cancellationToken).ConfigureAwait(false);
            }
            catch (IoTHubServiceException ex) when (options.Force && ex.Status == 412 && attempt < ForcedAttempts)
            {
                options.Retrying?.Invoke($"The twin {(moduleId is null ? deviceId : deviceId + "/" + moduleId)} changed while it was being replaced; reading it again.");
            }
        }
    }

    private async Task<(JsonObject Section, string? ETag)> ReadSectionAsync(string deviceId, string? moduleId, TwinPS.Protocol.TwinSectionKind section, CancellationToken cancellationToken)
    {
        var twin = await GetTwinAsync(deviceId, moduleId, cancellationToken).ConfigureAwait(false);
        return (SectionOf(twin, section), twin.ETag);
    }

    // A copy of the section without the read-only $metadata/$version.
    private static JsonObject SectionOf(IoTHubTwin twin, TwinPS.Protocol.TwinSectionKind section) =>
        TwinPatch.WithoutReadOnly(section == TwinPS.Protocol.TwinSectionKind.Tags ? twin.Tags : twin.Desired);

    // One PATCH or PUT of a checked body, with the read-back of a lost answer: after a lost first answer a 412 may be our
    // own first attempt's success; only if the twin holds exactly what was sent is it one.
    // path: TwinPath of the ids, checked by the caller; serializedBody: the body as sent, when the caller already has it (a
    // write sent to many twins is serialized once).
    private async Task<IoTHubTwin> SendTwinWriteAsync(string deviceId, string? moduleId, string path, JsonObject body, string method, string? ifMatch, CancellationToken cancellationToken, BinaryData? serializedBody = null)
    {
        try
        {
            using var message = await SendAsync(new RequestMethod(method), path, body, IfMatchHeader(ifMatch), null, cancellationToken, serializedBody: serializedBody).ConfigureAwait(false);
            return ReadTwin(message.Response);
        }
        catch (IoTHubServiceException ex) when (ex.Status == 412 && ex.FollowsLostAttempt)
        {
            var twin = await GetTwinAsync(deviceId, moduleId, cancellationToken).ConfigureAwait(false);
            bool held = method == "PUT"
                ? LostAnswerJudge.HoldsExactly(twin.Tags, body["tags"] as JsonObject ?? [])
                  && LostAnswerJudge.HoldsExactly(twin.Desired, body["properties"]?["desired"] as JsonObject ?? [])
                : HoldsPatch(twin, body);
            if (held)
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
