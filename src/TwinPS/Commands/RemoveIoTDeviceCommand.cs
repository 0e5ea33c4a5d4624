using System.Management.Automation;
using TwinPS.Internal;
using TwinPS.Models;
using TwinPS.Protocol;

namespace TwinPS.Commands;

/// <summary>Remove-IoTDevice: deletes device identities (with their twins and modules), ETag-aware.</summary>
[Cmdlet(VerbsCommon.Remove, "IoTDevice", DefaultParameterSetName = InputObjectSet, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(void))]
public sealed class RemoveIoTDeviceCommand : DeviceIdentityWriteCommandBase
{
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
    protected override async Task ProcessDeviceAsync(string deviceId, string? knownETag)
    {
        if (!ValidateIds(deviceId))
        {
            return;
        }

        // The hub requires If-Match on delete: the known ETag, or '*' (unconditional) when there is none or -Force.
        string ifMatch = Force || string.IsNullOrEmpty(knownETag) ? ETags.Wildcard : knownETag;
        string action = ifMatch == ETags.Wildcard ? "Remove device, its twin and modules" : $"Remove device, its twin and modules (if its ETag is still {knownETag})";
        // -Force skips the confirmation prompt, but -WhatIf (or $WhatIfPreference) still only previews.
        if (!(Force && !_whatIf) && !await ShouldProcessSafe(DeviceTarget(deviceId), action).ConfigureAwait(false))
        {
            return;
        }

        await EnqueueWork(token => RunItemAsync(deviceId, null, async () =>
        {
            await Client.DeleteDeviceAsync(deviceId, ifMatch, token).ConfigureAwait(false);
            WriteVerboseSafe($"Removed device '{deviceId}'.");
        })).ConfigureAwait(false);
    }
}
