namespace TwinPS.Internal;

/// <summary>
/// The calls queued for the pipeline thread. The pipeline thread sleeps until a call arrives instead of spinning first
/// (as <see cref="System.Collections.Concurrent.BlockingCollection{T}"/> and <see cref="SemaphoreSlim"/> do): a request to
/// the hub takes far longer than any spin, so spinning only takes processor time from the thread-pool thread that
/// finishes the request and, on a small machine, from the hub itself.
/// </summary>
internal sealed class PipelineCallQueue
{
    private readonly Queue<Action> _calls = new();
    private bool _addingCompleted;

    /// <summary>Queues <paramref name="call"/> and wakes the pipeline thread; false once adding has completed.</summary>
    public bool TryAdd(Action call)
    {
        lock (_calls)
        {
            if (_addingCompleted)
            {
                return false;
            }

            _calls.Enqueue(call);
            if (_calls.Count == 1)
            {
                Monitor.Pulse(_calls);
            }

            return true;
        }
    }

    /// <summary>Takes the next call without waiting.</summary>
    public bool TryTake([System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out Action? call)
    {
        lock (_calls)
        {
            return _calls.TryDequeue(out call);
        }
    }

    /// <summary>
    /// Takes the next call, sleeping until one is queued; throws as soon as <paramref name="cancellationToken"/> is
    /// cancelled, even with calls left (a stopped pipeline runs none of them).
    /// </summary>
    public Action Take(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (TryTake(out Action? ready))
        {
            return ready;
        }

        using CancellationTokenRegistration wake = cancellationToken.UnsafeRegister(
            static state => WakeAll((Queue<Action>)state!), _calls);
        lock (_calls)
        {
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (_calls.TryDequeue(out Action? call))
                {
                    return call;
                }

                Monitor.Wait(_calls);
            }
        }
    }

    /// <summary>Refuses further calls; calls already queued stay takeable.</summary>
    public void CompleteAdding()
    {
        lock (_calls)
        {
            _addingCompleted = true;
        }
    }

    private static void WakeAll(Queue<Action> calls)
    {
        lock (calls)
        {
            Monitor.PulseAll(calls);
        }
    }
}
