using System.Management.Automation;
using System.Net.Http;
using System.Net.Sockets;
using System.Text.Json;
using TwinPS.Client;

namespace TwinPS.Internal;

/// <summary>
/// The one place where failures become ErrorRecords: error id = the hub's code (or a stable
/// TwinPS id), a specific category, target = the device (or device/module) id, the hub's tracking
/// id in the message, and a recommended action. Messages never contain secrets.
/// </summary>
public static partial class ErrorRecords
{
    /// <summary>Maps any failure of an operation on <paramref name="deviceId"/>/<paramref name="moduleId"/>.</summary>
    public static ErrorRecord FromException(Exception exception, string? deviceId, string? moduleId)
    {
        ArgumentNullException.ThrowIfNull(exception);
        object? target = Target(deviceId, moduleId);

        if (exception is IContainsErrorRecord { ErrorRecord: { } existing })
        {
            return existing;
        }

        return NamingTarget(FromKnownException(exception, target) ?? FromOtherException(exception, target), target);
    }

    // Every message about one device or module names it (a 412 among 1,000 piped twins must say which one).
    private static ErrorRecord NamingTarget(ErrorRecord record, object? target)
    {
        string? id = target as string;
        string? message = record.ErrorDetails?.Message;
        if (string.IsNullOrEmpty(id) || message is null || message.Contains($"'{id}'", StringComparison.Ordinal))
        {
            return record;
        }

        string kind = id.Contains('/', StringComparison.Ordinal) ? "Module" : "Device";
        record.ErrorDetails = new ErrorDetails($"{kind} '{id}': {message}") { RecommendedAction = record.ErrorDetails!.RecommendedAction };
        return record;
    }

    private static ErrorRecord FromOtherException(Exception exception, object? target)
    {
        return exception switch
        {
            TimeoutException or OperationCanceledException => Create(exception, "OperationTimeout",
                ErrorCategory.OperationTimeout, target,
                $"The operation on {Describe(target)} timed out.",
                "Check the network path to the hub and retry; for large operations use a smaller -ThrottleLimit."),
            HttpRequestException or SocketException or IOException => Create(exception, "ConnectionError",
                ErrorCategory.ConnectionError, target,
                $"Could not reach the IoT hub for {Describe(target)}: {SecretRedactor.Redact(exception.Message)}",
                "Check the host name, the network and (for a local emulator) -CACertificatePath, then retry."),
            JsonException => Create(exception, "InvalidJson", ErrorCategory.InvalidData, target,
                SecretRedactor.Redact(exception.Message),
                "Pass valid JSON text, a hashtable or a PSCustomObject."),
            ArgumentException => Create(exception, "InvalidArgument", ErrorCategory.InvalidArgument, target,
                SecretRedactor.Redact(exception.Message), "Correct the argument and retry."),
            _ => Create(exception, exception.GetType().Name, ErrorCategory.NotSpecified, target,
                SecretRedactor.Redact(exception.Message), "See the inner exception for details."),
        };
    }

    /// <summary>A client-side validation failure (nothing was sent).</summary>
    public static ErrorRecord InvalidInput(string errorId, string message, object? target) =>
        Create(new ArgumentException(message), errorId, ErrorCategory.InvalidArgument, target, message,
            "Correct the input; nothing was sent to the hub.");

    /// <summary>Input that is not well-formed data (for example malformed JSON text).</summary>
    public static ErrorRecord InvalidData(string errorId, string message, object? target) =>
        Create(new ArgumentException(message), errorId, ErrorCategory.InvalidData, target, message,
            "Correct the input; nothing was sent to the hub.");

    /// <summary>"deviceId" or "deviceId/moduleId", or null when neither is known.</summary>
    public static string? Target(string? deviceId, string? moduleId) =>
        string.IsNullOrEmpty(deviceId) ? null
        : string.IsNullOrEmpty(moduleId) ? deviceId
        : deviceId + "/" + moduleId;

    /// <summary>A copy of <paramref name="record"/> with another target object.</summary>
    public static ErrorRecord WithTarget(this ErrorRecord record, object? target)
    {
        ArgumentNullException.ThrowIfNull(record);
        return new ErrorRecord(record.Exception, record.FullyQualifiedErrorId, record.CategoryInfo.Category, target)
        {
            ErrorDetails = record.ErrorDetails,
        };
    }

    internal static ErrorRecord Create(Exception exception, string errorId, ErrorCategory category,
        object? target, string message, string recommendedAction)
    {
        var record = new ErrorRecord(exception, errorId, category, target)
        {
            ErrorDetails = new ErrorDetails(message) { RecommendedAction = recommendedAction },
        };
        return record;
    }

    private static string Describe(object? target) => target is null ? "the hub" : $"'{target}'";

    // Mappings of the exception types of TwinPS.Client and TwinPS.Protocol live beside this file.
    static partial void MapKnownException(Exception exception, object? target, ref ErrorRecord? record);

    private static ErrorRecord? FromKnownException(Exception exception, object? target)
    {
        ErrorRecord? record = null;
        MapKnownException(exception, target, ref record);
        return record;
    }
}
