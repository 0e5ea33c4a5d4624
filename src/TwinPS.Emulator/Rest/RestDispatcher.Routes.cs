using TwinPS.Emulator.Security;
using TwinPS.Protocol;

namespace TwinPS.Emulator.Rest;

/// <summary>The route table: every operation the REST endpoint serves, once.</summary>
internal sealed partial class RestDispatcher
{
    /// <summary>
    /// Matched in order: the first route with the path's shape and the request's method wins, so a literal segment
    /// (<c>devices/query</c>) is listed before the pattern it would also fit (<c>devices/{id}</c>). A path some route has
    /// but not with this method is 405; any other path is 404. Not charged here: a bulk <c>POST /devices</c> (per entry,
    /// by its handler), direct methods (by payload size, in <see cref="InvokeMethodAsync"/>), per-device job work (by
    /// the job runner).
    /// </summary>
    internal static readonly IReadOnlyList<RestRoute> Routes =
    [
        new("GET", "$twinps/stats", HubOperation.EmulatorStatistics, null, static (d, c, _) => d.WriteStatsAsync(c)),
        new("POST", "$twinps/token", HubOperation.IssueEmulatorToken, null, static (d, c, _) => d._tokens.IssueAsync(c), TokenEndpoint.EnsureLoopback),

        new("POST", "devices", HubOperation.BulkRegistry, null, static (d, c, _) => d._devices.BulkAsync(c)),
        new("GET", "devices", HubOperation.ListDevices, ThrottleClass.Registry, static (d, c, _) => d._devices.ListDevicesAsync(c)),
        new("POST", "devices/query", HubOperation.QueryTwins, ThrottleClass.Query, static (d, c, _) => d._query.QueryAsync(c)),
        new("GET", "devices/{id}", HubOperation.ReadDevice, ThrottleClass.Registry, static (d, c, v) => d._devices.GetDeviceAsync(c, v[0])),
        new("PUT", "devices/{id}", HubOperation.WriteDevice, ThrottleClass.Registry, static (d, c, v) => d._devices.PutDeviceAsync(c, v[0])),
        new("DELETE", "devices/{id}", HubOperation.DeleteDevice, ThrottleClass.Registry, static (d, c, v) => d._devices.DeleteDeviceAsync(c, v[0])),
        new("GET", "devices/{id}/modules", HubOperation.ListModules, ThrottleClass.Registry, static (d, c, v) => d._devices.ListModulesAsync(c, v[0])),
        new("GET", "devices/{id}/modules/{moduleId}", HubOperation.ReadModule, ThrottleClass.Registry, static (d, c, v) => d._devices.GetModuleAsync(c, v[0], v[1])),
        new("PUT", "devices/{id}/modules/{moduleId}", HubOperation.WriteModule, ThrottleClass.Registry, static (d, c, v) => d._devices.PutModuleAsync(c, v[0], v[1])),
        new("DELETE", "devices/{id}/modules/{moduleId}", HubOperation.DeleteModule, ThrottleClass.Registry, static (d, c, v) => d._devices.DeleteModuleAsync(c, v[0], v[1])),

        new("GET", "twins/{id}", HubOperation.ReadTwin, ThrottleClass.TwinRead, static (d, c, v) => d._twins.GetAsync(c, v[0], null)),
        new("PATCH", "twins/{id}", HubOperation.WriteTwin, ThrottleClass.TwinUpdate, static (d, c, v) => d._twins.UpdateAsync(c, v[0], null, replace: false)),
        new("PUT", "twins/{id}", HubOperation.WriteTwin, ThrottleClass.TwinUpdate, static (d, c, v) => d._twins.UpdateAsync(c, v[0], null, replace: true)),
        new("GET", "twins/{id}/modules/{moduleId}", HubOperation.ReadTwin, ThrottleClass.TwinRead, static (d, c, v) => d._twins.GetAsync(c, v[0], v[1])),
        new("PATCH", "twins/{id}/modules/{moduleId}", HubOperation.WriteTwin, ThrottleClass.TwinUpdate, static (d, c, v) => d._twins.UpdateAsync(c, v[0], v[1], replace: false)),
        new("PUT", "twins/{id}/modules/{moduleId}", HubOperation.WriteTwin, ThrottleClass.TwinUpdate, static (d, c, v) => d._twins.UpdateAsync(c, v[0], v[1], replace: true)),
        new("POST", "twins/{id}/methods", HubOperation.InvokeMethod, null, static (d, c, v) => d.InvokeMethodAsync(c, v[0], null)),
        new("POST", "twins/{id}/modules/{moduleId}/methods", HubOperation.InvokeMethod, null, static (d, c, v) => d.InvokeMethodAsync(c, v[0], v[1])),

        new("GET", "jobs/v2/query", HubOperation.QueryJobs, ThrottleClass.JobOperation, static (d, c, _) => d._jobs.QueryAsync(c)),
        new("PUT", "jobs/v2/{jobId}", HubOperation.CreateJob, ThrottleClass.JobOperation, static (d, c, v) => d._jobs.CreateAsync(c, v[0])),
        new("GET", "jobs/v2/{jobId}", HubOperation.ReadJob, ThrottleClass.JobOperation, static (d, c, v) => d._jobs.GetAsync(c, v[0])),
        new("POST", "jobs/v2/{jobId}/cancel", HubOperation.CancelJob, ThrottleClass.JobOperation, static (d, c, v) => d._jobs.CancelAsync(c, v[0])),

        new("GET", "statistics/devices", HubOperation.RegistryStatistics, null, static (d, c, _) => d.WriteStatisticsAsync(c, registry: true)),
        new("GET", "statistics/service", HubOperation.ServiceStatistics, null, static (d, c, _) => d.WriteStatisticsAsync(c, registry: false)),
    ];

    /// <summary>The route for <paramref name="method"/> on <paramref name="path"/>; <paramref name="knownPath"/> says whether any route has the path.</summary>
    internal static RestRoute? FindRoute(string[] path, string method, out bool knownPath, out string[] values)
    {
        knownPath = false;
        values = [];
        foreach (RestRoute route in Routes)
        {
            if (!route.Matches(path, out string[] captured))
            {
                continue;
            }

            knownPath = true;
            if (string.Equals(route.Method, method, StringComparison.Ordinal))
            {
                values = captured;
                return route;
            }
        }

        return null;
    }
}
