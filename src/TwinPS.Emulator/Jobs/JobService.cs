using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using TwinPS.Emulator.Storage;
using TwinPS.Protocol;

namespace TwinPS.Emulator.Jobs;

/// <summary>
/// The jobs v2 registry: creates, reads, cancels and lists jobs and keeps the per-device records, committing every
/// change to the store before it is visible. The <see cref="JobRunner"/> executes them.
/// </summary>
internal sealed class JobService : IDisposable
{
    private readonly HubStore _store;
    private readonly ConcurrentDictionary<string, JobRecord> _jobs = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<string, DeviceJobRecord>> _deviceJobs = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _createGate = new(1, 1);
    private long _sequence;

    public JobService(HubStore store, JobSlots slots)
    {
        _store = store;
        Slots = slots;
        foreach (string row in store.LoadJobs())
        {
            JobRecord job = JobRecord.FromStorageJson(row);
            _jobs[job.JobId] = job;
            _sequence = Math.Max(_sequence, job.Sequence);
        }

        foreach (string row in store.LoadDeviceJobs())
        {
            DeviceJobRecord record = DeviceJobRecord.FromStorageJson(row);
            DevicesOf(record.JobId)[record.DeviceId] = record;
        }
    }

    /// <summary>The tier's concurrent-job limit (none without a tier).</summary>
    public JobSlots Slots { get; }

    /// <summary>Raised after a job was created or cancelled (wakes the runner).</summary>
    public event EventHandler? Changed;

    public void Dispose() => _createGate.Dispose();

    public IEnumerable<JobRecord> All => _jobs.Values;

    public JobRecord? Find(string jobId) => _jobs.TryGetValue(jobId, out JobRecord? job) ? job : null;

    public IReadOnlyDictionary<string, DeviceJobRecord> DeviceJobs(string jobId) => DevicesOf(jobId);

    /// <summary>PUT /jobs/v2/{id}: 409 <c>JobAlreadyExists</c>, 429 <c>ThrottlingMaxActiveJobCountExceeded</c> when the tier's slots are taken.</summary>
    public async Task<JsonObject> CreateAsync(JobRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        await _createGate.WaitAsync().ConfigureAwait(false);
        JobRecord job;
        try
        {
            if (_jobs.ContainsKey(request.JobId))
                throw new IoTHubProtocolException(IoTHubErrorCode.JobAlreadyExists, $"A job with id '{request.JobId}' already exists.");
            if (Slots.Limit is int limit && _jobs.Values.Count(j => j.IsActive) >= limit)
                throw new IoTHubProtocolException(IoTHubErrorCode.ThrottlingMaxActiveJobCountExceeded, $"The hub's tier allows {limit} active job(s); wait for the running or scheduled job to finish.");
            job = JobRecord.FromRequest(request, Interlocked.Increment(ref _sequence), DateTimeOffset.UtcNow);
            await _store.CommitAsync(Put(job)).ConfigureAwait(false);
            _jobs[job.JobId] = job;
        }
        finally
        {
            _createGate.Release();
        }

        Changed?.Invoke(this, EventArgs.Empty);
        return job.ToResponseJson();
    }

    /// <summary>GET /jobs/v2/{id}: the job, or 200 <c>{"type":"unknown","status":"unknown"}</c> for an unknown id.</summary>
    public JsonObject Get(string jobId) => Find(jobId)?.ToResponseJson() ?? JobRecord.UnknownJson();

    /// <summary>
    /// POST /jobs/v2/{id}/cancel: 404 <c>JobNotFound</c>, 405 <c>OperationNotAllowedInCurrentState</c> once terminal.
    /// A queued or scheduled job ends at once; a running one stops taking devices and its runner marks the devices not
    /// reached as <c>canceled</c>.
    /// </summary>
    public async Task<JsonObject> CancelAsync(string jobId)
    {
        JobRecord job = Find(jobId) ?? throw new IoTHubProtocolException(IoTHubErrorCode.JobNotFound, $"Job '{jobId}' not found.");
        lock (job.Gate)
        {
            if (JobStatuses.IsTerminal(job.Status))
                throw new IoTHubProtocolException(IoTHubErrorCode.OperationNotAllowedInCurrentState, $"Job '{jobId}' is {job.Status} and cannot be cancelled.");
            job.Status = JobStatuses.Cancelled;
            job.EndTime = DateTimeOffset.UtcNow;
            job.StatusMessage = "Cancelled by request.";
        }

        await SaveAsync(job, []).ConfigureAwait(false);
        Changed?.Invoke(this, EventArgs.Empty);
        return job.ToResponseJson();
    }

    /// <summary>Jobs in creation order after <paramref name="afterSequence"/>, filtered by type and status (case-insensitive).</summary>
    public IEnumerable<JobRecord> List(string? type, string? status, long afterSequence) =>
        _jobs.Values
            .Where(j => j.Sequence > afterSequence)
            .Where(j => string.IsNullOrEmpty(type) || string.Equals(j.Type, type, StringComparison.OrdinalIgnoreCase))
            .Where(j =>
            {
                if (string.IsNullOrEmpty(status)) return true;
                lock (j.Gate) return string.Equals(j.Status, status, StringComparison.OrdinalIgnoreCase);
            })
            .OrderBy(j => j.Sequence);

    /// <summary>Every device record, ordered by (jobId, deviceId), strictly after the given key.</summary>
    public IEnumerable<DeviceJobRecord> DeviceJobsInOrder(string? afterJobId, string? afterDeviceId)
    {
        foreach (string jobId in _deviceJobs.Keys.Order(StringComparer.Ordinal))
        {
            if (afterJobId is not null && string.CompareOrdinal(jobId, afterJobId) < 0) continue;
            foreach (DeviceJobRecord record in _deviceJobs[jobId].Values.OrderBy(r => r.DeviceId, StringComparer.Ordinal))
            {
                if (afterJobId is not null && jobId == afterJobId && string.CompareOrdinal(record.DeviceId, afterDeviceId) <= 0) continue;
                yield return record;
            }
        }
    }

    /// <summary>
    /// Commits the job row and device rows in one transaction, then makes the device rows visible. The job's state is
    /// copied and queued for the store under one lock, so the store receives a job's rows in the order its state
    /// changed (a later state never loses to an earlier one).
    /// </summary>
    public async Task SaveAsync(JobRecord job, IReadOnlyCollection<DeviceJobRecord> devices)
    {
        ArgumentNullException.ThrowIfNull(job);
        ArgumentNullException.ThrowIfNull(devices);
        Task commit;
        lock (job.WriteOrder)
        {
            var operations = new List<StoreOperation>(devices.Count + 1) { Put(job) };
            foreach (DeviceJobRecord d in devices) operations.Add(new StoreOperation.PutDeviceJob(d.JobId, d.DeviceId, d.ToStorageJson()));
            commit = _store.CommitAsync(operations);
        }

        await commit.ConfigureAwait(false);
        ConcurrentDictionary<string, DeviceJobRecord> map = DevicesOf(job.JobId);
        foreach (DeviceJobRecord d in devices) map[d.DeviceId] = d;
    }

    private ConcurrentDictionary<string, DeviceJobRecord> DevicesOf(string jobId) =>
        _deviceJobs.GetOrAdd(jobId, _ => new ConcurrentDictionary<string, DeviceJobRecord>(StringComparer.Ordinal));

    private static StoreOperation.PutJob Put(JobRecord job) => new(job.JobId, job.ToStorageJson());
}

/// <summary>The tier's concurrent-job limit: null without a tier (no limit).</summary>
internal sealed record JobSlots(int? Limit);
