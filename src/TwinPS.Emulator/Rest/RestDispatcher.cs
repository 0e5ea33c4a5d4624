using System.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using TwinPS.Emulator.Domain;
using TwinPS.Emulator.Jobs;
using TwinPS.Emulator.Methods;
using TwinPS.Emulator.Limits;
using TwinPS.Emulator.Security;
using TwinPS.Emulator.Storage;
using TwinPS.Protocol;

namespace TwinPS.Emulator.Rest;

/// <summary>
/// The REST front door: counts the request, checks api-version, authenticates the caller (a SAS token or a bearer
/// token), routes, checks the caller's rights in the one table (<see cref="HubOperations"/>) and maps every failure to
/// the hub's classic error envelope. Never lets an exception escape.
/// </summary>
internal sealed partial class RestDispatcher(
    RequestAuthenticator authenticator,
    RequestStatistics statistics,
    DeviceTable devices,
    HubRegistry registry,
    HubTwins twins,
    WriteCounts writes,
    HubStore store,
    QueryContinuation continuation,
    DeviceMethodBroker methodBroker,
    JobService jobs,
    HubThrottle throttle,
    FaultInjector faults,
    EntraTokenIssuer tokenIssuer,
    ILogger<RestDispatcher> logger)
{
    private readonly DeviceHandlers _devices = new(devices, registry, throttle);
    private readonly TwinHandlers _twins = new(devices, twins);
    private readonly QueryHandler _query = new(devices, continuation, jobs);
    private readonly JobsHandler _jobs = new(jobs, continuation);
    private readonly MethodHandler _methods = new(devices, methodBroker);
    private readonly TokenEndpoint _tokens = new(tokenIssuer);

    public async Task HandleAsync(HttpContext context)
    {
        statistics.CountRequest();
        long started = Stopwatch.GetTimestamp();
        FaultKind? fault = null;
        Stream answer = context.Response.Body;
        try
        {
            fault = faults.IsEnabled && !IsTestSupportPath(context) ? faults.Decide(IsWrite(context.Request) ? FaultSite.RestWrite : FaultSite.RestRead) : null;
            if (fault is not null && await InjectBeforeAsync(context, fault.Value).ConfigureAwait(false)) return;
            await DispatchAsync(context).ConfigureAwait(false);
        }
        catch (MethodCallException ex)
        {
            await HttpJson.WriteNestedErrorAsync(context, ex.Code, ex.Message, ex.Info).ConfigureAwait(false);
        }
        catch (IoTHubProtocolException ex)
        {
            await HttpJson.WriteErrorAsync(context, ex.Code, ex.Message).ConfigureAwait(false);
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            await HttpJson.WriteErrorAsync(context, IoTHubErrorCode.MessageTooLarge, "The request body is too large.").ConfigureAwait(false);
        }
        catch (BadHttpRequestException)
        {
            await HttpJson.WriteErrorAsync(context, IoTHubErrorCode.GenericBadRequest, "The request could not be read.").ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client went away; nothing to answer.
        }
#pragma warning disable CA1031 // last line of defence: a bug must answer 500, never crash the emulator
        catch (Exception ex)
#pragma warning restore CA1031
        {
            LogUnhandled(logger, ex, context.Request.Method, SafePath(context));
            await HttpJson.WriteErrorAsync(context, IoTHubErrorCode.ServerError, "The emulator hit an internal error.").ConfigureAwait(false);
        }

        if (fault == FaultKind.ServiceUnavailableAfterCommit)
        {
            // The request was processed (and committed when valid); its own answer is replaced by a 503.
            LogFault(logger, fault.Value, context.Request.Method, SafePath(context));
            context.Response.Body = answer;
            await HttpJson.WriteErrorAsync(context, IoTHubErrorCode.ServiceUnavailable, "The service is temporarily unavailable (injected fault). Try again later.").ConfigureAwait(false);
        }
        else if (fault == FaultKind.ResetAfterCommit)
        {
            // The request was processed (and committed when valid); its answer is thrown away with the connection.
            LogFault(logger, fault.Value, context.Request.Method, SafePath(context));
            context.Abort();
            return;
        }

        statistics.CountResponse(context.Response.StatusCode);
        if (logger.IsEnabled(LogLevel.Debug))
            LogRequest(logger, context.Request.Method, SafePath(context), context.Response.StatusCode, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
    }

    private async Task DispatchAsync(HttpContext context)
    {
        HttpRequest request = context.Request;
        string[] segments = PathSegments(context);

        string? apiVersion = request.Query[IoTHubApiVersion.QueryParameter];
        if (string.IsNullOrEmpty(apiVersion))
            throw new IoTHubProtocolException(IoTHubErrorCode.InvalidProtocolVersion, "The api-version query parameter is missing.");
        if (!IoTHubApiVersion.Accepted.Contains(apiVersion))
            throw new IoTHubProtocolException(IoTHubErrorCode.InvalidProtocolVersion, $"The api-version '{Shorten(apiVersion)}' is not supported.");

        HubCaller caller = await authenticator.AuthenticateAsync(request.Headers.Authorization).ConfigureAwait(false);
        string method = request.Method;
        RestRoute? route = FindRoute(segments, method, out bool knownPath, out string[] values);
        if (route is null)
        {
            if (knownPath)
                throw new IoTHubProtocolException(IoTHubErrorCode.GenericMethodNotAllowed, $"The method {Shorten(method)} is not allowed on this resource.");
            throw new IoTHubProtocolException(IoTHubErrorCode.GenericNotFound, "The emulator does not implement this operation.");
        }

        if (throttle.IsEnabled && route.Throttle is ThrottleClass throttleClass)
            await throttle.EnsureAsync(throttleClass, 1, context.RequestAborted).ConfigureAwait(false);
        route.Guard?.Invoke(context);
        RequestAuthenticator.Demand(caller, route.Operation);
        await route.Handler(this, context, values).ConfigureAwait(false);
    }

    /// <summary><c>GET /statistics/devices</c> (registry counts) and <c>GET /statistics/service</c> (connected devices).</summary>
    private Task WriteStatisticsAsync(HttpContext context, bool registry)
    {
        RegistryCounts counts = devices.GetCounts();
        (string Name, long Value)[] fields = registry
            ? [("totalDeviceCount", counts.Total), ("enabledDeviceCount", counts.Enabled), ("disabledDeviceCount", counts.Disabled)]
            : [("connectedDeviceCount", counts.Connected)];
        return HttpJson.WriteAsync(context, 200, w =>
        {
            w.WriteStartObject();
            foreach ((string name, long value) in fields) w.WriteNumber(name, value);
            w.WriteEndObject();
        });
    }

    private async Task InvokeMethodAsync(HttpContext context, string deviceId, string? moduleId)
    {
        try
        {
            DirectMethodRequest request = await MethodHandler.ReadRequestAsync(context).ConfigureAwait(false);

            // Metered in 4 KB units of request payload (reference §3.1); an empty payload costs one.
            await throttle.EnsureAsync(ThrottleClass.Method, request.ThrottleUnits, context.RequestAborted).ConfigureAwait(false);
            await _methods.InvokeAsync(context, deviceId, moduleId, request).ConfigureAwait(false);
        }
        catch (IoTHubProtocolException ex) when (ex is not MethodCallException && ex.HttpStatus != StatusCodes.Status429TooManyRequests)
        {
            throw MethodCallException.From(ex);
        }
    }

    private Task WriteStatsAsync(HttpContext context) => HttpJson.WriteAsync(context, 200, w =>
    {
        RegistryCounts counts = devices.GetCounts();
        w.WriteStartObject();
        w.WriteNumber("requests", statistics.Requests);
        w.WriteNumber("rejected", statistics.Rejected);
        w.WriteNumber("serverErrors", statistics.ServerErrors);
        w.WriteNumber("devices", counts.Total);
        w.WriteNumber("modules", counts.Modules);
        w.WriteNumber("storeTransactions", store.TransactionCount);
        w.WriteStartObject("writesApplied");
        w.WriteNumber("twin", writes.Applied(WriteKind.Twin));
        w.WriteNumber("reported", writes.Applied(WriteKind.Reported));
        w.WriteNumber("registry", writes.Applied(WriteKind.Registry));
        w.WriteEndObject();
        w.WritePropertyName("throttled");
        throttle.WriteStatistics(w);
        w.WritePropertyName("faults");
        faults.WriteStatistics(w);
        w.WriteEndObject();
    });

    /// <summary>Applies a fault that acts before processing; true when the request is finished (answered or reset).</summary>
    private async Task<bool> InjectBeforeAsync(HttpContext context, FaultKind fault)
    {
        if (fault is not (FaultKind.SlowResponse or FaultKind.ServiceUnavailableAfterCommit)) LogFault(logger, fault, context.Request.Method, SafePath(context));
        switch (fault)
        {
            case FaultKind.ServiceUnavailable:
                await HttpJson.WriteErrorAsync(context, IoTHubErrorCode.ServiceUnavailable, "The service is temporarily unavailable (injected fault). Try again later.").ConfigureAwait(false);
                statistics.CountResponse(context.Response.StatusCode);
                return true;
            case FaultKind.ServerError:
                await HttpJson.WriteErrorAsync(context, IoTHubErrorCode.ServerError, "The service encountered an internal error (injected fault).").ConfigureAwait(false);
                statistics.CountResponse(context.Response.StatusCode);
                return true;
            case FaultKind.ResetBeforeProcessing:
                context.Abort();
                return true;
            case FaultKind.SlowResponse:
                await Task.Delay(faults.Settings.SlowDelay, context.RequestAborted).ConfigureAwait(false);
                return false;
            case FaultKind.ResetAfterCommit:
            case FaultKind.ServiceUnavailableAfterCommit:
                // Nothing the handler writes may reach the client: the connection is reset, or a 503 is written, once it is done.
                context.Response.Body = Stream.Null;
                return false;
            default:
                return false;
        }
    }

    private static bool IsWrite(HttpRequest request) =>
        request.Method is "PUT" or "PATCH" or "DELETE"
        || (request.Method == "POST" && !(request.Path.Value ?? string.Empty).EndsWith("/query", StringComparison.OrdinalIgnoreCase));

    /// <summary>The emulator's own test-support routes (<c>/$twinps/…</c>): never faulted.</summary>
    private static bool IsTestSupportPath(HttpContext context)
    {
        string raw = context.Features.Get<IHttpRequestFeature>()?.RawTarget ?? context.Request.Path.Value ?? "/";
        return raw.StartsWith("/$twinps/", StringComparison.OrdinalIgnoreCase) || raw.StartsWith("/%24twinps/", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>The path's segments, each percent-decoded exactly once (from the raw request target).</summary>
    private static string[] PathSegments(HttpContext context)
    {
        string raw = context.Features.Get<IHttpRequestFeature>()?.RawTarget ?? context.Request.Path.Value ?? "/";
        int q = raw.IndexOf('?', StringComparison.Ordinal);
        if (q >= 0) raw = raw[..q];
        string[] parts = raw.Trim('/').Split('/');
        for (int i = 0; i < parts.Length; i++)
        {
            try
            {
                parts[i] = Uri.UnescapeDataString(parts[i]);
            }
            catch (UriFormatException)
            {
                throw new IoTHubProtocolException(IoTHubErrorCode.ArgumentInvalid, "The request path is not valid URL encoding.");
            }
        }

        return parts;
    }

    /// <summary>The path without the query string (which could carry secrets), for logs.</summary>
    private static string SafePath(HttpContext context) => Shorten(context.Request.Path.Value ?? "/");

    private static string Shorten(string value) => value.Length > 200 ? value[..200] + "…" : value;

    [LoggerMessage(Level = LogLevel.Debug, Message = "{Method} {Path} -> {Status} in {Milliseconds:F1} ms")]
    private static partial void LogRequest(ILogger logger, string method, string path, int status, double milliseconds);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Injected fault {Fault} on {Method} {Path}")]
    private static partial void LogFault(ILogger logger, FaultKind fault, string method, string path);

    [LoggerMessage(Level = LogLevel.Error, Message = "Unhandled exception on {Method} {Path}; answered 500")]
    private static partial void LogUnhandled(ILogger logger, Exception exception, string method, string path);
}
