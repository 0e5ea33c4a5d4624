using System.Management.Automation;
using TwinPS.Models;

namespace TwinPS.Commands;

/// <summary>
/// <para type="synopsis">Reads the twin as the device sees it, over its MQTT session.</para>
/// <para type="description">Returns desired and reported properties with their versions (no tags: devices never see them).</para>
/// </summary>
[Cmdlet(VerbsCommon.Get, "IoTDeviceTwin")]
[OutputType(typeof(DeviceSessionTwin))]
public sealed class GetIoTDeviceTwinCommand : DeviceSessionCommandBase
{
    /// <inheritdoc/>
    protected override async Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        foreach (var session in ResolveSessions())
        {
            try
            {
                var twin = await session.Client.GetTwinAsync(cancellationToken).ConfigureAwait(false);
                WriteObjectSafe(new DeviceSessionTwin(session.DeviceId, session.ModuleId, twin).ToPSObject());
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                WriteErrorSafe(ErrorFor(ex, session));
            }
        }
    }
}
