using System.Management.Automation;
using TwinPS.Completion;
using TwinPS.Internal;
using TwinPS.Models;

namespace TwinPS.Commands;

/// <summary>
/// <para type="synopsis">Gets module identities: one by id, or every module of a device.</para>
/// <para type="description">With -ModuleId, gets that module of each device; without, lists all modules of each
/// device. Keys are never shown.</para>
/// </summary>
[Cmdlet(VerbsCommon.Get, "IoTModule")]
[OutputType(typeof(ModuleInfo))]
public sealed class GetIoTModuleCommand : ConnectionCmdlet
{
    /// <summary>The device id(s); also bound from piped strings, devices and twins.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(DeviceIdCompleter))]
    public string[] DeviceId { get; set; } = [];

    /// <summary>The module id; default: every module of the device.</summary>
    [Parameter(Position = 1, ValueFromPipelineByPropertyName = true)]
    [AllowNull]
    [AllowEmptyString]
    [ArgumentCompleter(typeof(ModuleIdCompleter))]
    public string? ModuleId { get; set; }

    /// <inheritdoc/>
    protected override async Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        string? moduleId = TwinCommandBase.NormalizeModuleId(ModuleId);
        foreach (string deviceId in DeviceId)
        {
            if (!ValidateIds(deviceId))
            {
                continue;
            }

            await RunItemAsync(deviceId, moduleId, async () =>
            {
                if (moduleId is not null)
                {
                    var module = await Client.GetModuleAsync(deviceId, moduleId, cancellationToken).ConfigureAwait(false);
                    WriteObjectSafe(new ModuleInfo(module, HubConnection.HostName).ToPSObject());
                    return;
                }

                foreach (var module in await Client.GetModulesAsync(deviceId, cancellationToken).ConfigureAwait(false))
                {
                    WriteObjectSafe(new ModuleInfo(module, HubConnection.HostName).ToPSObject());
                }
            }).ConfigureAwait(false);
        }
    }
}
