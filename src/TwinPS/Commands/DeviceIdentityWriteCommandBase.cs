using System.Management.Automation;
using TwinPS.Completion;
using TwinPS.Internal;
using TwinPS.Models;

namespace TwinPS.Commands;

/// <summary>
/// Shared shape of the cmdlets that change existing device identities (Set-/Remove-IoTDevice): devices by id with an
/// optional <c>-ETag</c>, or piped <see cref="Device"/> objects whose own ETag is used; <c>-Force</c>; <c>-ThrottleLimit</c>.
/// </summary>
public abstract class DeviceIdentityWriteCommandBase : ConnectionCmdlet
{
    /// <summary>The parameter set of <see cref="DeviceId"/> and <see cref="ETag"/>.</summary>
    protected const string DeviceIdSet = "DeviceId";

    /// <summary>The parameter set of <see cref="InputObject"/> (the default).</summary>
    protected const string InputObjectSet = "InputObject";

    /// <summary>The id(s) of the devices.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true, ParameterSetName = DeviceIdSet)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(DeviceIdCompleter))]
    public string[] DeviceId { get; set; } = [];

    /// <summary>Devices from Get-IoTDevice or New-IoTDevice; each one's ETag is sent as If-Match.</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = InputObjectSet)]
    [ValidateNotNull]
    public Device[] InputObject { get; set; } = [];

    /// <summary>Acts only if the identity still has this ETag.</summary>
    [Parameter(ParameterSetName = DeviceIdSet)]
    [ValidateNotNullOrEmpty]
    public string? ETag { get; set; }

    /// <summary>Acts whatever the identity's ETag (If-Match: *).</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>How many devices are handled at once.</summary>
    [Parameter]
    [ValidateRange(1, 64)]
    public int ThrottleLimit { get; set; } = 8;

    /// <inheritdoc/>
    protected override int WorkThrottleLimit => ThrottleLimit;

    /// <inheritdoc/>
    protected sealed override async Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        ExpectItems(ParameterSetName == InputObjectSet ? InputObject.Length : DeviceId.Length);
        if (ParameterSetName == InputObjectSet)
        {
            foreach (Device device in InputObject)
            {
                await ProcessDeviceAsync(device.DeviceId, device.ETag).ConfigureAwait(false);
            }

            return;
        }

        foreach (string deviceId in DeviceId)
        {
            await ProcessDeviceAsync(deviceId, ETag).ConfigureAwait(false);
        }
    }

    /// <summary>Handles one device; <paramref name="knownETag"/> is the piped device's ETag or <c>-ETag</c>.</summary>
    protected abstract Task ProcessDeviceAsync(string deviceId, string? knownETag);
}
