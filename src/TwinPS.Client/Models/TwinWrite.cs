using System.Globalization;
using System.Text.Json.Nodes;
using TwinPS.Protocol;

namespace TwinPS.Client;

/// <summary>
/// One write to a twin, checked against the twin rules once, when it is made, before any request:
/// a merge (PATCH), the replacement of one section (tags or desired) by a read-diff-PATCH, or the replacement of tags
/// and desired properties together (PUT). Send it with <see cref="IoTHubServiceClient.WriteTwinAsync"/>, to as many
/// twins as needed.
/// </summary>
public sealed class TwinWrite
{
    private TwinWrite(string method, JsonObject? body, TwinSectionKind? section, JsonObject? replacement)
    {
        Method = method;
        Body = body;
        Section = section;
        Replacement = replacement;
        SerializedBody = body is null ? null : BinaryData.FromString(body.ToJsonString());
    }

    /// <summary><c>PATCH</c> or <c>PUT</c>.</summary>
    public string Method { get; }

    /// <summary>The request body, the same for every twin; null for a section replacement (its body is the difference to each twin).</summary>
    internal JsonObject? Body { get; }

    /// <summary><see cref="Body"/> as JSON text, serialized once for every twin it is sent to.</summary>
    internal BinaryData? SerializedBody { get; }

    /// <summary>The section a section replacement replaces.</summary>
    internal TwinSectionKind? Section { get; }

    /// <summary>The new whole section of a section replacement.</summary>
    internal JsonObject? Replacement { get; }

    /// <summary>
    /// Merges tags and/or desired properties (a <c>null</c> value removes a key). The sections are checked as given
    /// (keys, depth, sizes, …; a read-only <c>$version</c> key is refused like any other <c>$</c> key).
    /// </summary>
    /// <exception cref="TwinValidationException">A section breaks a twin rule (names the key/path).</exception>
    /// <exception cref="ArgumentException">The patch changes nothing.</exception>
    public static TwinWrite Merge(TwinPatch patch)
    {
        ArgumentNullException.ThrowIfNull(patch);
        TwinValidator.ValidatePatch(patch.Tags, TwinSectionKind.Tags, TwinWriteMode.Patch);
        TwinValidator.ValidatePatch(patch.Desired, TwinSectionKind.Desired, TwinWriteMode.Patch);
        return new TwinWrite("PATCH", NonEmpty(patch).ToRequestBody(), null, null);
    }

    /// <summary>
    /// Replaces a whole section (tags or desired properties; keys not given are removed) without touching the other:
    /// the twin's section is read (or taken from <see cref="TwinWriteOptions.Current"/>) and the difference PATCHed,
    /// conditional on the etag, so that a concurrent change fails with 412 instead of being lost.
    /// </summary>
    /// <exception cref="TwinValidationException">The section breaks a twin rule (nulls are not allowed in a replacement).</exception>
    public static TwinWrite ReplaceSection(TwinSectionKind section, JsonObject replacement)
    {
        ArgumentNullException.ThrowIfNull(replacement);
        if (section is not (TwinSectionKind.Tags or TwinSectionKind.Desired))
        {
            throw new ArgumentOutOfRangeException(nameof(section), section, "Only tags or desired properties can be replaced.");
        }

        TwinValidator.ValidatePatch(replacement, section, TwinWriteMode.Replace);
        return new TwinWrite("PATCH", null, section, (JsonObject)replacement.DeepClone());
    }

    /// <summary>Replaces tags and desired properties together (PUT); a null section is sent empty, which wipes it.</summary>
    /// <exception cref="TwinValidationException">A section breaks a twin rule (nulls are not allowed in a replacement).</exception>
    public static TwinWrite Replace(JsonObject? tags, JsonObject? desired)
    {
        TwinValidator.ValidatePatch(tags, TwinSectionKind.Tags, TwinWriteMode.Replace);
        TwinValidator.ValidatePatch(desired, TwinSectionKind.Desired, TwinWriteMode.Replace);
        return new TwinWrite("PUT", TwinPatch.ToReplaceRequestBody(tags, desired), null, null);
    }

    /// <summary>A merge of a patch that may carry read-only <c>$metadata</c>/<c>$version</c> (a twin read back): they are left out, the rest is checked.</summary>
    internal static TwinWrite MergeBody(TwinPatch patch)
    {
        JsonObject body = NonEmpty(patch).ToRequestBody();
        TwinInputValidation.ValidatePatch(body);
        return new TwinWrite("PATCH", body, null, null);
    }

    /// <summary>A replacement from sections that may carry read-only <c>$metadata</c>/<c>$version</c>: they are left out, the rest is checked.</summary>
    internal static TwinWrite ReplaceBody(JsonObject? tags, JsonObject? desired)
    {
        JsonObject body = TwinPatch.ToReplaceRequestBody(tags, desired);
        TwinInputValidation.ValidateReplace(body);
        return new TwinWrite("PUT", body, null, null);
    }

    private static TwinPatch NonEmpty(TwinPatch patch) => patch.IsEmpty
        ? throw new ArgumentException("The twin patch is empty: give tags and/or desired properties.", nameof(patch))
        : patch;
}

/// <summary>How <see cref="IoTHubServiceClient.WriteTwinAsync"/> sends a <see cref="TwinWrite"/> to one twin.</summary>
public sealed class TwinWriteOptions
{
    /// <summary>The etag the write is conditional on (If-Match); null: unconditional (a section replacement uses the etag it read).</summary>
    public string? IfMatch { get; init; }

    /// <summary>
    /// Write whatever the twin holds: If-Match <c>*</c>; a section replacement always reads the twin afresh, makes the
    /// PATCH conditional on the etag it read and, when the twin changes in between (412), reads and diffs again
    /// (three attempts in all).
    /// </summary>
    public bool Force { get; init; }

    /// <summary>The twin as the caller holds it (e.g. a twin piped in): a section replacement diffs against it instead of reading (not with <see cref="Force"/>).</summary>
    public IoTHubTwin? Current { get; init; }

    /// <summary>Asked once with the exact first request before it is sent; false: nothing is sent and the write returns null.</summary>
    public Func<TwinWriteRequest, Task<bool>>? ConfirmAsync { get; init; }

    /// <summary>Told when a forced section replacement lost a race (412) and reads the twin again.</summary>
    public Action<string>? Retrying { get; init; }
}

/// <summary>The exact request of a twin write: method, body and If-Match (for -WhatIf and confirmation prompts).</summary>
public sealed record TwinWriteRequest(string Method, JsonObject Body, string? IfMatch)
{
    /// <summary><c>{operation}: {method} {body}</c>, then <c> with If-Match: "{etag}"</c> when conditional.</summary>
    public string Describe(string operation) => string.Create(CultureInfo.InvariantCulture,
        $"{operation}: {Method} {Body.ToJsonString()}{(IfMatch is null ? string.Empty : " with If-Match: " + ETags.Quote(IfMatch))}");
}
