using System.Management.Automation;
using System.Text.Json.Nodes;
using TwinPS.Client;
using TwinPS.Internal;
using TwinPS.Models;
using TwinPS.Protocol;

namespace TwinPS.Commands;

/// <summary>
/// Replaces the tags and desired properties of device or module twins (HTTP PUT), from a twin
/// object (<c>Get-IoTTwin x | Set-IoTTwin</c>) or from -Tag and -Desired.
/// </summary>
[Cmdlet(VerbsCommon.Set, "IoTTwin", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High,
    DefaultParameterSetName = ByTwinSet)]
[OutputType(typeof(Twin))]
public sealed class SetIoTTwinCommand : TwinWriteCommandBase
{
    private JsonObject? _tags;
    private JsonObject? _desired;

    /// <summary>All tags of the twin (replaces the current tags); with a piped twin, overrides its tags.</summary>
    [Parameter(Mandatory = true, ParameterSetName = ByIdSet)]
    [Parameter(Mandatory = true, ParameterSetName = ByDeviceSet)]
    [Parameter(ParameterSetName = ByTwinSet)]
    [AllowEmptyString]
    public object? Tag { get; set; }

    /// <summary>All desired properties (replaces the current ones); with a piped twin, overrides its desired properties.</summary>
    [Parameter(Mandatory = true, ParameterSetName = ByIdSet)]
    [Parameter(Mandatory = true, ParameterSetName = ByDeviceSet)]
    [Parameter(ParameterSetName = ByTwinSet)]
    [AllowEmptyString]
    public object? Desired { get; set; }

    /// <inheritdoc/>
    private protected override (string Operation, TwinWrite? Write) PrepareWrite()
    {
        _tags = MyInvocation.BoundParameters.ContainsKey(nameof(Tag)) ? PSObjectJson.ToJsonObject(Tag, nameof(Tag)) : null;
        _desired = MyInvocation.BoundParameters.ContainsKey(nameof(Desired)) ? PSObjectJson.ToJsonObject(Desired, nameof(Desired)) : null;
        const string Operation = "Replace tags and desired properties";
        if (_tags is not null && _desired is not null)
        {
            // The same document for every twin: made (and checked) once.
            return (Operation, TwinWrite.Replace(_tags, _desired));
        }

        // A section not given comes from each piped twin; the given one is checked now, before any request.
        TwinWrite.Replace(_tags, _desired);
        return (Operation, null);
    }

    /// <inheritdoc/>
    private protected override TwinWrite WriteFor(TwinTarget target) => _tags is not null && _desired is not null
        ? base.WriteFor(target)
        // A piped twin's Tags/Desired objects are read as they are now, so edits made to them are sent.
        : TwinWrite.Replace(
            _tags ?? PSObjectJson.ToJsonObject(target.Twin!.Tags, nameof(Twin.Tags)),
            _desired ?? PSObjectJson.ToJsonObject(target.Twin!.Desired, nameof(Twin.Desired)));
}
