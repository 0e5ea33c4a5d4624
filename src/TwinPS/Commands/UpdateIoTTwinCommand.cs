using System.Management.Automation;
using System.Text.Json.Nodes;
using TwinPS.Client;
using TwinPS.Internal;
using TwinPS.Models;
using TwinPS.Protocol;

namespace TwinPS.Commands;

/// <summary>Updates (merges) tags and desired properties of device or module twins in one request.</summary>
[Cmdlet(VerbsData.Update, "IoTTwin", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium,
    DefaultParameterSetName = ByIdSet)]
[OutputType(typeof(Twin))]
public sealed class UpdateIoTTwinCommand : TwinWriteCommandBase
{
    private TwinPatch _patch = new();

    /// <summary>Tags to merge: hashtable, ordered dictionary, PSCustomObject or JSON text; $null removes a tag.</summary>
    [Parameter]
    [AllowEmptyString]
    public object? Tag { get; set; }

    /// <summary>Desired properties to merge: hashtable, ordered dictionary, PSCustomObject or JSON text; $null removes a key.</summary>
    [Parameter]
    [AllowEmptyString]
    public object? Desired { get; set; }

    /// <inheritdoc/>
    protected override void PrepareInput()
    {
        bool hasTag = MyInvocation.BoundParameters.ContainsKey(nameof(Tag));
        bool hasDesired = MyInvocation.BoundParameters.ContainsKey(nameof(Desired));
        if (!hasTag && !hasDesired)
        {
            throw new TerminatingErrorException(ErrorRecords.InvalidInput("TagOrDesiredRequired",
                "Give -Tag, -Desired or both: there is nothing to update.", null));
        }

        JsonObject? tags = hasTag ? PSObjectJson.ToJsonObject(Tag, nameof(Tag)) : null;
        JsonObject? desired = hasDesired ? PSObjectJson.ToJsonObject(Desired, nameof(Desired)) : null;
        TwinValidator.ValidatePatch(tags, TwinSectionKind.Tags, TwinWriteMode.Patch);
        TwinValidator.ValidatePatch(desired, TwinSectionKind.Desired, TwinWriteMode.Patch);
        _patch = new TwinPatch { Tags = tags, Desired = desired };
    }

    private protected override async Task WriteTwinAsync(TwinTarget target, CancellationToken cancellationToken)
    {
        string? ifMatch = IfMatchFor(target);
        if (await ConfirmAsync(target, () => DescribeRequest("Update twin", "PATCH", _patch.ToRequestBody(), ifMatch)).ConfigureAwait(false))
        {
            PassThruTwin(await Client.UpdateTwinAsync(target.DeviceId, target.ModuleId, _patch, ifMatch, cancellationToken).ConfigureAwait(false));
        }
    }
}
