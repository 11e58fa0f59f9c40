using System.Runtime.ExceptionServices;

namespace Splade.Tensors;

/// <summary>
/// Runs independent jobs on up to <see cref="Threads"/> threads. Kernels split work only along
/// output rows/columns (never along a reduction), so every output element is computed by exactly
/// one job in a fixed order: results do not depend on the thread count.
/// </summary>
/// <remarks>
/// Helper threads are a process-wide crew of background threads, started on first use and parked on
/// a semaphore in between, so a parallel call costs no allocation and no task scheduling (this matters
/// for a 10-token query, which makes a few dozen short parallel calls). One parallel call runs at a
/// time; a call that arrives while the crew is busy (another thread encoding) runs on its own thread.
/// </remarks>
public sealed class ComputePool
{
    /// <summary>Creates a pool using <paramref name="threads"/> threads (1 = run on the calling thread).</summary>
    /// <exception cref="ArgumentOutOfRangeException">threads is not positive.</exception>
    public ComputePool(int threads)
    {
        if (threads < 1) throw new ArgumentOutOfRangeException(nameof(threads), threads, "Thread count must be at least 1.");
        Threads = threads;
    }

    /// <summary>A single-threaded pool.</summary>
    public static ComputePool Serial { get; } = new(1);

    /// <summary>Maximum number of threads used by one call.</summary>
    public int Threads { get; }

    /// <summary>Runs <paramref name="job"/> for every index in [0, jobCount); the first exception of a job is rethrown after all jobs end.</summary>
    public void For(int jobCount, Action<int> job)
    {
        if (jobCount <= 0) return;
        if (Threads == 1 || jobCount == 1 || !Crew.TryRun(jobCount, Math.Min(Threads, jobCount) - 1, job))
            RunSerial(jobCount, job);
    }

    /// <summary>
    /// Wakes sleeping helper threads ahead of the parallel calls that follow (they poll for work for
    /// ~100 µs, then sleep again), so the first call of a forward pass (for a query, after tokenization)
    /// does not wait for a thread to wake. Has no other effect.
    /// </summary>
    public void WakeAhead()
    {
        if (Threads > 1) Crew.WakeSleeping(Threads - 1);
    }

    /// <summary>All jobs on the calling thread; as on the crew, a failing job does not stop the others.</summary>
    private static void RunSerial(int jobCount, Action<int> job)
    {
        Exception? error = null;
        for (int i = 0; i < jobCount; i++)
        {
            try { job(i); }
            catch (Exception e) { error ??= e; }
        }
        if (error is not null) ExceptionDispatchInfo.Throw(error);
    }

    /// <summary>The shared helper threads.</summary>
    private static class Crew
    {
        /// <summary>How long an idle helper keeps polling for the next call before it sleeps (the calls of one forward pass come microseconds apart).</summary>
        private static readonly long SpinTicks = System.Diagnostics.Stopwatch.Frequency / 10000; // 100 µs

        private static readonly object Gate = new();
        private static readonly SemaphoreSlim Wake = new(0);
        private static readonly List<Thread> Workers = new();
        private static volatile WorkItem? s_current;
        private static int s_sleeping;

        /// <summary>One parallel call; helpers that arrive late find no job left and leave it alone.</summary>
        private sealed class WorkItem(Action<int> job, int count)
        {
            public readonly Action<int> Job = job;
            public readonly int Count = count;
            public int Next, Completed;
            public Exception? Error;
            public readonly ManualResetEventSlim Done = new(false);

            public void Run()
            {
                int i;
                while ((i = Interlocked.Increment(ref Next) - 1) < Count)
                {
                    try { Job(i); }
                    catch (Exception e) { Interlocked.CompareExchange(ref Error, e, null); }
                    if (Interlocked.Increment(ref Completed) == Count) Done.Set();
                }
            }
        }

        /// <summary>Runs the jobs on the caller plus up to <paramref name="helpers"/> crew threads; false when the crew is busy.</summary>
        public static bool TryRun(int jobCount, int helpers, Action<int> job)
        {
            // A job that calls For again (on the caller's thread, which holds the gate) runs serially.
            if (helpers < 1 || Monitor.IsEntered(Gate) || !Monitor.TryEnter(Gate)) return false;
            try
            {
                while (Workers.Count < helpers)
                {
                    var t = new Thread(WorkerLoop) { IsBackground = true, Name = "Splade compute" };
                    Workers.Add(t);
                    t.Start();
                }
                var item = new WorkItem(job, jobCount);
                Interlocked.Exchange(ref s_current, item);
                int sleeping = Volatile.Read(ref s_sleeping);
                if (sleeping > 0) Wake.Release(Math.Min(sleeping, helpers));
                item.Run();
                // The helpers' last jobs end microseconds later for the short calls of a query: poll
                // before blocking, as an event wait that sleeps costs more than such a call.
                long until = System.Diagnostics.Stopwatch.GetTimestamp() + SpinTicks;
                while (Volatile.Read(ref item.Completed) < jobCount && System.Diagnostics.Stopwatch.GetTimestamp() < until)
                    Thread.SpinWait(20);
                item.Done.Wait();
                if (item.Error is not null) ExceptionDispatchInfo.Throw(item.Error);
                return true;
            }
            finally
            {
                s_current = null;
                Monitor.Exit(Gate);
            }
        }

        /// <summary>Releases up to <paramref name="helpers"/> sleeping helpers without giving them work.</summary>
        public static void WakeSleeping(int helpers)
        {
            int sleeping = Volatile.Read(ref s_sleeping);
            if (sleeping > 0) Wake.Release(Math.Min(sleeping, helpers));
        }

        private static void WorkerLoop()
        {
            WorkItem? last = null;
            while (true)
            {
                WorkItem? item = s_current;
                if (item is not null && item != last)
                {
                    last = item;
                    item.Run();
                    continue;
                }
                long until = System.Diagnostics.Stopwatch.GetTimestamp() + SpinTicks;
                while (System.Diagnostics.Stopwatch.GetTimestamp() < until && (s_current is null || s_current == last))
                    Thread.SpinWait(20);
                if (s_current is { } next && next != last) continue;
                Interlocked.Increment(ref s_sleeping);
                if (s_current is { } late && late != last)
                {
                    Interlocked.Decrement(ref s_sleeping);
                    continue;
                }
                Wake.Wait();
                Interlocked.Decrement(ref s_sleeping);
            }
        }
    }
}
