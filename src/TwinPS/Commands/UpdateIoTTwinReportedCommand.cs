using System.Management.Automation;
using System.Text.Json.Nodes;
using TwinPS.Internal;
using TwinPS.Models;
using TwinPS.Protocol;

namespace TwinPS.Commands;

/// <summary>
/// <para type="synopsis">Patches the device's reported properties over its MQTT session.</para>
/// <para type="description">A JSON merge patch: keys are added or replaced, nested objects merged, and a key set to $null is
/// removed. The patch is validated before anything is sent (key rules, depth, sizes, integer range).</para>
/// </summary>
[Cmdlet(VerbsData.Update, "IoTTwinReported", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(ReportedUpdate))]
public sealed class UpdateIoTTwinReportedCommand : DeviceSessionCommandBase
{
    private JsonObject _patch = null!;

    /// <summary>The patch: a hashtable, an ordered dictionary, a PSCustomObject or JSON text; $null values remove keys.</summary>
    [Parameter(Mandatory = true, Position = 0)]
    [Alias("Patch", "Properties")]
    [AllowNull]
    public object Reported { get; set; } = null!;

    /// <summary>Write the new reported $version.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    /// <inheritdoc/>
    protected override Task BeginProcessingAsync(CancellationToken cancellationToken)
    {
        _patch = PSObjectJson.ToJsonObject(Reported, nameof(Reported));
        TwinValidator.ValidatePatch(_patch, TwinSectionKind.Reported, TwinWriteMode.Patch);
        return Task.CompletedTask;
    }

    /// <inheritdoc/>
    protected override async Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        foreach (var session in ResolveSessions())
        {
            var target = ErrorRecords.Target(session.DeviceId, session.ModuleId)!;
            if (!await ShouldProcessSafe(target, "Patch reported properties: " + _patch.ToJsonString()).ConfigureAwait(false))
            {
                continue;
            }

            try
            {
                var version = await session.Client.UpdateReportedAsync((JsonObject)_patch.DeepClone(), cancellationToken).ConfigureAwait(false);
                WriteVerboseSafe($"Reported properties of '{target}' are at version {version}.");
                if (PassThru.IsPresent)
                {
                    WriteObjectSafe(new ReportedUpdate(session.DeviceId, session.ModuleId, version, _patch).ToPSObject());
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                WriteErrorSafe(ErrorFor(ex, session));
            }
        }
    }
}
