using System.Management.Automation;
using TwinPS.Completion;
using TwinPS.Internal;
using TwinPS.Protocol;

namespace TwinPS.Commands;

/// <summary>
/// <para type="synopsis">Deletes module identities (with their module twins), ETag-aware.</para>
/// <para type="description">Deletes each module. A piped module (Get-IoTModule) or -ETag makes the delete conditional
/// on the module not having changed since it was read; -Force deletes whatever its ETag.</para>
/// </summary>
[Cmdlet(VerbsCommon.Remove, "IoTModule", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(void))]
public sealed class RemoveIoTModuleCommand : ConnectionCmdlet
{
    private bool _whatIf;

    /// <summary>The device the module belongs to.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(DeviceIdCompleter))]
    public string DeviceId { get; set; } = string.Empty;

    /// <summary>The module id(s).</summary>
    [Parameter(Mandatory = true, Position = 1, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(ModuleIdCompleter))]
    public string[] ModuleId { get; set; } = [];

    /// <summary>Delete only if the module still has this ETag.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [AllowNull]
    [AllowEmptyString]
    public string? ETag { get; set; }

    /// <summary>Delete whatever the module's ETag, without asking.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <inheritdoc/>
    protected override async Task BeginProcessingAsync(CancellationToken cancellationToken)
    {
        _whatIf = MyInvocation.BoundParameters.TryGetValue("WhatIf", out object? bound)
            ? bound is SwitchParameter { IsPresent: true }
            : LanguagePrimitives.IsTrue(GetVariableValue("WhatIfPreference"));
        await base.BeginProcessingAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    protected override async Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        foreach (string moduleId in ModuleId)
        {
            string deviceId = DeviceId;
            string ifMatch = Force || string.IsNullOrEmpty(ETag) ? ETags.Wildcard : ETag;
            string action = ifMatch == ETags.Wildcard ? "Remove module and its twin" : $"Remove module and its twin (if its ETag is still {ETag})";
            if (!(Force && !_whatIf) && !await ShouldProcessSafe($"module '{deviceId}/{moduleId}' on hub '{HubConnection.HostName}'", action).ConfigureAwait(false))
            {
                continue;
            }

            await RunItemAsync(deviceId, moduleId, async () =>
            {
                await Client.DeleteModuleAsync(deviceId, moduleId, ifMatch, cancellationToken).ConfigureAwait(false);
                WriteVerboseSafe($"Removed module '{deviceId}/{moduleId}'.");
            }).ConfigureAwait(false);
        }
    }
}
