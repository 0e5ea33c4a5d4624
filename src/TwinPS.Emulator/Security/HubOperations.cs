namespace TwinPS.Emulator.Security;

/// <summary>
/// Every operation the REST endpoint serves. It is the one key for "who may do this": the SAS rights below, and any
/// other authorization (Microsoft Entra roles) maps onto the same operations. Add a member here, a row in
/// <see cref="HubOperations.Rights"/>, and <c>Demand(policy, HubOperation.X)</c> in the route.
/// </summary>
internal enum HubOperation
{
    /// <summary><c>GET /devices/{id}</c>.</summary>
    ReadDevice,

    /// <summary><c>GET /devices</c>.</summary>
    ListDevices,

    /// <summary><c>PUT /devices/{id}</c>.</summary>
    WriteDevice,

    /// <summary><c>DELETE /devices/{id}</c>.</summary>
    DeleteDevice,

    /// <summary>Bulk <c>POST /devices</c>.</summary>
    BulkRegistry,

    /// <summary><c>GET /devices/{id}/modules/{mid}</c>.</summary>
    ReadModule,

    /// <summary><c>GET /devices/{id}/modules</c>.</summary>
    ListModules,

    /// <summary><c>PUT /devices/{id}/modules/{mid}</c>.</summary>
    WriteModule,

    /// <summary><c>DELETE /devices/{id}/modules/{mid}</c>.</summary>
    DeleteModule,

    /// <summary><c>GET /twins/{id}</c> and the module form.</summary>
    ReadTwin,

    /// <summary><c>PATCH</c>/<c>PUT /twins/{id}</c> and the module forms.</summary>
    WriteTwin,

    /// <summary><c>POST /devices/query</c> (twins, modules, <c>devices.jobs</c>).</summary>
    QueryTwins,

    /// <summary><c>GET /statistics/devices</c>.</summary>
    RegistryStatistics,

    /// <summary><c>GET /statistics/service</c>.</summary>
    ServiceStatistics,

    /// <summary><c>POST /twins/{id}/methods</c> and the module form.</summary>
    InvokeMethod,

    /// <summary><c>PUT /jobs/v2/{id}</c>.</summary>
    CreateJob,

    /// <summary><c>GET /jobs/v2/{id}</c>.</summary>
    ReadJob,

    /// <summary><c>POST /jobs/v2/{id}/cancel</c>.</summary>
    CancelJob,

    /// <summary><c>GET /jobs/v2/query</c>.</summary>
    QueryJobs,

    /// <summary><c>GET /$twinps/stats</c> (the emulator's test-support counters; not an IoT Hub API).</summary>
    EmulatorStatistics,
}

/// <summary>
/// The shared access rights each operation needs: ONE table, consulted by every route. The evidence for each row is
/// in docs/emulator-fidelity.md ("Rights per operation").
/// </summary>
internal static class HubOperations
{
    private const AccessRights All = AccessRights.RegistryRead | AccessRights.RegistryWrite | AccessRights.ServiceConnect | AccessRights.DeviceConnect;

    /// <summary>Operation → the rights a policy must hold (all of them).</summary>
    public static readonly IReadOnlyDictionary<HubOperation, AccessRights> Rights = new Dictionary<HubOperation, AccessRights>
    {
        [HubOperation.ReadDevice] = AccessRights.RegistryRead,
        [HubOperation.ListDevices] = AccessRights.RegistryRead,
        [HubOperation.WriteDevice] = AccessRights.RegistryWrite,
        [HubOperation.DeleteDevice] = AccessRights.RegistryWrite,
        [HubOperation.BulkRegistry] = AccessRights.RegistryWrite,
        [HubOperation.ReadModule] = AccessRights.RegistryRead,
        [HubOperation.ListModules] = AccessRights.RegistryRead,
        [HubOperation.WriteModule] = AccessRights.RegistryWrite,
        [HubOperation.DeleteModule] = AccessRights.RegistryWrite,
        [HubOperation.ReadTwin] = AccessRights.ServiceConnect,
        [HubOperation.WriteTwin] = AccessRights.ServiceConnect,
        [HubOperation.QueryTwins] = AccessRights.RegistryRead,
        [HubOperation.RegistryStatistics] = AccessRights.RegistryRead,
        [HubOperation.ServiceStatistics] = AccessRights.ServiceConnect,
        [HubOperation.InvokeMethod] = AccessRights.ServiceConnect,
        [HubOperation.CreateJob] = AccessRights.ServiceConnect,
        [HubOperation.ReadJob] = AccessRights.ServiceConnect,
        [HubOperation.CancelJob] = AccessRights.ServiceConnect,
        [HubOperation.QueryJobs] = AccessRights.ServiceConnect,
        [HubOperation.EmulatorStatistics] = All,
    };

    /// <summary>The rights <paramref name="operation"/> needs; every operation has a row (a missing one is a bug and throws).</summary>
    public static AccessRights RequiredRights(HubOperation operation) =>
        Rights.TryGetValue(operation, out AccessRights rights)
            ? rights
            : throw new InvalidOperationException($"No rights are defined for the operation {operation}.");
}
