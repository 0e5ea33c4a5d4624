using System.Management.Automation;

namespace TwinPS.Internal;

/// <summary>Closes the device sessions when the module is removed (<c>Remove-Module TwinPS</c>).</summary>
public sealed class DeviceSessionCleanup : IModuleAssemblyCleanup
{
    /// <inheritdoc/>
    public void OnRemove(PSModuleInfo psModuleInfo) => DeviceSessions.CloseAll();
}
