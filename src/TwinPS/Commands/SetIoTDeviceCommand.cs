using System.Management.Automation;
using TwinPS.Client;
using TwinPS.Internal;
using TwinPS.Models;
using TwinPS.Protocol;

namespace TwinPS.Commands;

/// <summary>Set-IoTDevice: changes a device identity's status, status reason or IoT Edge capability, ETag-aware.</summary>
[Cmdlet(VerbsCommon.Set, "IoTDevice", DefaultParameterSetName = InputObjectSet, SupportsShouldProcess = true)]
[OutputType(typeof(Device))]
public sealed class SetIoTDeviceCommand : DeviceIdentityWriteCommandBase
{
    /// <summary>Enabled or Disabled.</summary>
    [Parameter]
    public DeviceStatus? Status { get; set; }

    /// <summary>Why the status is set (up to 128 characters); an empty string clears it.</summary>
    [Parameter]
    [ValidateLength(0, 128)]
    [AllowEmptyString]
    public string? StatusReason { get; set; }

    /// <summary>Makes the device an IoT Edge device (-EdgeEnabled:$false makes it a plain device).</summary>
    [Parameter]
    public SwitchParameter EdgeEnabled { get; set; }

    /// <summary>Returns the changed device.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    /// <inheritdoc/>
    protected override async Task BeginProcessingAsync(CancellationToken cancellationToken)
    {
        if (Status is null && StatusReason is null && !MyInvocation.BoundParameters.ContainsKey(nameof(EdgeEnabled)))
        {
            throw new TerminatingErrorException(ErrorRecords.InvalidInput(
                "NothingToChange", "Give at least one of -Status, -StatusReason or -EdgeEnabled.", null));
        }

        await base.BeginProcessingAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    protected override async Task ProcessDeviceAsync(string deviceId, string? knownETag)
    {
        if (!ValidateIds(deviceId))
        {
            return;
        }

        var changes = new List<string>();
        if (Status is not null)
        {
            changes.Add($"status {Status}");
        }

        if (StatusReason is not null)
        {
            changes.Add($"status reason '{StatusReason}'");
        }

        bool edgeBound = MyInvocation.BoundParameters.ContainsKey(nameof(EdgeEnabled));
        if (edgeBound)
        {
            changes.Add(EdgeEnabled ? "IoT Edge on" : "IoT Edge off");
        }

        if (!await ShouldProcessSafe(DeviceTarget(deviceId), "Set " + string.Join(", ", changes)).ConfigureAwait(false))
        {
            return;
        }

        await EnqueueWork(token => RunItemAsync(deviceId, null, async () =>
        {
            // The update is a full replace, so it starts from the current identity (with its keys).
            DeviceIdentity current = await Client.GetDeviceAsync(deviceId, token).ConfigureAwait(false);
            string ifMatch = Force ? ETags.Wildcard : knownETag ?? current.ETag ?? ETags.Wildcard;
            if (Status is not null)
            {
                current.Status = Status == DeviceStatus.Enabled ? "enabled" : "disabled";
            }

            if (StatusReason is not null)
            {
                current.StatusReason = StatusReason.Length == 0 ? null : StatusReason;
            }

            if (edgeBound)
            {
                current.IsEdge = EdgeEnabled;
            }

            DeviceIdentity updated = await Client.UpdateDeviceAsync(current, ifMatch, token).ConfigureAwait(false);
            if (PassThru)
            {
                WriteDeviceSafe(updated);
            }
        })).ConfigureAwait(false);
    }
}
