using System.Management.Automation;
using TwinPS.Client;
using TwinPS.Client.Resilience;
using TwinPS.Completion;
using TwinPS.Internal;
using TwinPS.Models;
using TwinPS.Protocol;

namespace TwinPS.Commands;

/// <summary>Get-IoTDevice: device identities by id (many concurrently), or every device of the hub.</summary>
[Cmdlet(VerbsCommon.Get, "IoTDevice")]
[OutputType(typeof(Device))]
public sealed class GetIoTDeviceCommand : ConnectionCmdlet
{
    /// <summary>The device id(s); omit to list every device (identity fields only, without keys).</summary>
    [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(DeviceIdCompleter))]
    public string[] DeviceId { get; set; } = [];

    /// <summary>How many devices are read at once.</summary>
    [Parameter]
    [ValidateRange(1, 64)]
    public int ThrottleLimit { get; set; } = 8;

    /// <inheritdoc/>
    protected override int WorkThrottleLimit => ThrottleLimit;

    /// <inheritdoc/>
    internal override ThrottleClass ReportedThrottleClass => DeviceId.Length == 0 ? ThrottleClass.Query : ThrottleClass.Registry;

    /// <inheritdoc/>
    protected override async Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        if (DeviceId.Length == 0)
        {
            await ListAllAsync(cancellationToken).ConfigureAwait(false);
            return;
        }

        ExpectItems(DeviceId.Length);
        foreach (string deviceId in DeviceId)
        {
            if (!ValidateIds(deviceId))
            {
                continue;
            }

            await EnqueueWork(token => RunItemAsync(deviceId, null, async () =>
                WriteDeviceSafe(await Client.GetDeviceAsync(deviceId, token).ConfigureAwait(false)))).ConfigureAwait(false);
        }
    }

    // Every device, a page at a time: the next page is asked for only after this one is written.
    private async Task ListAllAsync(CancellationToken cancellationToken)
    {
        await foreach (IReadOnlyList<DeviceIdentity> page in Client.GetDevicesAsync(cancellationToken).ConfigureAwait(false))
        {
            foreach (DeviceIdentity device in page)
            {
                WriteDeviceSafe(device);
                Reporter?.ItemDone();
            }

            await FlushPipelineCallsAsync(cancellationToken).ConfigureAwait(false);
        }
    }
}
