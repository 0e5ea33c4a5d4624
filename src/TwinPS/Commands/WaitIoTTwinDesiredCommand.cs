using System.Management.Automation;
using TwinPS.Models;

namespace TwinPS.Commands;

/// <summary>
/// <para type="synopsis">Emits desired-property patches as device sessions receive them.</para>
/// <para type="description">Writes a TwinPS.DesiredPatch for each patch, starting with any the session received and no
/// Wait-IoTTwinDesired has read yet, until -Count patches were written, -Timeout seconds passed, every session closed, or
/// Ctrl+C.</para>
/// </summary>
[Cmdlet(VerbsLifecycle.Wait, "IoTTwinDesired")]
[OutputType(typeof(DesiredPatch))]
public sealed class WaitIoTTwinDesiredCommand() : SessionWaitCommandBase<DesiredPatch>(SessionQueues.DesiredPatches)
{
    /// <summary>Skip the patches received before this command started.</summary>
    [Parameter]
    public SwitchParameter SkipPending { get; set; }

    /// <inheritdoc/>
    protected override Task EndProcessingAsync(CancellationToken cancellationToken)
    {
        if (SkipPending.IsPresent)
        {
            foreach (var session in Sessions)
            {
                while (session.PendingPatches.TryRead(out _))
                {
                }
            }
        }

        return base.EndProcessingAsync(cancellationToken);
    }
}
