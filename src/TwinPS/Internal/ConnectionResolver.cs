using System.Management.Automation;
using System.Management.Automation.Runspaces;
using System.Runtime.CompilerServices;
using TwinPS.Models;
using TwinPS.Protocol;

namespace TwinPS.Internal;

/// <summary>
/// Finds the hub connection a data cmdlet uses: the explicit <c>-Connection</c>, else the session default set by
/// <c>Connect-IoTHub</c> (one per runspace), else the <c>IOTHUB_CONNECTION_STRING</c> environment variable (connected
/// lazily: no request until the cmdlet makes one), else a terminating <c>NotConnected</c> error.
/// Every member may be called from any thread.
/// </summary>
internal static class ConnectionResolver
{
    /// <summary>The environment variable read when no connection was given or made.</summary>
    public const string EnvironmentVariableName = "IOTHUB_CONNECTION_STRING";

    /// <summary>Optional: a CA certificate (PEM) to trust for the environment connection, e.g. a local emulator's.</summary>
    public const string CACertificateVariableName = "IOTHUB_CA_CERTIFICATE_PATH";

    /// <summary>Error id of the terminating error when there is no connection at all.</summary>
    public const string NotConnectedErrorId = "NotConnected";

    /// <summary>Error id when IOTHUB_CONNECTION_STRING holds something that is not a service connection string.</summary>
    public const string InvalidEnvironmentErrorId = "InvalidConnectionStringEnvironment";

    // Keyed by the runspace's event manager: one per runspace (execution context) and, unlike
    // Runspace.DefaultRunspace, reachable from the worker threads the async cmdlets run on.
    private static readonly ConditionalWeakTable<object, SessionConnections> Sessions = new();

    /// <summary>The connection to use, or throws a terminating <c>NotConnected</c> error (see the class summary).</summary>
    public static IoTHubConnection Resolve(PSCmdlet cmdlet, IoTHubConnection? explicitConnection)
    {
        ArgumentNullException.ThrowIfNull(cmdlet);
        if (explicitConnection is not null)
        {
            return explicitConnection;
        }

        var session = GetSession(cmdlet);
        var current = session.Default;
        if (current is not null)
        {
            return current;
        }

        var fromEnvironment = FromEnvironment(session, out var environmentError);
        if (fromEnvironment is not null)
        {
            return fromEnvironment;
        }

        var record = environmentError is not null
            ? new ErrorRecord(
                new PSArgumentException(environmentError), InvalidEnvironmentErrorId, ErrorCategory.InvalidArgument, EnvironmentVariableName)
            {
                ErrorDetails = new ErrorDetails(environmentError)
                {
                    RecommendedAction = "Set IOTHUB_CONNECTION_STRING to a service connection string (HostName=…;SharedAccessKeyName=…;SharedAccessKey=…), or run Connect-IoTHub.",
                },
            }
            : new ErrorRecord(
                new PSInvalidOperationException(NotConnectedMessage), NotConnectedErrorId, ErrorCategory.ConnectionError, targetObject: null)
            {
                ErrorDetails = new ErrorDetails(NotConnectedMessage)
                {
                    RecommendedAction = "Run Connect-IoTHub (or Start-IoTHubEmulator | Connect-IoTHub), pass -Connection, or set IOTHUB_CONNECTION_STRING.",
                },
            };
        throw new ConnectionResolutionException(record);
    }

    /// <summary>The session default connection of the cmdlet's runspace, if any (the environment variable is not consulted).</summary>
    public static IoTHubConnection? GetDefault(PSCmdlet cmdlet) => GetSession(cmdlet).Default;

    /// <summary>Sets (or, with null, clears) the session default connection of the cmdlet's runspace.</summary>
    public static void SetDefault(PSCmdlet cmdlet, IoTHubConnection? connection) => GetSession(cmdlet).Default = connection;

    /// <summary>
    /// The connection the environment variable describes, created once per runspace and value; null when the variable
    /// is unset. <paramref name="error"/> explains (without secrets) a value that cannot be used.
    /// </summary>
    public static IoTHubConnection? GetFromEnvironment(PSCmdlet cmdlet, out string? error) => FromEnvironment(GetSession(cmdlet), out error);

    /// <summary>
    /// For argument completers (which have no cmdlet): the <c>-Connection</c> already typed on the command line, else the
    /// session default of the current runspace, else the environment connection; null when there is none. Never throws.
    /// </summary>
    public static IoTHubConnection? ForCompletion(object? boundConnection)
    {
        if ((boundConnection is PSObject wrapped ? wrapped.BaseObject : boundConnection) is IoTHubConnection explicitConnection)
        {
            return explicitConnection;
        }

        // The runspace's event manager is the same object as a cmdlet's Events (the session key used above).
        if (Runspace.DefaultRunspace?.Events is not { } events)
        {
            return null;
        }

        SessionConnections session = Sessions.GetValue(events, _ => new SessionConnections());
        return session.Default ?? FromEnvironment(session, out _);
    }

    private const string NotConnectedMessage =
        "Not connected to an IoT Hub. Run Connect-IoTHub first or set IOTHUB_CONNECTION_STRING.";

    private static SessionConnections GetSession(PSCmdlet cmdlet) => Sessions.GetValue(cmdlet.Events, _ => new SessionConnections());

    private static IoTHubConnection? FromEnvironment(SessionConnections session, out string? error)
    {
        error = null;
        var value = Environment.GetEnvironmentVariable(EnvironmentVariableName);
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }

        string? caPath = Environment.GetEnvironmentVariable(CACertificateVariableName);
        caPath = string.IsNullOrWhiteSpace(caPath) ? null : caPath;
        if (caPath is not null && !File.Exists(caPath))
        {
            error = $"The environment variable {CACertificateVariableName} names a file that does not exist: '{caPath}'.";
            return null;
        }

        string cacheKey = value + "\n" + caPath;
        lock (session)
        {
            if (session.EnvironmentConnection is not null && string.Equals(session.EnvironmentKey, cacheKey, StringComparison.Ordinal))
            {
                return session.EnvironmentConnection;
            }

            if (!IoTHubConnectionString.TryParse(value, out var parsed, out var parseError) || parsed is null)
            {
                error = $"The environment variable {EnvironmentVariableName} is not a valid connection string: {parseError}";
                return null;
            }

            if (parsed.Kind != IoTHubConnectionKind.Service)
            {
                error = $"The environment variable {EnvironmentVariableName} holds a device or module connection string. " +
                    IoTHubConnection.DeviceConnectionStringRefused;
                return null;
            }

            session.EnvironmentConnection = IoTHubConnection.FromConnectionString(parsed, caPath, mqttPort: null);
            session.EnvironmentKey = cacheKey;
            return session.EnvironmentConnection;
        }
    }

    private sealed class SessionConnections
    {
        private IoTHubConnection? _default;

        public IoTHubConnection? Default
        {
            get => Volatile.Read(ref _default);
            set => Volatile.Write(ref _default, value);
        }

        public IoTHubConnection? EnvironmentConnection { get; set; }

        // The variables' values the cached connection was made from.
        public string? EnvironmentKey { get; set; }
    }
}

/// <summary>
/// Thrown by <see cref="ConnectionResolver.Resolve"/> when no connection can be found; carries the terminating
/// <see cref="ErrorRecord"/> so that PowerShell (or the async pump) reports it with its error id.
/// </summary>
public sealed class ConnectionResolutionException : Exception, IContainsErrorRecord
{
    /// <summary>Creates the exception from the record it carries.</summary>
    public ConnectionResolutionException(ErrorRecord errorRecord)
        : base(errorRecord?.Exception.Message, errorRecord?.Exception)
    {
        ErrorRecord = errorRecord ?? throw new ArgumentNullException(nameof(errorRecord));
    }

    /// <summary>Creates the exception with a message.</summary>
    public ConnectionResolutionException()
        : this(new ErrorRecord(new PSInvalidOperationException("Not connected to an IoT Hub."), ConnectionResolver.NotConnectedErrorId, ErrorCategory.ConnectionError, null))
    {
    }

    /// <summary>The error to report.</summary>
    public ErrorRecord ErrorRecord { get; }
}
