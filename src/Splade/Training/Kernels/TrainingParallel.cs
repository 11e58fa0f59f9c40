namespace Splade.Training.Kernels;

/// <summary>
/// Degree of parallelism of the training kernels. Every kernel splits work only over independent outputs
/// (rows, columns, heads), never over a reduction, so results are bitwise identical for any thread count.
/// </summary>
public static class TrainingParallel
{
    private static int _maxThreads = Environment.ProcessorCount;

    /// <summary>Largest number of threads a kernel uses (default: processor count).</summary>
    public static int MaxThreads
    {
        get => _maxThreads;
        set => _maxThreads = Math.Max(1, value);
    }

    internal static ParallelOptions Options => new() { MaxDegreeOfParallelism = _maxThreads };

    /// <summary>Runs <paramref name="body"/> over [0, count) in chunks; sequential when one thread or one chunk.</summary>
    internal static void For(int count, Action<int> body)
    {
        if (count <= 0) return;
        if (_maxThreads == 1 || count == 1)
        {
            for (int i = 0; i < count; i++) body(i);
            return;
        }
        Parallel.For(0, count, Options, body);
    }
}
