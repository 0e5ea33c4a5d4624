namespace TwinPS.Emulator.Security;

/// <summary>
/// Every operation the REST endpoint serves. It is the one key for "who may do this": a shared access policy needs the
/// row's rights, a Microsoft Entra principal (bearer token) needs a role granting each of the row's data actions. Add a
/// member here, a row in <see cref="HubOperations.Table"/>, and <c>Demand(caller, HubOperation.X)</c> in the route.
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

    /// <summary><c>POST /$twinps/token</c> (the emulator's test token issuer, a stand-in for Entra ID; not an IoT Hub API).</summary>
    IssueEmulatorToken,
}

/// <summary>
/// Who may run an operation: the shared access rights a policy must hold (all of them), and the IoT Hub data actions
/// (Azure RBAC, <c>Microsoft.Devices/IotHubs/…</c>) a Microsoft Entra principal's roles must grant (every one of them).
/// No data action means bearer tokens are never accepted for the operation.
/// </summary>
internal sealed record OperationRule(AccessRights Rights, IReadOnlyList<string> DataActions);

/// <summary>
/// The rights and data actions each operation needs: ONE table, consulted by every route for every caller. The
/// evidence for each row is in docs/emulator-fidelity.md ("Rights per operation", "Microsoft Entra ID").
/// </summary>
internal static class HubOperations
{
    /// <summary>The prefix of every IoT Hub data action.</summary>
    public const string DataActionPrefix = "Microsoft.Devices/IotHubs/";

    private const AccessRights All = AccessRights.RegistryRead | AccessRights.RegistryWrite | AccessRights.ServiceConnect | AccessRights.DeviceConnect;
    private const string DevicesRead = DataActionPrefix + "devices/read";
    private const string DevicesWrite = DataActionPrefix + "devices/write";
    private const string DevicesDelete = DataActionPrefix + "devices/delete";
    private const string TwinsRead = DataActionPrefix + "twins/read";
    private const string TwinsWrite = DataActionPrefix + "twins/write";
    private const string StatisticsRead = DataActionPrefix + "statistics/read";
    private const string InvokeDirectMethod = DataActionPrefix + "directMethods/invoke/action";
    private const string JobsRead = DataActionPrefix + "jobs/read";
    private const string JobsWrite = DataActionPrefix + "jobs/write";

    /// <summary>Operation → the rights a policy must hold and the data actions a principal's roles must grant.</summary>
    public static readonly IReadOnlyDictionary<HubOperation, OperationRule> Table = new Dictionary<HubOperation, OperationRule>
    {
        [HubOperation.ReadDevice] = Rule(AccessRights.RegistryRead, DevicesRead),
        [HubOperation.ListDevices] = Rule(AccessRights.RegistryRead, DevicesRead),
        [HubOperation.WriteDevice] = Rule(AccessRights.RegistryWrite, DevicesWrite),
        [HubOperation.DeleteDevice] = Rule(AccessRights.RegistryWrite, DevicesDelete),
        [HubOperation.BulkRegistry] = Rule(AccessRights.RegistryWrite, DevicesWrite, DevicesDelete),
        [HubOperation.ReadModule] = Rule(AccessRights.RegistryRead, DevicesRead),
        [HubOperation.ListModules] = Rule(AccessRights.RegistryRead, DevicesRead),
        [HubOperation.WriteModule] = Rule(AccessRights.RegistryWrite, DevicesWrite),
        [HubOperation.DeleteModule] = Rule(AccessRights.RegistryWrite, DevicesDelete),
        [HubOperation.ReadTwin] = Rule(AccessRights.ServiceConnect, TwinsRead),
        [HubOperation.WriteTwin] = Rule(AccessRights.ServiceConnect, TwinsWrite),
        [HubOperation.QueryTwins] = Rule(AccessRights.RegistryRead, TwinsRead),
        [HubOperation.RegistryStatistics] = Rule(AccessRights.RegistryRead, StatisticsRead),
        [HubOperation.ServiceStatistics] = Rule(AccessRights.ServiceConnect, StatisticsRead),
        [HubOperation.InvokeMethod] = Rule(AccessRights.ServiceConnect, InvokeDirectMethod),
        [HubOperation.CreateJob] = Rule(AccessRights.ServiceConnect, JobsWrite),
        [HubOperation.ReadJob] = Rule(AccessRights.ServiceConnect, JobsRead),
        [HubOperation.CancelJob] = Rule(AccessRights.ServiceConnect, JobsWrite),
        [HubOperation.QueryJobs] = Rule(AccessRights.ServiceConnect, JobsRead),
        [HubOperation.EmulatorStatistics] = Rule(All),
        [HubOperation.IssueEmulatorToken] = Rule(All),
    };

    /// <summary>The rule of <paramref name="operation"/>; every operation has a row (a missing one is a bug and throws).</summary>
    public static OperationRule RuleOf(HubOperation operation) =>
        Table.TryGetValue(operation, out OperationRule? rule)
            ? rule
            : throw new InvalidOperationException($"No rights are defined for the operation {operation}.");

    /// <summary>The rights <paramref name="operation"/> needs from a shared access policy.</summary>
    public static AccessRights RequiredRights(HubOperation operation) => RuleOf(operation).Rights;

    private static OperationRule Rule(AccessRights rights, params string[] dataActions) => new(rights, dataActions);
}
