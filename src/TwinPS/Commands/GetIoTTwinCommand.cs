using System.Management.Automation;
using TwinPS.Client.Resilience;
using TwinPS.Models;

using TwinPS.Completion;
using TwinPS.Protocol;

namespace TwinPS.Commands;

/// <summary>Gets device or module twins by id, many ids concurrently (output in completion order).</summary>
[Cmdlet(VerbsCommon.Get, "IoTTwin")]
[OutputType(typeof(Twin))]
public sealed class GetIoTTwinCommand : TwinCommandBase
{
    /// <summary>The device id(s); also bound from piped strings and from objects with a DeviceId property.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(DeviceIdCompleter))]
    public string[] DeviceId { get; set; } = [];

    /// <summary>The module id, to get module twins instead of device twins.</summary>
    [Parameter(Position = 1, ValueFromPipelineByPropertyName = true)]
    [AllowNull]
    [AllowEmptyString]
    [ArgumentCompleter(typeof(ModuleIdCompleter))]
    public string? ModuleId { get; set; }

    /// <summary>How many requests run at once for many ids or piped twins.</summary>
    [Parameter]
    [ValidateRange(1, MaxThrottleLimit)]
    public int ThrottleLimit { get; set; } = DefaultThrottleLimit;

    /// <inheritdoc/>
    protected override int WorkThrottleLimit => ThrottleLimit;

    /// <inheritdoc/>
    internal override ThrottleClass ReportedThrottleClass => ThrottleClass.TwinRead;

    /// <inheritdoc/>
    protected override bool StartPipedItemsOnWorker => true;

    /// <inheritdoc/>
    protected override async Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        string? moduleId = NormalizeModuleId(ModuleId);
        ExpectItems(DeviceId.Length);
        foreach (string deviceId in DeviceId)
        {
            if (!ValidateIds(deviceId, moduleId))
            {
                continue;
            }

            await EnqueueWork(token => RunItemAsync(deviceId, moduleId, async () =>
                WriteTwinSafe(await Client.GetTwinAsync(deviceId, moduleId, token).ConfigureAwait(false)))).ConfigureAwait(false);
        }
    }
}
