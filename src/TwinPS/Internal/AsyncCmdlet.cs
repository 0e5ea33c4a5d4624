using System.Collections.Concurrent;
using System.Management.Automation;

namespace TwinPS.Internal;

/// <summary>
/// Base class for cmdlets that do asynchronous work. The work runs on the thread pool; every
/// Write*/ShouldProcess call made from a worker thread is queued and executed on the pipeline
/// thread, which drains the queue while the work runs. One cancellation token is cancelled by
/// Ctrl+C (<see cref="StopProcessing"/>), by a downstream <c>Select-Object -First</c>, by a fatal
/// failure and by <see cref="Dispose()"/>.
/// </summary>
public abstract partial class AsyncCmdlet : PSCmdlet, IDisposable
{
    private static readonly TimeSpan StopGracePeriod = TimeSpan.FromSeconds(2);

    // Cancelled by Ctrl+C and Dispose: ends the pipeline thread's wait for queued calls.
    private readonly CancellationTokenSource _stop = new();

    // Cancelled with _stop, and also when a work item fails fatally or the pipeline thread
    // leaves with an exception: ends all work.
    private readonly CancellationTokenSource _work;

    private readonly BlockingCollection<Action> _pipelineCalls = new();
    private readonly ConcurrentDictionary<long, Task> _runningWork = new();
    private SemaphoreSlim? _throttle;
    private long _workCounter;
    private int _pipelineThreadId;
    private bool _disposed;

    /// <summary>Creates the pump.</summary>
    protected AsyncCmdlet()
    {
        _work = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
    }

    /// <summary>Cancelled when the pipeline stops (Ctrl+C, Select-Object -First), on a fatal error, or on Dispose.</summary>
    protected CancellationToken CancellationToken => _work.Token;

    /// <summary>How many <see cref="EnqueueWork"/> items may run at once (read on first use).</summary>
    protected virtual int WorkThrottleLimit => 1;

    /// <summary>Runs once before any input; may call the *Safe members.</summary>
    protected virtual Task BeginProcessingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>
    /// Runs once per input record; may start concurrent work with <see cref="EnqueueWork"/>. It starts on the
    /// pipeline thread, so its synchronous part must not block (await instead).
    /// </summary>
    protected virtual Task ProcessRecordAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Runs once after all input, after every queued work item has finished.</summary>
    protected virtual Task EndProcessingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <inheritdoc/>
    protected sealed override void BeginProcessing() => RunOnPool(() => BeginProcessingAsync(CancellationToken));

    /// <inheritdoc/>
    protected sealed override void ProcessRecord()
    {
        // Per record, the synchronous part (binding checks, starting work while the throttle has room)
        // runs right here: a thread-pool round trip per piped record would cap pipeline input far below
        // what -ThrottleLimit allows. The pump only runs when the record's task has to wait.
        RunInline(() => ProcessRecordAsync(CancellationToken));
        RunAvailablePipelineCalls();
    }

    /// <inheritdoc/>
    protected sealed override void EndProcessing()
    {
        RunOnPool(async () =>
        {
            await WhenAllWorkDoneAsync().ConfigureAwait(false);
            await EndProcessingAsync(CancellationToken).ConfigureAwait(false);
            await WhenAllWorkDoneAsync().ConfigureAwait(false);
        });
        RunAvailablePipelineCalls();
    }

    /// <inheritdoc/>
    protected override void StopProcessing()
    {
        CancelQuietly(_stop);
    }

    /// <summary>
    /// Starts <paramref name="work"/> on the thread pool once fewer than <see cref="WorkThrottleLimit"/>
    /// items are running; the returned task completes when the item has started (back-pressure).
    /// An exception that escapes the work (other than cancellation) is a terminating error.
    /// </summary>
    protected async Task EnqueueWork(Func<CancellationToken, Task> work)
    {
        ArgumentNullException.ThrowIfNull(work);
        SemaphoreSlim throttle = LazyInitializer.EnsureInitialized(
            ref _throttle, () => new SemaphoreSlim(Math.Max(1, WorkThrottleLimit)));
        CancellationToken token = CancellationToken;
        await throttle.WaitAsync(token).ConfigureAwait(false);

        long id = Interlocked.Increment(ref _workCounter);
        Task running = Task.Run(async () =>
        {
            try
            {
                await work(token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                // Stopped: nothing to report.
            }
            catch (Exception ex)
            {
                FailFatally(ex);
            }
            finally
            {
                throttle.Release();
            }
        }, CancellationToken.None);
        _runningWork[id] = running;
        _ = running.ContinueWith(
            _ => _runningWork.TryRemove(id, out Task? _),
            CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    /// <summary>Completes when every item started with <see cref="EnqueueWork"/> has finished.</summary>
    protected async Task WhenAllWorkDoneAsync()
    {
        while (!_runningWork.IsEmpty)
        {
            await Task.WhenAll(_runningWork.Values).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Completes once the pipeline thread has executed every call queued before this one, so a
    /// producer can wait until its output has been written before fetching more (bounded memory).
    /// </summary>
    protected Task FlushPipelineCallsAsync(CancellationToken cancellationToken)
    {
        var written = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        CancellationTokenRegistration registration = cancellationToken.Register(() => written.TrySetCanceled(cancellationToken));
        _ = written.Task.ContinueWith(_ => registration.Dispose(), CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        PostToPipeline(() => written.TrySetResult(true));
        return written.Task;
    }

    /// <summary>Writes an object to the pipeline from any thread.</summary>
    public void WriteObjectSafe(object? sendToPipeline) => PostToPipeline(() => WriteObject(sendToPipeline));

    /// <summary>Writes an object (optionally enumerated) to the pipeline from any thread.</summary>
    public void WriteObjectSafe(object? sendToPipeline, bool enumerateCollection)
        => PostToPipeline(() => WriteObject(sendToPipeline, enumerateCollection));

    /// <summary>Writes a non-terminating error from any thread.</summary>
    public void WriteErrorSafe(ErrorRecord errorRecord) => PostToPipeline(() => WriteError(errorRecord));

    /// <summary>Writes a verbose message from any thread.</summary>
    public void WriteVerboseSafe(string text) => PostToPipeline(() => WriteVerbose(text));

    /// <summary>Writes a debug message from any thread.</summary>
    public void WriteDebugSafe(string text) => PostToPipeline(() => WriteDebug(text));

    /// <summary>Writes a warning from any thread.</summary>
    public void WriteWarningSafe(string text) => PostToPipeline(() => WriteWarning(text));

    /// <summary>Writes a progress record from any thread.</summary>
    public void WriteProgressSafe(ProgressRecord progressRecord) => PostToPipeline(() => WriteProgress(progressRecord));

    /// <summary>
    /// Asks ShouldProcess on the pipeline thread and returns its answer; cancelled when the
    /// pipeline stops.
    /// </summary>
    public Task<bool> ShouldProcessSafe(string target, string action) =>
        InvokeOnPipelineThreadAsync(() => ShouldProcess(target, action));

    /// <summary>
    /// Runs <paramref name="call"/> on the pipeline thread (where session state, ShouldProcess and
    /// the host may be used) and returns its result; cancelled when the pipeline stops.
    /// </summary>
    protected Task<T> InvokeOnPipelineThreadAsync<T>(Func<T> call)
    {
        ArgumentNullException.ThrowIfNull(call);
        if (Environment.CurrentManagedThreadId == _pipelineThreadId)
        {
            return Task.FromResult(call());
        }

        var answer = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        CancellationToken token = CancellationToken;
        CancellationTokenRegistration registration = token.Register(() => answer.TrySetCanceled(token));
        _ = answer.Task.ContinueWith(_ => registration.Dispose(), CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        PostToPipeline(() =>
        {
            try
            {
                answer.TrySetResult(call());
            }
            catch (Exception ex)
            {
                // e.g. PipelineStoppedException when the user stops at a prompt: the pipeline
                // thread rethrows it; the worker sees the failure.
                answer.TrySetException(ex);
                throw;
            }
        });
        return answer.Task;
    }

    /// <summary>Ends the command with <paramref name="errorRecord"/> from any thread and cancels all work.</summary>
    public void ThrowTerminatingErrorSafe(ErrorRecord errorRecord)
    {
        ArgumentNullException.ThrowIfNull(errorRecord);
        PostToPipeline(() => ThrowTerminatingError(errorRecord));
        CancelQuietly(_work);
    }

    /// <summary>
    /// Maps an exception that escaped the async code to the terminating ErrorRecord; override to
    /// add the cmdlet's own target.
    /// </summary>
    protected virtual ErrorRecord CreateTerminatingErrorRecord(Exception exception) =>
        ErrorRecords.FromException(exception, deviceId: null, moduleId: null);

    /// <inheritdoc/>
    public void Dispose()
    {
        Dispose(disposing: true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Cancels all work and waits briefly for running items to observe it.</summary>
    protected virtual void Dispose(bool disposing)
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        if (disposing)
        {
            CancelQuietly(_stop);
            CancelQuietly(_work);
            WaitBrieflyForWork();
            _pipelineCalls.CompleteAdding();
        }
    }

    private void FailFatally(Exception exception)
    {
        ErrorRecord record = exception is TerminatingErrorException terminating
            ? terminating.ErrorRecord
            : CreateTerminatingErrorRecord(exception);
        ThrowTerminatingErrorSafe(record);
    }

    // Runs asyncWork on the pool and executes queued pipeline calls on this (the pipeline) thread
    // until the work has completed, then surfaces its outcome here.
    private void RunOnPool(Func<Task> asyncWork)
    {
        _pipelineThreadId = Environment.CurrentManagedThreadId;
        PumpUntilDone(Task.Run(asyncWork, CancellationToken.None));
    }

    // Starts asyncWork on this (the pipeline) thread; pumps queued pipeline calls only if it has to wait.
    private void RunInline(Func<Task> asyncWork)
    {
        _pipelineThreadId = Environment.CurrentManagedThreadId;
        Task task;
        try
        {
            task = asyncWork();
        }
        catch (Exception ex)
        {
            task = Task.FromException(ex);
        }

        PumpUntilDone(task);
    }

    private void PumpUntilDone(Task task)
    {
        if (!task.IsCompleted)
        {
            PumpUntilCompleted(task);
        }

        SurfaceOutcome(task);
    }

    private void PumpUntilCompleted(Task task)
    {
        Action finished = new(() => { });
        _ = task.ContinueWith(_ => PostToPipeline(finished), CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);

        try
        {
            while (true)
            {
                Action call = _pipelineCalls.Take(_stop.Token);
                if (ReferenceEquals(call, finished))
                {
                    break;
                }

                call();
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            CancelQuietly(_work);
            WaitBrieflyForWork();
            throw new PipelineStoppedException();
        }
        catch
        {
            // A write was refused (e.g. Select-Object -First stopping upstream commands) or a
            // terminating error was raised: stop every worker before the exception leaves.
            CancelQuietly(_work);
            throw;
        }
    }

    private void SurfaceOutcome(Task task)
    {
        if (task.IsFaulted || task.IsCanceled)
        {
            Exception exception = task.Exception?.GetBaseException() ?? new OperationCanceledException();
            if (exception is OperationCanceledException && _work.IsCancellationRequested)
            {
                throw new PipelineStoppedException();
            }

            CancelQuietly(_work);
            ThrowTerminatingError(exception is TerminatingErrorException terminating
                ? terminating.ErrorRecord
                : CreateTerminatingErrorRecord(exception));
        }
    }

    private void RunAvailablePipelineCalls()
    {
        try
        {
            while (_pipelineCalls.TryTake(out Action? call))
            {
                call();
            }
        }
        catch
        {
            CancelQuietly(_work);
            throw;
        }
    }

    private void PostToPipeline(Action call)
    {
        if (_pipelineCalls.IsAddingCompleted)
        {
            return;
        }

        try
        {
            _pipelineCalls.Add(call);
        }
        catch (InvalidOperationException)
        {
            // Disposed meanwhile: the pipeline is gone, the output has nowhere to go.
        }
    }

    private void WaitBrieflyForWork()
    {
        Task[] running = _runningWork.Values.ToArray();
        if (running.Length > 0)
        {
            try
            {
                Task.WaitAll(running, StopGracePeriod);
            }
            catch (AggregateException)
            {
                // Work items catch their own failures; nothing useful to add while stopping.
            }
        }
    }

    private static void CancelQuietly(CancellationTokenSource source)
    {
        try
        {
            source.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // Already disposed: already cancelled.
        }
        catch (AggregateException)
        {
            // A registered callback failed; cancellation itself has happened.
        }
    }
}

/// <summary>Thrown from async cmdlet code to end the command with a specific ErrorRecord.</summary>
public sealed class TerminatingErrorException : Exception
{
    /// <summary>Wraps <paramref name="errorRecord"/>.</summary>
    public TerminatingErrorException(ErrorRecord errorRecord)
        : base(errorRecord?.Exception?.Message ?? "The command failed.", errorRecord?.Exception)
    {
        ErrorRecord = errorRecord ?? throw new ArgumentNullException(nameof(errorRecord));
    }

    /// <summary>The record the command ends with.</summary>
    public ErrorRecord ErrorRecord { get; }
}
