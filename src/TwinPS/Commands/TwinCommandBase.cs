using System.Management.Automation;
using TwinPS.Client;
using TwinPS.Client.Resilience;
using TwinPS.Internal;
using TwinPS.Models;
using TwinPS.Protocol;

namespace TwinPS.Commands;

/// <summary>The twin cmdlets: a <see cref="HubCmdlet"/> counting twins, with the <c>-ThrottleLimit</c> bounds.</summary>
public abstract class TwinCommandBase : HubCmdlet
{
    /// <summary>Default number of concurrent requests.</summary>
    public const int DefaultThrottleLimit = 8;

    /// <summary>Largest allowed -ThrottleLimit.</summary>
    public const int MaxThrottleLimit = 64;

    /// <inheritdoc/>
    internal override ThrottleClass ReportedThrottleClass => ThrottleClass.TwinUpdate;

    /// <inheritdoc/>
    internal override string ReportedNoun => "twins";

    /// <summary>Empty module ids (e.g. from a device twin piped by property name) mean "device twin".</summary>
    internal static string? NormalizeModuleId(string? moduleId) => string.IsNullOrEmpty(moduleId) ? null : moduleId;
}
