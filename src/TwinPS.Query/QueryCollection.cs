using System.Diagnostics.CodeAnalysis;

namespace TwinPS.Query;

/// <summary>The collection named in a query's FROM clause.</summary>
[SuppressMessage("Naming", "CA1711:Identifiers should not have incorrect suffix", Justification = "It names the query's FROM collection; the name is the shared contract.")]
public enum QueryCollection
{
    /// <summary><c>FROM devices</c>: device twins.</summary>
    Devices,

    /// <summary><c>FROM devices.modules</c>: module twins.</summary>
    Modules,

    /// <summary><c>FROM devices.jobs</c>: per-device job records.</summary>
    Jobs,
}
