using System.Management.Automation;
using System.Management.Automation.Runspaces;

namespace TwinPS.Internal;

/// <summary>
/// Stops the emulators a runspace started when that runspace removes the module (<c>Remove-Module TwinPS</c>); emulators
/// of other runspaces in the same process keep running.
/// </summary>
public sealed class EmulatorModuleCleanup : IModuleAssemblyCleanup
{
    /// <inheritdoc />
    public void OnRemove(PSModuleInfo psModuleInfo) => EmulatorLauncher.KillAll(Runspace.DefaultRunspace);
}
