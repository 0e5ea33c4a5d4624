using System.Globalization;
using System.Net.Http;
using System.Text.Json;
using System.Text.Json.Nodes;
using Azure;
using Azure.Core;
using Azure.Core.Pipeline;
using TwinPS.Client.Http;
using TwinPS.Client.Resilience;
using TwinPS.Protocol;

namespace TwinPS.Client;

/// <summary>
/// IoT Hub service (backend) REST client on Azure.Core: twins, module twins, query paging, device identities, bulk registry,
/// statistics. SAS (from a service connection string) or Microsoft Entra ID auth; retries of 429/500/503/504 and network
/// failures with exponential back-off and jitter. Thread-safe: one instance serves many concurrent calls.
/// </summary>
public sealed partial class IoTHubServiceClient : IDisposable
{
    /// <summary>The service API version sent with every request.</summary>
    public const string ApiVersion = IoTHubApiVersion.Current;

    /// <summary>The Microsoft Entra ID scope of IoT Hub data-plane tokens.</summary>
    public const string EntraScope = "https://iothubs.azure.net/.default";

    private const string JsonContentType = "application/json; charset=utf-8";

    private readonly HttpPipeline _pipeline;
    private readonly HubResilience _resilience;
    private readonly Uri _endpoint;
    private readonly HttpClientTransport? _ownedTransport;
    private readonly SocketsHttpHandler? _ownedHandler;
    private int _disposed;

    /// <summary>A client that signs with a service (shared access policy) connection string.</summary>
    /// <exception cref="ArgumentException">A device or module connection string, or one without a key or token.</exception>
    public IoTHubServiceClient(IoTHubConnectionString connectionString, IoTHubServiceClientOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(connectionString);
        if (connectionString.Kind != IoTHubConnectionKind.Service)
        {
            throw new ArgumentException(
                $"This is a {connectionString.Kind.ToString().ToLowerInvariant()} connection string; the service client needs a service connection string (HostName=…;SharedAccessKeyName=…;SharedAccessKey=…) of a shared access policy such as 'iothubowner' or 'service'.",
                nameof(connectionString));
        }

        if (connectionString.SharedAccessKey is null && connectionString.SharedAccessSignature is null)
        {
            throw new ArgumentException("The service connection string has neither a SharedAccessKey nor a SharedAccessSignature.", nameof(connectionString));
        }

        options ??= new IoTHubServiceClientOptions();
        HostName = connectionString.HostName;
        PolicyName = connectionString.SharedAccessKeyName;
        _endpoint = BuildEndpoint(connectionString.Host, connectionString.Port);
        var auth = new SasAuthenticationPolicy(connectionString, options.SasTokenTimeToLive, options.SasTokenRenewalMargin);
        ValidateRetryOptions(options);
        _resilience = new HubResilience(options.AdaptiveRate);
        RetryTimeout = options.RetryTimeout;
        _pipeline = BuildPipeline(options, auth, _resilience, out _ownedTransport, out _ownedHandler);
    }

    /// <summary>A client that authenticates with Microsoft Entra ID (scope <see cref="EntraScope"/>).</summary>
    /// <param name="hostName">The hub's host name, e.g. <c>myhub.azure-devices.net</c>, optionally with <c>:port</c>.</param>
    /// <param name="credential">Any Azure.Identity credential, e.g. <c>DefaultAzureCredential</c>.</param>
    /// <param name="options">Options.</param>
    public IoTHubServiceClient(string hostName, TokenCredential credential, IoTHubServiceClientOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(hostName);
        ArgumentNullException.ThrowIfNull(credential);
        if (hostName.Contains("://", StringComparison.Ordinal) || hostName.Any(c => c is '/' or ';' or '?' or '#' || char.IsWhiteSpace(c)))
        {
            throw new ArgumentException($"'{hostName}' is not a host name; give the bare host name, e.g. 'myhub.azure-devices.net'.", nameof(hostName));
        }

        options ??= new IoTHubServiceClientOptions();
        HostName = hostName;
        var (host, port) = SplitHostPort(hostName);
        _endpoint = BuildEndpoint(host, port);
        var auth = new BearerTokenAuthenticationPolicy(credential, EntraScope);
        ValidateRetryOptions(options);
        _resilience = new HubResilience(options.AdaptiveRate);
        RetryTimeout = options.RetryTimeout;
        _pipeline = BuildPipeline(options, auth, _resilience, out _ownedTransport, out _ownedHandler);
    }

    /// <summary>The hub's host name as given (may carry a port).</summary>
    public string HostName { get; }

    /// <summary>The shared access policy name for SAS clients; null for Entra ID.</summary>
    public string? PolicyName { get; }

    /// <summary>The base address requests go to (<c>https://host[:port]/</c>).</summary>
    public Uri Endpoint => _endpoint;

    /// <summary>The time budget of one request's retries (<see cref="IoTHubServiceClientOptions.RetryTimeout"/>).</summary>
    public TimeSpan RetryTimeout { get; }

    /// <summary>What this connection has learned about the hub's throttles, and its retry and rate events.</summary>
    public HubResilience Resilience => _resilience;

    /// <summary>The <c>User-Agent</c> this client sends.</summary>
    public static string UserAgent => UserAgentPolicy.Value;

    /// <summary>Releases the client's connections.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _ownedTransport?.Dispose();
            _ownedHandler?.Dispose();
            _resilience.Dispose();
        }
    }

    /// <summary>
    /// Checks that the hub answers and accepts the credentials with one cheap read (a twin, then a device identity, of an
    /// id that does not exist: 404 means success). Throws <see cref="IoTHubServiceException"/> (e.g. 401) otherwise.
    /// </summary>
    public async Task VerifyConnectionAsync(CancellationToken cancellationToken = default)
    {
        const string probeId = "twinps-connection-probe";
        try
        {
            using var _ = await SendAsync(RequestMethod.Get, "/twins/" + Escape(probeId), null, null, null, cancellationToken).ConfigureAwait(false);
        }
        catch (IoTHubServiceException ex) when (ex.Status == 404)
        {
            return;
        }
        catch (IoTHubServiceException ex) when (ex.Status is 401 or 403)
        {
            // A registry-only policy (registryRead) cannot read twins; try the identity registry before giving up.
            try
            {
                using var _ = await SendAsync(RequestMethod.Get, "/devices/" + Escape(probeId), null, null, null, cancellationToken).ConfigureAwait(false);
            }
            catch (IoTHubServiceException inner) when (inner.Status == 404)
            {
                return;
            }
            catch (IoTHubServiceException)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(ex);
            }
        }
    }

    private static void ValidateRetryOptions(IoTHubServiceClientOptions options)
    {
        if (options.RetryTimeout < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.RetryTimeout, "RetryTimeout must not be negative.");
        }

        if (options.ThrottleRetryDelay < TimeSpan.Zero || options.ThrottleMaxRetryDelay < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(options), "ThrottleRetryDelay and ThrottleMaxRetryDelay must not be negative.");
        }
    }

    private static HttpPipeline BuildPipeline(IoTHubServiceClientOptions options, HttpPipelinePolicy auth, HubResilience resilience, out HttpClientTransport? ownedTransport, out SocketsHttpHandler? ownedHandler)
    {
        ownedTransport = null;
        ownedHandler = null;
        var callerTransport = options.Transport;
        var callerChoseTransport = !ReferenceEquals(callerTransport, HttpClientTransport.Shared);
        var wantsExtraCa = options.TrustedCACertificate is not null || !string.IsNullOrWhiteSpace(options.TrustedCACertificatePath);
        if (callerChoseTransport && wantsExtraCa)
        {
            throw new ArgumentException("Set either a custom Transport or a trusted CA certificate, not both.", nameof(options));
        }

        if (!callerChoseTransport)
        {
            ownedTransport = TransportFactory.Create(options, out var handler);
            ownedHandler = handler;
        }

        // The User-Agent is ours (TwinPS/<version>); Azure.Core's telemetry header would replace it.
        options.Diagnostics.IsTelemetryEnabled = false;
        // Bodies carry device keys: never log them, whatever the caller set.
        options.Diagnostics.IsLoggingContentEnabled = false;
        foreach (var name in options.Diagnostics.LoggedHeaderNames.Where(IsSecretHeader).ToList())
        {
            options.Diagnostics.LoggedHeaderNames.Remove(name);
        }

        foreach (var header in new[] { "x-ms-continuation", "x-ms-max-item-count", "x-ms-item-type", "iothub-errorcode", "If-Match", "ETag" })
        {
            options.Diagnostics.LoggedHeaderNames.Add(header);
        }

        options.Diagnostics.LoggedQueryParameters.Add(IoTHubApiVersion.QueryParameter);

        // The pipeline keeps this client's own transport and retry policy; the caller's options object is left as it was.
        var callerRetryPolicy = options.RetryPolicy;
        options.Transport = ownedTransport ?? callerTransport;
        options.RetryPolicy = callerRetryPolicy ?? new IoTHubRetryPolicy(options, resilience);
        HttpPipelinePolicy[] perRetry = options.AdaptiveRate ? [new AdaptiveRatePolicy(resilience), auth] : [auth];
        try
        {
            return HttpPipelineBuilder.Build(
                options,
                perCallPolicies: [new UserAgentPolicy()],
                perRetryPolicies: perRetry,
                responseClassifier: new IoTHubResponseClassifier());
        }
        finally
        {
            options.Transport = callerTransport;
            options.RetryPolicy = callerRetryPolicy;
        }
    }

    private static bool IsSecretHeader(string name) =>
        string.Equals(name, "Authorization", StringComparison.OrdinalIgnoreCase)
        || string.Equals(name, "Proxy-Authorization", StringComparison.OrdinalIgnoreCase);

    private static Uri BuildEndpoint(string host, int? port) =>
        new UriBuilder(Uri.UriSchemeHttps, host, port ?? 443).Uri;

    private static (string Host, int? Port) SplitHostPort(string hostName)
    {
        var colon = hostName.LastIndexOf(':');
        if (colon < 0 || hostName.EndsWith(']'))
        {
            return (hostName, null);
        }

        if (!int.TryParse(hostName.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535)
        {
            throw new ArgumentException($"The port in '{hostName}' must be a number from 1 to 65535.", nameof(hostName));
        }

        return (hostName[..colon], port);
    }

    /// <summary>URL-encodes one path segment (device/module id).</summary>
    internal static string Escape(string segment) => Uri.EscapeDataString(segment);

    /// <summary>
    /// Sends one request through the pipeline (retries included). Returns the response on success; throws
    /// <see cref="IoTHubServiceException"/> on an error status or a network failure, OperationCanceledException on cancellation.
    /// The caller disposes the returned message.
    /// </summary>
    internal async Task<HttpMessage> SendAsync(
        RequestMethod method,
        string path,
        JsonNode? body,
        IEnumerable<KeyValuePair<string, string>>? headers,
        Func<Response, bool>? acceptError,
        CancellationToken cancellationToken,
        Action<HttpMessage>? configureMessage = null,
        BinaryData? serializedBody = null)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        var message = _pipeline.CreateMessage();

        try
        {
            var request = message.Request;
            request.Method = method;
            request.Uri.Reset(_endpoint);
            request.Uri.AppendPath(path, escape: false);
            request.Uri.AppendQuery(IoTHubApiVersion.QueryParameter, ApiVersion);
            request.Headers.SetValue(HttpHeader.Names.Accept, "application/json");
            if (body is not null)
            {
                request.Headers.SetValue(HttpHeader.Names.ContentType, JsonContentType);
                request.Content = RequestContent.Create(serializedBody ?? BinaryData.FromString(body.ToJsonString()));
            }

            if (headers is not null)
            {
                foreach (var (name, value) in headers)
                {
                    request.Headers.SetValue(name, value);
                }
            }

            // Per-request settings (e.g. a direct method's "retry only 429" classifier and longer network timeout).
            configureMessage?.Invoke(message);
            try
            {
                await _pipeline.SendAsync(message, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (!(cancellationToken.IsCancellationRequested && ex is OperationCanceledException))
            {
                var failure = TransportFailure(ex);
                failure.FollowsLostAttempt = LostAnswer.Follows(message);
                throw failure;
            }

            var response = message.Response;
            if (response.Status >= 400 && (acceptError is null || !acceptError(response)))
            {
                var error = ErrorFromResponse(response);
                error.FollowsLostAttempt = LostAnswer.Follows(message);
                throw error;
            }

            return message;
        }
        catch
        {
            message.Dispose();
            throw;
        }
    }

    private IoTHubServiceException TransportFailure(Exception exception)
    {
        if (exception is Azure.Identity.AuthenticationFailedException credentialFailure)
        {
            // No request reached the hub; reported as 401 so callers treat it like any other authentication failure.
            return new IoTHubServiceException(
                $"Could not get a Microsoft Entra ID token for IoT Hub '{HostName}': {credentialFailure.Message}",
                401,
                IoTHubServiceException.AuthenticationFailedErrorCode,
                null,
                null,
                isTransient: false,
                exception);
        }

        var root = exception;
        while (root is AggregateException { InnerExceptions.Count: > 0 } aggregate)
        {
            root = aggregate.InnerExceptions[^1];
        }

        if (IoTHubResponseClassifier.IsCertificateFailure(exception))
        {
            return new IoTHubServiceException(
                $"The TLS certificate of IoT Hub '{HostName}' was not accepted (untrusted issuer or wrong host name). For a local emulator, trust its CA certificate for this connection: {DescribeNetworkError(root)}",
                0,
                IoTHubServiceException.ConnectionErrorCode,
                null,
                null,
                isTransient: false,
                exception);
        }

        if (IoTHubResponseClassifier.IsUnknownHost(exception))
        {
            return new IoTHubServiceException(
                $"The host name of IoT Hub '{HostName}' could not be resolved; check the HostName.",
                0,
                IoTHubServiceException.ConnectionErrorCode,
                null,
                null,
                isTransient: false,
                exception);
        }

        var isTimeout = root is OperationCanceledException or TimeoutException;
        var code = isTimeout ? IoTHubServiceException.TimeoutErrorCode : IoTHubServiceException.ConnectionErrorCode;
        var text = isTimeout
            ? $"The request to IoT Hub '{HostName}' timed out after all retries."
            : $"Could not reach IoT Hub '{HostName}' after all retries: {DescribeNetworkError(root)}";
        return new IoTHubServiceException(text, 0, code, null, null, isTransient: true, exception);
    }

    private static string DescribeNetworkError(Exception exception)
    {
        var parts = new List<string>();
        for (var e = exception; e is not null && parts.Count < 4; e = e.InnerException)
        {
            if (!string.IsNullOrWhiteSpace(e.Message) && !parts.Contains(e.Message))
            {
                parts.Add(e.Message.Trim());
            }
        }

        return parts.Count == 0 ? exception.GetType().Name : string.Join(" ", parts);
    }

    internal static IoTHubServiceException ErrorFromResponse(Response response)
    {
        response.Headers.TryGetValue(IoTHubErrorEnvelope.ErrorCodeHeader, out var codeHeader);
        if (string.IsNullOrEmpty(codeHeader))
        {
            response.Headers.TryGetValue("IotHubErrorCode", out codeHeader);
        }

        var body = ReadBodyText(response);
        var info = IoTHubErrorEnvelope.Parse(response.Status, codeHeader, body);
        var code = info.CodeName
            ?? (info.Code != IoTHubErrorCode.Unknown ? IoTHubErrors.NameOf(info.Code) : null)
            ?? DefaultCodeForStatus(response.Status);
        var text = string.Create(CultureInfo.InvariantCulture, $"IoT Hub returned {response.Status} {code}: {info.Message}");
        if (info.TrackingId is not null)
        {
            text += $" (tracking id {info.TrackingId})";
        }

        return new IoTHubServiceException(text, response.Status, code, info.NumericCode, info.TrackingId, info.IsTransient);
    }

    private static string DefaultCodeForStatus(int status) => status switch
    {
        400 => "GenericBadRequest",
        401 => "GenericUnauthorized",
        403 => "GenericForbidden",
        404 => "GenericNotFound",
        405 => "GenericMethodNotAllowed",
        409 => "GenericConflict",
        412 => "PreconditionFailed",
        413 => "GenericRequestEntityTooLarge",
        429 => "GenericTooManyRequests",
        500 => "ServerError",
        503 => "ServiceUnavailable",
        504 => "GatewayTimeout",
        _ => "Unknown",
    };

    private static string? ReadBodyText(Response response)
    {
        try
        {
            return response.Content.ToMemory().Length == 0 ? null : response.Content.ToString();
        }
        catch (InvalidOperationException)
        {
            return null; // unbuffered stream (not used by this client)
        }
    }

    private static JsonNode? ReadJson(Response response)
    {
        var bytes = response.Content.ToMemory();
        if (bytes.IsEmpty)
        {
            return null;
        }

        try
        {
            return JsonNode.Parse(bytes.Span);
        }
        catch (JsonException ex)
        {
            throw NotJson(response, ex);
        }
    }

    private static IoTHubServiceException NotJson(Response response, JsonException exception) => new(
        $"IoT Hub returned {response.Status} with a body that is not valid JSON: {exception.Message}",
        response.Status,
        "InvalidResponse",
        null,
        null,
        isTransient: false,
        exception);

    private static IoTHubServiceException NotTheExpectedObject(Response response, string what) => new(
        $"IoT Hub returned {response.Status} without the expected JSON object ({what}).",
        response.Status,
        "InvalidResponse",
        null,
        null,
        isTransient: false);

    private static JsonObject ReadJsonObject(Response response, string what) =>
        ReadJson(response) as JsonObject ?? throw NotTheExpectedObject(response, what);

    private static IoTHubTwin ReadTwin(Response response)
    {
        var bytes = response.Content.ToMemory();
        if (bytes.IsEmpty)
        {
            throw NotTheExpectedObject(response, "twin");
        }

        IoTHubTwin? twin;
        IoTHubTwin.DocumentShape shape;
        try
        {
            twin = IoTHubTwin.FromUtf8(bytes.Span, out shape);
        }
        catch (JsonException ex)
        {
            throw NotJson(response, ex);
        }

        return shape switch
        {
            IoTHubTwin.DocumentShape.Twin => twin!,
            IoTHubTwin.DocumentShape.NotAnObject => throw NotTheExpectedObject(response, "twin"),
            _ => throw InvalidResponse(response, "a twin without 'deviceId'"),
        };
    }

    private static DeviceIdentity ReadDevice(Response response)
    {
        var json = ReadJsonObject(response, "device");
        return JsonFields.GetString(json, "deviceId") is null
            ? throw InvalidResponse(response, "a device without 'deviceId'")
            : DeviceIdentity.FromJson(json);
    }

    private static IoTHubServiceException InvalidResponse(Response response, string what) => new(
        $"IoT Hub returned {response.Status} with {what}.", response.Status, "InvalidResponse", null, null, isTransient: false);

    private static KeyValuePair<string, string>[]? IfMatchHeader(string? ifMatch) =>
        string.IsNullOrEmpty(ifMatch) ? null : [new("If-Match", ETags.Quote(ifMatch))];

    private static IoTHubServiceException WithTarget(IoTHubServiceException exception, string? deviceId, string? moduleId)
    {
        exception.DeviceId ??= deviceId;
        exception.ModuleId ??= moduleId;
        return exception;
    }
}
