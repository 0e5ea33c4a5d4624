using System.Net.Http;
using Azure;
using Azure.Core;

namespace TwinPS.Client.Http;

/// <summary>
/// Retries 429, 500, 503 and 504 and transient network failures (I/O errors, connection failures, per-try timeouts);
/// never any other status (no 4xx except 429).
/// </summary>
internal sealed class IoTHubResponseClassifier : ResponseClassifier
{
    public static bool IsRetriableStatus(int status) => status is 429 or 500 or 503 or 504;

    public override bool IsRetriableResponse(HttpMessage message) => IsRetriableStatus(message.Response.Status);

    public override bool IsRetriableException(Exception exception) =>
        !IsCertificateFailure(exception)
        && !IsUnknownHost(exception)
        && (exception is IOException or HttpRequestException or TimeoutException || exception is RequestFailedException { Status: 0 });

    /// <summary>A host name that does not resolve is almost always a typo: fail at once instead of retrying.</summary>
    internal static bool IsUnknownHost(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is System.Net.Sockets.SocketException { SocketErrorCode: System.Net.Sockets.SocketError.HostNotFound })
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>A TLS authentication failure (untrusted or mismatched certificate) does not heal by retrying.</summary>
    internal static bool IsCertificateFailure(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is System.Security.Authentication.AuthenticationException)
            {
                return true;
            }
        }

        return false;
    }

    public override bool IsRetriable(HttpMessage message, Exception exception) =>
        IsRetriableException(exception)
        || (exception is OperationCanceledException && !message.CancellationToken.IsCancellationRequested);

    public override bool IsErrorResponse(HttpMessage message) => message.Response.Status >= 400;
}
