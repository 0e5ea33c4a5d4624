using System.Management.Automation;
using TwinPS.Models;
using TwinPS.Protocol;

namespace TwinPS.Commands;

/// <summary>Updates (merges) the tags of device or module twins; -Replace replaces all tags.</summary>
[Cmdlet(VerbsData.Update, "IoTTwinTag", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium,
    DefaultParameterSetName = ByIdSet)]
[OutputType(typeof(Twin))]
public sealed class UpdateIoTTwinTagCommand : TwinSectionWriteCommandBase
{
    /// <summary>The tags: hashtable, ordered dictionary, PSCustomObject or JSON text; $null removes a tag.</summary>
    [Parameter(Mandatory = true, Position = 1, ParameterSetName = ByIdSet)]
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = ByTwinSet)]
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = ByDeviceSet)]
    [AllowEmptyString]
    public object? Tag { get; set; }

    private protected override TwinSectionKind Section => TwinSectionKind.Tags;

    private protected override (object? Value, string ParameterName) SectionInput => (Tag, nameof(Tag));
}
