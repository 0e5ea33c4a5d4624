namespace TwinPS.Emulator.Rest;

/// <summary>Counts requests (for the <c>/$twinps/stats</c> test-support endpoint).</summary>
internal sealed class RequestStatistics
{
    private long _requests;
    private long _rejected;
    private long _serverErrors;

    public long Requests => Interlocked.Read(ref _requests);

    public long Rejected => Interlocked.Read(ref _rejected);

    public long ServerErrors => Interlocked.Read(ref _serverErrors);

    public void CountRequest() => Interlocked.Increment(ref _requests);

    public void CountResponse(int status)
    {
        if (status >= 400) Interlocked.Increment(ref _rejected);
        if (status >= 500) Interlocked.Increment(ref _serverErrors);
    }
}

/// <summary>Size limits of the REST endpoint.</summary>
internal static class RestLimits
{
    /// <summary>Largest request body accepted (a bulk call of 100 devices with twins fits).</summary>
    public const long MaxRequestBodyBytes = 8 * 1024 * 1024;

    /// <summary>JSON nesting accepted by the parser; twin depth rules (10) are checked afterwards.</summary>
    public const int MaxJsonDepth = 128;
}
