using TwinPS.Client.Resilience;
using TwinPS.Protocol;

namespace TwinPS.Internal;

/// <summary>The device- and module-identity cmdlets: a <see cref="HubCmdlet"/> counting devices on the registry's throttle.</summary>
public abstract class ConnectionCmdlet : HubCmdlet
{
    /// <inheritdoc/>
    internal override ThrottleClass ReportedThrottleClass => ThrottleClass.Registry;

    /// <inheritdoc/>
    internal override string ReportedNoun => "devices";
}
