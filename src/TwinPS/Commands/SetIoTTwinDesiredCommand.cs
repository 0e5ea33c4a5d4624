using System.Management.Automation;
using TwinPS.Models;
using TwinPS.Protocol;

namespace TwinPS.Commands;

/// <summary>
/// <para type="synopsis">Sets desired properties of device or module twins (merge; -Replace for the whole section).</para>
/// </summary>
[Cmdlet(VerbsCommon.Set, "IoTTwinDesired", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium,
    DefaultParameterSetName = ByIdSet)]
[OutputType(typeof(Twin))]
public sealed class SetIoTTwinDesiredCommand : TwinSectionWriteCommandBase
{
    /// <summary>The desired properties: hashtable, ordered dictionary, PSCustomObject or JSON text; $null removes a key.</summary>
    [Parameter(Mandatory = true, Position = 1, ParameterSetName = ByIdSet)]
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = ByTwinSet)]
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = ByDeviceSet)]
    [AllowEmptyString]
    public object? Desired { get; set; }

    private protected override TwinSectionKind Section => TwinSectionKind.Desired;

    private protected override (object? Value, string ParameterName) SectionInput => (Desired, nameof(Desired));
}
