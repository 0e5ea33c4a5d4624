using System.Management.Automation;
using System.Text.Json.Nodes;
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
    protected override void PrepareInput()
    {
        _tags = MyInvocation.BoundParameters.ContainsKey(nameof(Tag)) ? PSObjectJson.ToJsonObject(Tag, nameof(Tag)) : null;
        _desired = MyInvocation.BoundParameters.ContainsKey(nameof(Desired)) ? PSObjectJson.ToJsonObject(Desired, nameof(Desired)) : null;
        TwinValidator.ValidatePatch(_tags, TwinSectionKind.Tags, TwinWriteMode.Replace);
        TwinValidator.ValidatePatch(_desired, TwinSectionKind.Desired, TwinWriteMode.Replace);
    }

    private protected override async Task WriteTwinAsync(TwinTarget target, CancellationToken cancellationToken)
    {
        // A piped twin's Tags/Desired objects are read as they are now, so edits made to them are sent.
        JsonObject tags = _tags ?? PSObjectJson.ToJsonObject(target.Twin!.Tags, nameof(Twin.Tags));
        JsonObject desired = _desired ?? PSObjectJson.ToJsonObject(target.Twin!.Desired, nameof(Twin.Desired));
        JsonObject body = TwinPS.Client.TwinPatch.ToReplaceRequestBody(tags, desired);
        TwinValidator.ValidatePatch(body["tags"], TwinSectionKind.Tags, TwinWriteMode.Replace);
        TwinValidator.ValidatePatch(body["properties"]?["desired"], TwinSectionKind.Desired, TwinWriteMode.Replace);

        string? ifMatch = IfMatchFor(target);
        if (await ConfirmAsync(target, () => DescribeRequest("Replace tags and desired properties", "PUT", body, ifMatch)).ConfigureAwait(false))
        {
            PassThruTwin(await Client.ReplaceTwinAsync(target.DeviceId, target.ModuleId, tags, desired, ifMatch, cancellationToken).ConfigureAwait(false));
        }
    }
}
