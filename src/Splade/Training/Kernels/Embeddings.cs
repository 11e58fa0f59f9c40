namespace Splade.Training.Kernels;

/// <summary>
/// BERT embeddings sum: e[t] = word[ids[t]] + position[pos[t]] + token_type[types[t]].
/// Backward is the matching scatter-add, done in token order so repeated ids accumulate deterministically.
/// </summary>
internal static class Embeddings
{
    public static void Forward(int[] ids, int[] positions, int[] types, float[] word, float[] pos, float[] type, int h, float[] e)
    {
        TrainingParallel.For((ids.Length + 255) / 256, ch =>
        {
            int t1 = Math.Min(ids.Length, ch * 256 + 256);
            for (int t = ch * 256; t < t1; t++)
            {
                var er = e.AsSpan(t * h, h);
                var w = word.AsSpan(ids[t] * h, h);
                var p = pos.AsSpan(positions[t] * h, h);
                var ty = type.AsSpan(types[t] * h, h);
                for (int i = 0; i < h; i++) er[i] = w[i] + p[i] + ty[i];
            }
        });
    }

    public static void Backward(int[] ids, int[] positions, int[] types, float[] de, int h, float[] dWord, float[] dPos, float[] dType)
    {
        for (int t = 0; t < ids.Length; t++)
        {
            var g = de.AsSpan(t * h, h);
            Add(g, dWord.AsSpan(ids[t] * h, h));
            Add(g, dPos.AsSpan(positions[t] * h, h));
            Add(g, dType.AsSpan(types[t] * h, h));
        }
    }

    private static void Add(ReadOnlySpan<float> g, Span<float> dst)
    {
        for (int i = 0; i < g.Length; i++) dst[i] += g[i];
    }
}

/// <summary>
/// Inverted dropout: y = x·m with m ∈ {0, 1/(1−p)} drawn from a seeded generator (sequentially, so the
/// masks do not depend on threads); backward dx = dy·m.
/// </summary>
internal static class Dropout
{
    /// <summary>Fills mask[0..n) with 0 (probability p) or 1/(1−p).</summary>
    public static void MakeMask(Random rng, float p, float[] mask, int n)
    {
        float keep = 1f / (1f - p);
        for (int i = 0; i < n; i++) mask[i] = rng.NextSingle() < p ? 0f : keep;
    }

    /// <summary>x[i] *= mask[i] in place over [0, n).</summary>
    public static void Apply(float[] x, float[] mask, int n)
    {
        for (int i = 0; i < n; i++) x[i] *= mask[i];
    }
}
