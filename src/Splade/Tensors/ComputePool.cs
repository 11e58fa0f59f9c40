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
            for (int i = 0; i < jobCount; i++) job(i);
    }

    /// <summary>The shared helper threads.</summary>
    private static class Crew
    {
        private static readonly object Gate = new();
        private static readonly SemaphoreSlim Start = new(0);
        private static readonly ManualResetEventSlim Done = new(false);
        private static readonly List<Thread> Workers = new();
        private static Action<int>? s_job;
        private static int s_jobCount, s_next, s_active;
        private static Exception? s_error;

        /// <summary>Runs the jobs on the caller plus <paramref name="helpers"/> crew threads; false when the crew is busy.</summary>
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
                s_job = job;
                s_jobCount = jobCount;
                s_next = 0;
                s_error = null;
                s_active = helpers;
                Done.Reset();
                Start.Release(helpers);
                RunJobs();
                Done.Wait();
                Exception? error = s_error;
                s_job = null;
                if (error is not null) ExceptionDispatchInfo.Throw(error);
                return true;
            }
            finally
            {
                Monitor.Exit(Gate);
            }
        }

        private static void RunJobs()
        {
            Action<int> job = s_job!;
            int count = s_jobCount, i;
            while ((i = Interlocked.Increment(ref s_next) - 1) < count)
            {
                try { job(i); }
                catch (Exception e) { Interlocked.CompareExchange(ref s_error, e, null); }
            }
        }

        private static void WorkerLoop()
        {
            while (true)
            {
                Start.Wait();
                RunJobs();
                if (Interlocked.Decrement(ref s_active) == 0) Done.Set();
            }
        }
    }
}
