namespace TwinPS.Emulator.Domain;

/// <summary>What a committed write changed.</summary>
internal enum WriteKind
{
    /// <summary>A backend twin write (<c>PATCH</c>/<c>PUT /twins/…</c>, device and module twins, also by a job).</summary>
    Twin,

    /// <summary>A reported-properties patch (devices over MQTT).</summary>
    Reported,

    /// <summary>An identity registry change: a create, update or delete of a device or module, one per bulk entry applied.</summary>
    Registry,
}

/// <summary>
/// Counts of committed writes by <see cref="WriteKind"/>, for the <c>/$twinps/stats</c> test-support endpoint: a test
/// that meets faults and throttling can prove that every write it was told about was applied once and nothing else was.
/// </summary>
internal sealed class WriteCounts
{
    private readonly long[] _applied = new long[Enum.GetValues<WriteKind>().Length];

    public long Applied(WriteKind kind) => Interlocked.Read(ref _applied[(int)kind]);

    public void Count(WriteKind kind, int writes = 1) => Interlocked.Add(ref _applied[(int)kind], writes);
}
