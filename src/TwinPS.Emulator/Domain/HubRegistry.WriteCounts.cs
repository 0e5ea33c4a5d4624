namespace TwinPS.Emulator.Domain;

/// <summary>
/// Counts of committed writes, for the <c>/$twinps/stats</c> test-support endpoint: a test that meets faults and
/// throttling can prove that every write it was told about was applied once and nothing else was.
/// </summary>
internal sealed partial class HubRegistry
{
    private long _twinWrites;
    private long _reportedWrites;
    private long _registryWrites;

    /// <summary>Backend twin writes committed (<c>PATCH</c>/<c>PUT /twins/…</c>, device and module twins).</summary>
    public long TwinWritesApplied => Interlocked.Read(ref _twinWrites);

    /// <summary>Reported-properties patches committed (devices over MQTT).</summary>
    public long ReportedWritesApplied => Interlocked.Read(ref _reportedWrites);

    /// <summary>Identity registry changes committed: creates, updates and deletes of devices and modules, one per bulk entry applied.</summary>
    public long RegistryWritesApplied => Interlocked.Read(ref _registryWrites);

    private void CountTwinWrite() => Interlocked.Increment(ref _twinWrites);

    private void CountReportedWrite() => Interlocked.Increment(ref _reportedWrites);

    private void CountRegistryWrites(int count) => Interlocked.Add(ref _registryWrites, count);
}
