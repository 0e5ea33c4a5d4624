using Azure.Core;

namespace TwinPS.Client.Resilience;

/// <summary>
/// The one rule for "an earlier attempt of this request may already have been applied": when a retried write is refused
/// with the status its own first success would cause (a twin 412, a registry 409/404, a job 409), the client reads back
/// and lets the operation's judge (<see cref="LostAnswerJudge"/>, <c>JobRules.SameJob</c>) decide whether the refusal is
/// its own earlier success. Used by every write that reads back (twins, device and module identities, bulk registry, jobs).
/// <list type="bullet">
/// <item>An attempt without an answer (connection reset, per-try timeout) may have been applied: the answer was lost.</item>
/// <item>An attempt answered 5xx (500 <c>ServerError</c>, 503 <c>ServiceUnavailable</c>, 504 <c>GatewayTimeout</c>)
/// may have been applied: no reference says the hub answers these only before committing, and a gateway timing out on
/// a back end that went on to commit is the classic case. Reading back costs one GET; a false "not applied" would report
/// our own success as a conflict.</item>
/// <item>An attempt answered 429 or any other 4xx was refused before it was applied (the hub throttles and validates
/// before it changes anything), so it leaves nothing uncertain.</item>
/// </list>
/// The retry policy reports every attempt's outcome here (<see cref="Observe"/>); the client asks <see cref="Follows"/>
/// when it turns the final answer into an <see cref="IoTHubServiceException"/> (<c>FollowsLostAttempt</c>).
/// See docs/architecture.md ("Lost answers").
/// </summary>
internal static class LostAnswer
{
    /// <summary>Whether an attempt that ended this way may have been applied although its caller cannot know:
    /// <paramref name="status"/> is the answer's status, or null when there was no answer.</summary>
    public static bool MayHaveApplied(int? status) => status is null or >= 500;

    /// <summary>Records one attempt's outcome on <paramref name="message"/> (its answer, or <paramref name="exception"/>
    /// when there was none). Once an attempt may have been applied, the message stays marked.</summary>
    public static void Observe(HttpMessage message, Exception? exception)
    {
        int? status = exception is null && message.HasResponse ? message.Response.Status : null;
        if (MayHaveApplied(status))
        {
            message.SetProperty(typeof(LostAnswer), true);
        }
    }

    /// <summary>True when an earlier attempt of <paramref name="message"/> may have been applied (see <see cref="Observe"/>).</summary>
    public static bool Follows(HttpMessage message) => message.TryGetProperty(typeof(LostAnswer), out var value) && value is true;
}
