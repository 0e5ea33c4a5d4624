using System.Collections.Concurrent;
using System.Management.Automation;

namespace TwinPS.Internal;

/// <summary>
/// Base class for cmdlets that do asynchronous work. Begin/Process/EndProcessingAsync and every work item start on the
/// pipeline thread and continue on the thread pool once they await something that is not done yet; every
/// Write*/ShouldProcess call made from a worker thread is queued and executed on the pipeline thread, which drains the
/// queue while the work runs. Nothing waits when nothing is asynchronous: a step that completes synchronously costs no
/// thread hop and no pump. One cancellation token is cancelled by Ctrl+C (<see cref="StopProcessing"/>), by a
/// downstream <c>Select-Object -First</c>, by a fatal failure and by <see cref="Dispose()"/>.
/// </summary>
public abstract partial class AsyncCmdlet : PSCmdlet, IDisposable
{
    private static readonly TimeSpan StopGracePeriod = TimeSpan.FromSeconds(2);

    // Cancelled by Ctrl+C and Dispose: ends the pipeline thread's wait for queued calls.
    private readonly CancellationTokenSource _stop = new();

    // Cancelled with _stop, and also when a work item fails fatally or the pipeline thread
    // leaves with an exception: ends all work.
    private readonly CancellationTokenSource _work;

    // Read without touching _work, which Dispose disposes (a disposed source's token stays usable).
    private readonly CancellationToken _workToken;

    private readonly PipelineCallQueue _pipelineCalls = new();
    private readonly ConcurrentDictionary<long, Task> _runningWork = new();
    private readonly object _slotGate = new();
    private readonly Queue<Func<CancellationToken, Task>> _accepted = new();
    private TaskCompletionSource? _roomForMore;
    private int _slotLimit;
    private int _slotsInUse;
    private long _workCounter;
    private int _pipelineThreadId;
    private bool _disposed;

    /// <summary>Creates the pump.</summary>
    protected AsyncCmdlet()
    {
        _work = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
        _workToken = _work.Token;
    }

    /// <summary>Cancelled when the pipeline stops (Ctrl+C, Select-Object -First), on a fatal error, or on Dispose.</summary>
    protected CancellationToken CancellationToken => _workToken;

    /// <summary>How many <see cref="EnqueueWork"/> items may run at once (read on first use).</summary>
    protected virtual int WorkThrottleLimit => 1;

    /// <summary>
    /// Whether an item queued while processing piped input starts on a thread-pool thread instead of on the pipeline
    /// thread (read per item). Only for items that never ask the pipeline thread anything while they start (no
    /// ShouldProcess prompt): a prompt from an item started elsewhere would come after later records were bound.
    /// </summary>
    protected virtual bool StartPipedItemsOnWorker => false;

    /// <summary>Runs once before any input; may call the *Safe members.</summary>
    protected virtual Task BeginProcessingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>
    /// Runs once per input record; may start concurrent work with <see cref="EnqueueWork"/>. It starts on the
    /// pipeline thread, so its synchronous part must not block (await instead).
    /// </summary>
    protected virtual Task ProcessRecordAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Runs once after all input, after every queued work item has finished.</summary>
    protected virtual Task EndProcessingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    // Every step runs its synchronous part right here on the pipeline thread (a thread-pool round trip per step, or
    // per piped record, would cost more than the request it serves and cap pipeline input far below what
    // -ThrottleLimit allows); the pump only runs when the step's task has to wait.

    /// <inheritdoc/>
    protected sealed override void BeginProcessing()
    {
        RunInline(() => BeginProcessingAsync(CancellationToken));
        RunAvailablePipelineCalls();
    }

    /// <inheritdoc/>
    protected sealed override void ProcessRecord()
    {
        RunInline(() => ProcessRecordAsync(CancellationToken));
        RunAvailablePipelineCalls();
    }

    /// <inheritdoc/>
    protected sealed override void EndProcessing()
    {
        RunInline(EndAsync);
        RunAvailablePipelineCalls();
    }

    private async Task EndAsync()
    {
        await WhenAllWorkDoneAsync().ConfigureAwait(false);
        await EndProcessingAsync(CancellationToken).ConfigureAwait(false);
        await WhenAllWorkDoneAsync().ConfigureAwait(false);
    }

    /// <inheritdoc/>
    protected override void StopProcessing()
    {
        CancelQuietly(_stop);
    }

    /// <summary>
    /// Runs <paramref name="work"/> with at most <see cref="WorkThrottleLimit"/> items running at once. While a slot is
    /// free the item starts at once on the calling thread (and continues on the thread pool at its first wait, so its
    /// synchronous part must not block: await instead), or on a worker for piped input when
    /// <see cref="StartPipedItemsOnWorker"/> allows. Otherwise it is accepted into a short queue (as long as the
    /// limit) that the running items take their next item from as they finish, on their own thread: a busy bulk run
    /// hands no item back and forth between threads. The returned task completes when the item has been started or
    /// accepted; when the queue is full it waits until half of it has been started (back-pressure). Items not yet
    /// started when the command stops are dropped. An exception that escapes the work (other than cancellation) is a
    /// terminating error.
    /// </summary>
    protected Task EnqueueWork(Func<CancellationToken, Task> work)
    {
        ArgumentNullException.ThrowIfNull(work);
        CancellationToken token = CancellationToken;
        if (token.IsCancellationRequested)
        {
            return Task.FromCanceled(token);
        }

        Task roomForMore;
        lock (_slotGate)
        {
            if (_slotLimit == 0)
            {
                _slotLimit = Math.Max(1, WorkThrottleLimit);
            }

            if (_slotsInUse < _slotLimit)
            {
                _slotsInUse++;
                roomForMore = Task.CompletedTask;
            }
            else if (_accepted.Count < _slotLimit)
            {
                _accepted.Enqueue(work);
                return Task.CompletedTask;
            }
            else
            {
                _roomForMore ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                roomForMore = _roomForMore.Task;
            }
        }

        if (roomForMore.IsCompleted)
        {
            StartSlot(work, token);
            return Task.CompletedTask;
        }

        return EnqueueWhenRoomAsync(work, roomForMore, token);
    }

    private async Task EnqueueWhenRoomAsync(Func<CancellationToken, Task> work, Task roomForMore, CancellationToken token)
    {
        await roomForMore.WaitAsync(token).ConfigureAwait(false);
        await EnqueueWork(work).ConfigureAwait(false);
    }

    private void StartSlot(Func<CancellationToken, Task> work, CancellationToken token)
    {
        // A piped record's item starts on a worker when the command allows it: the pipeline thread then only binds
        // records and queues them (binding is the bottleneck of piped input), instead of also sending each request.
        Task running = Environment.CurrentManagedThreadId == _pipelineThreadId && StartPipedItemsOnWorker && MyInvocation.ExpectingInput
            ? Task.Run(() => RunSlotAsync(work, token), CancellationToken.None)
            : RunSlotAsync(work, token);
        if (running.IsCompleted)
        {
            return;
        }

        long id = Interlocked.Increment(ref _workCounter);
        _runningWork[id] = running;
        _ = running.ContinueWith(
            _ => _runningWork.TryRemove(id, out Task? _),
            CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    // One slot: runs its first item, then the accepted items in order until none is left (or the command stops).
    // Invariant (under _slotGate): items are accepted only while every slot is in use, and a slot is given up only
    // when nothing is accepted, so no accepted item is left without a slot to run it.
    private async Task RunSlotAsync(Func<CancellationToken, Task> first, CancellationToken token)
    {
        Func<CancellationToken, Task>? work = first;
        while (work is not null)
        {
            await RunItemAsync(work, token).ConfigureAwait(false);
            TaskCompletionSource? room = null;
            lock (_slotGate)
            {
                if (token.IsCancellationRequested)
                {
                    _accepted.Clear();
                }

                if (_accepted.TryDequeue(out work))
                {
                    if (_accepted.Count <= _slotLimit / 2)
                    {
                        room = _roomForMore;
                        _roomForMore = null;
                    }
                }
                else
                {
                    _slotsInUse--;
                    room = _roomForMore;
                    _roomForMore = null;
                }
            }

            room?.TrySetResult();
        }
    }

    private async Task RunItemAsync(Func<CancellationToken, Task> work, CancellationToken token)
    {
        try
        {
            await work(token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            // Stopped: nothing to report.
        }
        catch (PipelineStoppedException stopped)
        {
            // Thrown by ShouldProcess on the pipeline thread (the user stopped at a prompt) while the item was starting
            // there: it stops the pipeline from the pump, as it does when the prompt was queued from a worker.
            PostToPipeline(() => System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(stopped));
            CancelQuietly(_work);
        }
        catch (Exception ex)
        {
            FailFatally(ex);
        }
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

    /// <summary>
    /// Writes objects to the pipeline, in order, from any thread, as ONE queued call: a batch (e.g. a page of query
    /// results) costs one hand-off to the pipeline thread instead of one per object. If the pipeline stops part-way
    /// (Select-Object -First), the rest is not written.
    /// </summary>
    public void WriteObjectsSafe(IReadOnlyList<object?> objects)
    {
        ArgumentNullException.ThrowIfNull(objects);
        if (objects.Count > 0)
        {
            PostToPipeline(() => WriteObject(objects, enumerateCollection: true));
        }
    }

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

    /// <summary>
    /// Cancels all work, waits briefly for running items to observe it, and disposes the cancellation sources and the
    /// queue (once the last item has ended, if one is still running after the grace period).
    /// </summary>
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
            Task[] stillRunning = _runningWork.Values.ToArray();
            if (stillRunning.Length == 0)
            {
                DisposeResources();
            }
            else
            {
                _ = Task.WhenAll(stillRunning).ContinueWith(_ => DisposeResources(), CancellationToken.None,
                    TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            }
        }
    }

    private void DisposeResources()
    {
        _work.Dispose();
        _stop.Dispose();
    }

    private void FailFatally(Exception exception)
    {
        ErrorRecord record = exception is TerminatingErrorException terminating
            ? terminating.ErrorRecord
            : CreateTerminatingErrorRecord(exception);
        ThrowTerminatingErrorSafe(record);
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

            if (exception is PipelineStoppedException)
            {
                // ShouldProcess on this thread was stopped at its prompt: the pipeline stops as it would from the pump.
                CancelQuietly(_work);
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(exception);
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

    // Refused once disposed: the pipeline is gone, the output has nowhere to go.
    private void PostToPipeline(Action call) => _pipelineCalls.TryAdd(call);

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
