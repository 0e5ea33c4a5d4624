using System.Management.Automation;
using System.Text.Json.Nodes;
using TwinPS.Client;
using TwinPS.Internal;
using TwinPS.Models;
using TwinPS.Protocol;

namespace TwinPS.Commands;

/// <summary>Updates (merges) the tags of device or module twins; -Replace replaces all tags.</summary>
[Cmdlet(VerbsData.Update, "IoTTwinTag", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium,
    DefaultParameterSetName = ByIdSet)]
[OutputType(typeof(Twin))]
public sealed class UpdateIoTTwinTagCommand : TwinWriteCommandBase
{
    private JsonObject _tags = [];

    /// <summary>The tags: hashtable, ordered dictionary, PSCustomObject or JSON text; $null removes a tag.</summary>
    [Parameter(Mandatory = true, Position = 1, ParameterSetName = ByIdSet)]
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = ByTwinSet)]
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = ByDeviceSet)]
    [AllowEmptyString]
    public object? Tag { get; set; }

    /// <summary>Replace all tags (tags not given are removed) instead of merging.</summary>
    [Parameter]
    public SwitchParameter Replace { get; set; }

    /// <inheritdoc/>
    protected override bool IsHighImpact => Replace.IsPresent;

    /// <inheritdoc/>
    protected override void PrepareInput()
    {
        _tags = PSObjectJson.ToJsonObject(Tag, nameof(Tag));
        TwinValidator.ValidatePatch(_tags, TwinSectionKind.Tags, Replace.IsPresent ? TwinWriteMode.Replace : TwinWriteMode.Patch);
    }

    private protected override async Task WriteTwinAsync(TwinTarget target, CancellationToken cancellationToken)
    {
        if (Replace.IsPresent)
        {
            PassThruTwin(await ReplaceSectionAsync(target, TwinSectionKind.Tags, _tags, "Replace tags", cancellationToken).ConfigureAwait(false));
            return;
        }

        var patch = new TwinPatch { Tags = _tags };
        string? ifMatch = IfMatchFor(target);
        if (await ConfirmAsync(target, () => DescribeRequest("Merge tags", "PATCH", patch.ToRequestBody(), ifMatch)).ConfigureAwait(false))
        {
            PassThruTwin(await Client.UpdateTwinAsync(target.DeviceId, target.ModuleId, patch, ifMatch, cancellationToken).ConfigureAwait(false));
        }
    }
}
