using System.Text.Json.Nodes;

namespace TwinPS.Client;

/// <summary>
/// A twin update (JSON merge patch): tags and/or desired properties; a <c>null</c> value inside removes that key.
/// <see cref="ClearDesired"/> sends <c>"desired": null</c>, which removes every desired property.
/// </summary>
public sealed class TwinPatch
{
    /// <summary>Tags to merge; null leaves tags alone.</summary>
    public JsonObject? Tags { get; set; }

    /// <summary>Desired properties to merge; null leaves them alone (unless <see cref="ClearDesired"/>).</summary>
    public JsonObject? Desired { get; set; }

    /// <summary>Send <c>"properties":{"desired":null}</c> (remove all desired properties). Cannot be combined with <see cref="Desired"/>.</summary>
    public bool ClearDesired { get; set; }

    /// <summary>Whether the patch changes nothing at all.</summary>
    public bool IsEmpty => Tags is null && Desired is null && !ClearDesired;

    /// <summary>
    /// The exact request body a PATCH sends (a new object; inputs are deep-copied, top-level read-only <c>$metadata</c>/<c>$version</c>
    /// left out). Useful for -WhatIf.
    /// </summary>
    /// <exception cref="InvalidOperationException">Both <see cref="Desired"/> and <see cref="ClearDesired"/> are set.</exception>
    public JsonObject ToRequestBody()
    {
        if (ClearDesired && Desired is not null)
        {
            throw new InvalidOperationException("A twin patch cannot both set desired properties and clear them.");
        }

        var body = new JsonObject();
        if (Tags is not null)
        {
            body["tags"] = WithoutReadOnly(Tags);
        }

        if (Desired is not null)
        {
            body["properties"] = new JsonObject { ["desired"] = WithoutReadOnly(Desired) };
        }
        else if (ClearDesired)
        {
            body["properties"] = new JsonObject { ["desired"] = null };
        }

        return body;
    }

    /// <summary>
    /// The exact request body a replace (PUT) sends for these sections: absent sections are sent empty (the hub wipes them).
    /// Top-level read-only <c>$metadata</c>/<c>$version</c> (present in a twin read back) are left out.
    /// </summary>
    public static JsonObject ToReplaceRequestBody(JsonObject? tags, JsonObject? desired) => new()
    {
        ["tags"] = tags is null ? new JsonObject() : WithoutReadOnly(tags),
        ["properties"] = new JsonObject { ["desired"] = desired is null ? new JsonObject() : WithoutReadOnly(desired) },
    };

    /// <summary>A deep copy without the top-level read-only <c>$metadata</c> and <c>$version</c> a twin read carries.</summary>
    public static JsonObject WithoutReadOnly(JsonObject section)
    {
        var copy = (JsonObject)section.DeepClone();
        copy.Remove("$metadata");
        copy.Remove("$version");
        return copy;
    }

    /// <inheritdoc />
    public override string ToString() => ToRequestBody().ToJsonString();
}
