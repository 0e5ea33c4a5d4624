using Azure.Core;

namespace TwinPS.Client.Http;

/// <summary>
/// The classifier of requests that must not run twice: a direct method may already have run on the device when the hub
/// answers 5xx/504 or when the connection drops, so only <c>429</c> (refused before it was forwarded) is retried; no
/// status other than 429, no network failure and no per-try timeout is. Set per message
/// (<see cref="HttpMessage.ResponseClassifier"/>) and marked with <see cref="PropertyName"/> so that any retry policy of
/// the pipeline can honour it.
/// </summary>
internal sealed class ThrottlingOnlyResponseClassifier : ResponseClassifier
{
    /// <summary>The message property (value <c>true</c>) that says "retry this request only on 429".</summary>
    public const string PropertyName = "TwinPS.RetryOnlyThrottling";

    public static readonly ThrottlingOnlyResponseClassifier Instance = new();

    /// <summary>Puts this classifier (and the marker property) on <paramref name="message"/>.</summary>
    public static void Apply(HttpMessage message)
    {
        message.ResponseClassifier = Instance;
        message.SetProperty(PropertyName, true);
    }

    /// <summary>True when <paramref name="message"/> must be retried only on 429.</summary>
    public static bool AppliesTo(HttpMessage message) =>
        message.TryGetProperty(PropertyName, out var value) && value is true;

    public override bool IsRetriableResponse(HttpMessage message) => message.Response.Status == 429;

    public override bool IsRetriableException(Exception exception) => false;

    public override bool IsRetriable(HttpMessage message, Exception exception) => false;

    public override bool IsErrorResponse(HttpMessage message) => message.Response.Status >= 400;
}
