using System.Management.Automation;
using System.Text.Json.Nodes;
using TwinPS.Client;
using TwinPS.Internal;
using TwinPS.Models;
using TwinPS.Protocol;

namespace TwinPS.Commands;

/// <summary>
/// <para type="synopsis">Sets desired properties of device or module twins (merge; -Replace for the whole section).</para>
/// </summary>
[Cmdlet(VerbsCommon.Set, "IoTTwinDesired", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium,
    DefaultParameterSetName = ByIdSet)]
[OutputType(typeof(Twin))]
public sealed class SetIoTTwinDesiredCommand : TwinWriteCommandBase
{
    private JsonObject _desired = [];

    /// <summary>The desired properties: hashtable, ordered dictionary, PSCustomObject or JSON text; $null removes a key.</summary>
    [Parameter(Mandatory = true, Position = 1, ParameterSetName = ByIdSet)]
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = ByTwinSet)]
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = ByDeviceSet)]
    [AllowEmptyString]
    public object? Desired { get; set; }

    /// <summary>Replace the whole desired section (keys not given are removed) instead of merging.</summary>
    [Parameter]
    public SwitchParameter Replace { get; set; }

    /// <inheritdoc/>
    protected override bool IsHighImpact => Replace.IsPresent;

    /// <inheritdoc/>
    protected override void PrepareInput()
    {
        _desired = PSObjectJson.ToJsonObject(Desired, nameof(Desired));
        TwinValidator.ValidatePatch(_desired, TwinSectionKind.Desired, Replace.IsPresent ? TwinWriteMode.Replace : TwinWriteMode.Patch);
    }

    private protected override async Task WriteTwinAsync(TwinTarget target, CancellationToken cancellationToken)
    {
        if (!Replace.IsPresent)
        {
            var patch = new TwinPatch { Desired = _desired };
            string? ifMatch = IfMatchFor(target);
            if (!await ConfirmAsync(target, () => DescribeRequest("Merge desired properties", "PATCH", patch.ToRequestBody(), ifMatch)).ConfigureAwait(false))
            {
                return;
            }

            PassThruTwin(await Client.UpdateTwinAsync(target.DeviceId, target.ModuleId, patch, ifMatch, cancellationToken).ConfigureAwait(false));
            return;
        }

        PassThruTwin(await ReplaceSectionAsync(target, TwinSectionKind.Desired, _desired,
            "Replace desired properties", cancellationToken).ConfigureAwait(false));
    }
}
