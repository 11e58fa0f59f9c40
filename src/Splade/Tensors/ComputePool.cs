namespace Splade.Tensors;

/// <summary>
/// Runs independent jobs on up to <see cref="Threads"/> threads. Kernels split work only along
/// output rows/columns (never along a reduction), so every output element is computed by exactly
/// one job in a fixed order: results do not depend on the thread count.
/// </summary>
public sealed class ComputePool
{
    private readonly ParallelOptions _options;

    /// <summary>Creates a pool using <paramref name="threads"/> threads (1 = run on the calling thread).</summary>
    /// <exception cref="ArgumentOutOfRangeException">threads is not positive.</exception>
    public ComputePool(int threads)
    {
        if (threads < 1) throw new ArgumentOutOfRangeException(nameof(threads), threads, "Thread count must be at least 1.");
        Threads = threads;
        _options = new ParallelOptions { MaxDegreeOfParallelism = threads };
    }

    /// <summary>A single-threaded pool.</summary>
    public static ComputePool Serial { get; } = new(1);

    /// <summary>Maximum number of threads used by one call.</summary>
    public int Threads { get; }

    /// <summary>Runs <paramref name="job"/> for every index in [0, jobCount).</summary>
    public void For(int jobCount, Action<int> job)
    {
        if (jobCount <= 0) return;
        if (Threads == 1 || jobCount == 1)
        {
            for (int i = 0; i < jobCount; i++) job(i);
            return;
        }
        Parallel.For(0, jobCount, _options, job);
    }
}
