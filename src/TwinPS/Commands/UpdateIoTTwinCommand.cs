using System.Management.Automation;
using TwinPS.Client;
using TwinPS.Internal;
using TwinPS.Models;

namespace TwinPS.Commands;

/// <summary>Updates (merges) tags and desired properties of device or module twins in one request.</summary>
[Cmdlet(VerbsData.Update, "IoTTwin", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium,
    DefaultParameterSetName = ByIdSet)]
[OutputType(typeof(Twin))]
public sealed class UpdateIoTTwinCommand : TwinWriteCommandBase
{
    /// <summary>Tags to merge: hashtable, ordered dictionary, PSCustomObject or JSON text; $null removes a tag.</summary>
    [Parameter]
    [AllowEmptyString]
    public object? Tag { get; set; }

    /// <summary>Desired properties to merge: hashtable, ordered dictionary, PSCustomObject or JSON text; $null removes a key.</summary>
    [Parameter]
    [AllowEmptyString]
    public object? Desired { get; set; }

    /// <inheritdoc/>
    private protected override (string Operation, TwinWrite? Write) PrepareWrite()
    {
        bool hasTag = MyInvocation.BoundParameters.ContainsKey(nameof(Tag));
        bool hasDesired = MyInvocation.BoundParameters.ContainsKey(nameof(Desired));
        if (!hasTag && !hasDesired)
        {
            throw new TerminatingErrorException(ErrorRecords.InvalidInput("TagOrDesiredRequired",
                "Give -Tag, -Desired or both: there is nothing to update.", null));
        }

        return ("Update twin", TwinWrite.Merge(new TwinPatch
        {
            Tags = hasTag ? PSObjectJson.ToJsonObject(Tag, nameof(Tag)) : null,
            Desired = hasDesired ? PSObjectJson.ToJsonObject(Desired, nameof(Desired)) : null,
        }));
    }
}
