using System.Management.Automation;
using TwinPS.Internal;
using TwinPS.Models;
using TwinPS.Protocol;

namespace TwinPS.Commands;

/// <summary>Remove-IoTDevice: deletes device identities (with their twins and modules), ETag-aware.</summary>
[Cmdlet(VerbsCommon.Remove, "IoTDevice", DefaultParameterSetName = InputObjectSet, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(void))]
public sealed class RemoveIoTDeviceCommand : ConnectionCmdlet
{
    private const string DeviceIdSet = "DeviceId";
    private const string InputObjectSet = "InputObject";

    /// <summary>The id(s) of the devices to delete.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true, ParameterSetName = DeviceIdSet)]
    [ValidateNotNullOrEmpty]
    public string[] DeviceId { get; set; } = [];

    /// <summary>Devices from Get-IoTDevice or New-IoTDevice; each one's ETag is sent as If-Match.</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = InputObjectSet)]
    [ValidateNotNull]
    public Device[] InputObject { get; set; } = [];

    /// <summary>Deletes only if the identity still has this ETag.</summary>
    [Parameter(ParameterSetName = DeviceIdSet)]
    [ValidateNotNullOrEmpty]
    public string? ETag { get; set; }

    /// <summary>Deletes whatever the identity's ETag (If-Match: *) and without asking for confirmation.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>How many devices are deleted at once.</summary>
    [Parameter]
    [ValidateRange(1, 64)]
    public int ThrottleLimit { get; set; } = 8;

    /// <inheritdoc/>
    protected override int WorkThrottleLimit => ThrottleLimit;

    private bool _whatIf;

    /// <inheritdoc/>
    protected override async Task BeginProcessingAsync(CancellationToken cancellationToken)
    {
        // Read once, before any work starts (the pipeline thread is waiting for this method).
        _whatIf = MyInvocation.BoundParameters.TryGetValue("WhatIf", out object? bound)
            ? bound is SwitchParameter { IsPresent: true }
            : LanguagePrimitives.IsTrue(GetVariableValue("WhatIfPreference"));
        await base.BeginProcessingAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    protected override async Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        if (ParameterSetName == InputObjectSet)
        {
            foreach (Device device in InputObject)
            {
                await RemoveAsync(device.DeviceId, device.ETag).ConfigureAwait(false);
            }

            return;
        }

        foreach (string deviceId in DeviceId)
        {
            await RemoveAsync(deviceId, ETag).ConfigureAwait(false);
        }
    }

    private async Task RemoveAsync(string deviceId, string? etag)
    {
        if (!ValidateDeviceId(deviceId))
        {
            return;
        }

        // The hub requires If-Match on delete: the known ETag, or '*' (unconditional) when there is none or -Force.
        string ifMatch = Force || string.IsNullOrEmpty(etag) ? ETags.Wildcard : etag;
        string action = ifMatch == ETags.Wildcard ? "Remove device, its twin and modules" : $"Remove device, its twin and modules (if its ETag is still {etag})";
        // -Force skips the confirmation prompt, but -WhatIf (or $WhatIfPreference) still only previews.
        if (!(Force && !_whatIf) && !await ShouldProcessSafe(DeviceTarget(deviceId), action).ConfigureAwait(false))
        {
            return;
        }

        await EnqueueWork(token => RunDeviceAsync(deviceId, async () =>
        {
            await Client.DeleteDeviceAsync(deviceId, ifMatch, token).ConfigureAwait(false);
            WriteVerboseSafe($"Removed device '{deviceId}'.");
        })).ConfigureAwait(false);
    }
}
