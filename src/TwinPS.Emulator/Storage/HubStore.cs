using System.Threading.Channels;
using Microsoft.Data.Sqlite;

namespace TwinPS.Emulator.Storage;

/// <summary>
/// The durable store: SQLite (WAL, synchronous=FULL) written by one writer loop that commits every pending
/// write of all callers in one transaction (group commit) and only then completes their tasks.
/// A caller that awaited <see cref="CommitAsync"/> knows its change survives a kill -9.
/// </summary>
internal sealed class HubStore : IAsyncDisposable
{
    private const int MaxOperationsPerTransaction = 5000;

    private readonly SqliteConnection _connection;
    private readonly Channel<PendingWrite> _queue = Channel.CreateUnbounded<PendingWrite>(
        new UnboundedChannelOptions { SingleReader = true, AllowSynchronousContinuations = false });
    private readonly Task _writer;
    private readonly SqliteCommand _putDevice, _deleteDevice, _deleteDeviceModules, _putModule, _deleteModule, _putMeta, _putDeviceTwin, _putModuleTwin, _putJob, _putDeviceJob;
    private long _transactions;

    private HubStore(SqliteConnection connection)
    {
        _connection = connection;
        _putDevice = Command("INSERT INTO devices(device_id, identity, twin) VALUES($a, $b, $c) ON CONFLICT(device_id) DO UPDATE SET identity = excluded.identity, twin = excluded.twin", "$a", "$b", "$c");
        _deleteDevice = Command("DELETE FROM devices WHERE device_id = $a", "$a");
        _deleteDeviceModules = Command("DELETE FROM modules WHERE device_id = $a", "$a");
        _putModule = Command("INSERT INTO modules(device_id, module_id, identity, twin) VALUES($a, $b, $c, $d) ON CONFLICT(device_id, module_id) DO UPDATE SET identity = excluded.identity, twin = excluded.twin", "$a", "$b", "$c", "$d");
        _deleteModule = Command("DELETE FROM modules WHERE device_id = $a AND module_id = $b", "$a", "$b");
        _putDeviceTwin = Command("UPDATE devices SET twin = $b WHERE device_id = $a", "$a", "$b");
        _putModuleTwin = Command("UPDATE modules SET twin = $c WHERE device_id = $a AND module_id = $b", "$a", "$b", "$c");
        _putMeta = Command("INSERT INTO meta(key, value) VALUES($a, $b) ON CONFLICT(key) DO UPDATE SET value = excluded.value", "$a", "$b");
        _putJob = Command("INSERT INTO jobs(job_id, body) VALUES($a, $b) ON CONFLICT(job_id) DO UPDATE SET body = excluded.body", "$a", "$b");
        _putDeviceJob = Command("INSERT INTO device_jobs(job_id, device_id, body) VALUES($a, $b, $c) ON CONFLICT(job_id, device_id) DO UPDATE SET body = excluded.body", "$a", "$b", "$c");
        _writer = Task.Run(WriterLoopAsync);
    }

    /// <summary>Full path of the database file, or null for an in-memory store.</summary>
    public string? DatabasePath { get; private init; }

    /// <summary>Number of transactions committed so far (for tests and diagnostics).</summary>
    public long TransactionCount => Interlocked.Read(ref _transactions);

    /// <summary>Opens (creating if needed) the store in <paramref name="folder"/>, or an in-memory store when null.</summary>
    public static HubStore Open(string? folder)
    {
        string? path = folder is null ? null : Path.Combine(folder, "twinps-emulator.db");
        if (path is not null)
        {
            // The store holds the policy and device keys: owner-only. SQLite gives its WAL and SHM files the
            // database file's mode; files of an older emulator version are tightened too.
            Security.OwnerOnlyFiles.Restrict(path, create: true);
            Security.OwnerOnlyFiles.Restrict(path + "-wal");
            Security.OwnerOnlyFiles.Restrict(path + "-shm");
        }

        var builder = new SqliteConnectionStringBuilder
        {
            DataSource = path ?? ":memory:",
            Mode = path is null ? SqliteOpenMode.Memory : SqliteOpenMode.ReadWriteCreate,
            Pooling = false,
        };
        var connection = new SqliteConnection(builder.ToString());
        connection.Open();
        Execute(connection, "PRAGMA journal_mode=WAL;");
        Execute(connection, "PRAGMA synchronous=FULL;");
        Execute(connection, """
            CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS devices (device_id TEXT PRIMARY KEY, identity TEXT NOT NULL, twin TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS modules (device_id TEXT NOT NULL, module_id TEXT NOT NULL, identity TEXT NOT NULL, twin TEXT NOT NULL, PRIMARY KEY (device_id, module_id));
            CREATE TABLE IF NOT EXISTS jobs (job_id TEXT PRIMARY KEY, body TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS device_jobs (job_id TEXT NOT NULL, device_id TEXT NOT NULL, body TEXT NOT NULL, PRIMARY KEY (job_id, device_id));
            """);
        return new HubStore(connection) { DatabasePath = path };
    }

    /// <summary>Reads every device row (call before serving).</summary>
    public List<StoredDevice> LoadDevices()
    {
        var result = new List<StoredDevice>();
        lock (_connection)
        {
            using SqliteCommand command = _connection.CreateCommand();
            command.CommandText = "SELECT device_id, identity, twin FROM devices";
            using SqliteDataReader reader = command.ExecuteReader();
            while (reader.Read()) result.Add(new StoredDevice(reader.GetString(0), reader.GetString(1), reader.GetString(2)));
        }

        return result;
    }

    /// <summary>Reads every module row (call before serving).</summary>
    public List<StoredModule> LoadModules()
    {
        var result = new List<StoredModule>();
        lock (_connection)
        {
            using SqliteCommand command = _connection.CreateCommand();
            command.CommandText = "SELECT device_id, module_id, identity, twin FROM modules";
            using SqliteDataReader reader = command.ExecuteReader();
            while (reader.Read()) result.Add(new StoredModule(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3)));
        }

        return result;
    }

    /// <summary>Reads every stored job (JSON bodies; call before serving).</summary>
    public List<string> LoadJobs() => LoadBodies("SELECT body FROM jobs");

    /// <summary>Reads every stored per-device job record (JSON bodies; call before serving).</summary>
    public List<string> LoadDeviceJobs() => LoadBodies("SELECT body FROM device_jobs");

    private List<string> LoadBodies(string sql)
    {
        var result = new List<string>();
        lock (_connection)
        {
            using SqliteCommand command = _connection.CreateCommand();
            command.CommandText = sql;
            using SqliteDataReader reader = command.ExecuteReader();
            while (reader.Read()) result.Add(reader.GetString(0));
        }

        return result;
    }

    /// <summary>Reads one setting, or null.</summary>
    public string? GetMeta(string key)
    {
        lock (_connection)
        {
            using SqliteCommand command = _connection.CreateCommand();
            command.CommandText = "SELECT value FROM meta WHERE key = $k";
            command.Parameters.AddWithValue("$k", key);
            return command.ExecuteScalar() as string;
        }
    }

    /// <summary>Commits the operations durably (in one transaction, possibly shared with other callers).</summary>
    public Task CommitAsync(IReadOnlyList<StoreOperation> operations)
    {
        ArgumentNullException.ThrowIfNull(operations);
        if (operations.Count == 0) return Task.CompletedTask;
        var pending = new PendingWrite(operations);
        if (!_queue.Writer.TryWrite(pending))
            return Task.FromException(new InvalidOperationException("The store is closed."));
        return pending.Completion.Task;
    }

    /// <summary>Commits one operation durably.</summary>
    public Task CommitAsync(StoreOperation operation) => CommitAsync([operation]);

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        try
        {
            await _writer.ConfigureAwait(false);
        }
        finally
        {
            lock (_connection)
            {
                foreach (SqliteCommand c in AllCommands)
                    c.Dispose();
                _connection.Dispose();
            }
        }
    }

    private async Task WriterLoopAsync()
    {
        var batch = new List<PendingWrite>();
        ChannelReader<PendingWrite> reader = _queue.Reader;
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            batch.Clear();
            int operations = 0;
            while (operations < MaxOperationsPerTransaction && reader.TryRead(out PendingWrite? next))
            {
                batch.Add(next);
                operations += next.Operations.Count;
            }

            if (batch.Count == 0) continue;
            try
            {
                lock (_connection) WriteBatch(batch);
                Interlocked.Increment(ref _transactions);
                foreach (PendingWrite write in batch) write.Completion.TrySetResult();
            }
#pragma warning disable CA1031 // the writer loop must survive any failure and report it to the waiting callers
            catch (Exception ex)
#pragma warning restore CA1031
            {
                foreach (PendingWrite write in batch) write.Completion.TrySetException(new StoreException("The store could not commit the change.", ex));
            }
        }
    }

    private void WriteBatch(List<PendingWrite> batch)
    {
        using SqliteTransaction transaction = _connection.BeginTransaction();
        foreach (SqliteCommand c in AllCommands)
            c.Transaction = transaction;

        foreach (PendingWrite write in batch)
        {
            foreach (StoreOperation op in write.Operations)
            {
                switch (op)
                {
                    case StoreOperation.PutDevice d: Run(_putDevice, d.DeviceId, d.Identity, d.Twin); break;
                    case StoreOperation.DeleteDevice d:
                        Run(_deleteDeviceModules, d.DeviceId);
                        Run(_deleteDevice, d.DeviceId);
                        break;
                    case StoreOperation.PutModule m: Run(_putModule, m.DeviceId, m.ModuleId, m.Identity, m.Twin); break;
                    case StoreOperation.DeleteModule m: Run(_deleteModule, m.DeviceId, m.ModuleId); break;
                    case StoreOperation.PutMeta m: Run(_putMeta, m.Key, m.Value); break;
                    case StoreOperation.PutDeviceTwin t: Run(_putDeviceTwin, t.DeviceId, t.Twin); break;
                    case StoreOperation.PutModuleTwin t: Run(_putModuleTwin, t.DeviceId, t.ModuleId, t.Twin); break;
                    case StoreOperation.PutJob j: Run(_putJob, j.JobId, j.Job); break;
                    case StoreOperation.PutDeviceJob j: Run(_putDeviceJob, j.JobId, j.DeviceId, j.DeviceJob); break;
                    default: throw new InvalidOperationException("Unknown store operation.");
                }
            }
        }

        transaction.Commit();
    }

    private SqliteCommand[] AllCommands => [_putDevice, _deleteDevice, _deleteDeviceModules, _putModule, _deleteModule, _putMeta, _putDeviceTwin, _putModuleTwin, _putJob, _putDeviceJob];

    private static void Run(SqliteCommand command, params string[] values)
    {
        for (int i = 0; i < values.Length; i++) command.Parameters[i].Value = values[i];
        command.ExecuteNonQuery();
    }

    private SqliteCommand Command(string sql, params string[] parameterNames)
    {
        SqliteCommand command = _connection.CreateCommand();
        command.CommandText = sql;
        foreach (string name in parameterNames) command.Parameters.Add(name, SqliteType.Text);
        command.Prepare();
        return command;
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private sealed class PendingWrite(IReadOnlyList<StoreOperation> operations)
    {
        public IReadOnlyList<StoreOperation> Operations { get; } = operations;

        public TaskCompletionSource Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}

/// <summary>A write could not be committed; the change was not applied.</summary>
internal sealed class StoreException(string message, Exception inner) : Exception(message, inner);
