namespace Splade.Benchmarks;

/// <summary>Reproducible inputs shared by the benchmarks.</summary>
internal static class Data
{
    /// <summary>Values uniform in [−scale, scale).</summary>
    public static float[] Random(int count, int seed, float scale = 0.1f)
    {
        var rng = new Random(seed);
        var v = new float[count];
        for (int i = 0; i < count; i++) v[i] = (float)(rng.NextDouble() * 2 - 1) * scale;
        return v;
    }

    /// <summary>The model folder of the end-to-end benchmarks, null when absent.</summary>
    public static string? ModelFolder
    {
        get
        {
            string path = Environment.GetEnvironmentVariable("SPLADE_BENCH_MODEL") ?? "/work/shared/data/models/bert-mini-random-splade";
            return Directory.Exists(path) ? path : null;
        }
    }

    /// <summary>[count] sequences of [CLS] random words [SEP], <paramref name="length"/> ids each.</summary>
    public static int[][] Sequences(int count, int length, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, count).Select(_ =>
        {
            var ids = new int[length];
            for (int i = 0; i < length; i++) ids[i] = rng.Next(1996, 29612);
            ids[0] = 101;
            ids[^1] = 102;
            return ids;
        }).ToArray();
    }
}
