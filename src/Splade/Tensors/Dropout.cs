namespace Splade.Tensors;

/// <summary>
/// Inverted dropout: y = x·m with m ∈ {0, 1/(1−p)}; backward dx = dy·m. Mask element i is decided by a
/// counter-based generator, a 64-bit mix of (key, i) (the SplitMix64 finaliser), so any thread can fill
/// any part of the mask and the mask depends only on the key: masks are the same for every thread count.
/// </summary>
public static class Dropout
{
    private const int Chunk = 16384;

    /// <summary>Fills mask with 0 (probability p) or 1/(1−p), keyed by the next draw of <paramref name="rng"/> (one thread).</summary>
    public static void MakeMask(Random rng, float p, Span<float> mask) =>
        MakeMask((ulong)rng.NextInt64(), p, mask, ComputePool.Serial);

    /// <summary>Fills mask with 0 (probability p) or 1/(1−p): element i is dropped when U(key, i) &lt; p, U uniform on [0, 1) in steps of 2⁻²⁴.</summary>
    public static unsafe void MakeMask(ulong key, float p, Span<float> mask, ComputePool pool)
    {
        if (!(p >= 0 && p < 1)) throw new ArgumentOutOfRangeException(nameof(p), p, "The dropout probability must be in [0, 1).");
        float keep = 1f / (1f - p);
        // U < p  ⇔  (bits >> 40) < ceil(p·2²⁴) for the 24-bit integer draw.
        ulong threshold = (ulong)Math.Ceiling(p * (double)(1 << 24));
        int length = mask.Length;
        fixed (float* pm = mask)
        {
            nint am = (nint)pm;
            pool.For((length + Chunk - 1) / Chunk, ch =>
            {
                float* m = (float*)am;
                long end = Math.Min(length, (long)(ch + 1) * Chunk);
                for (long i = (long)ch * Chunk; i < end; i++)
                    m[i] = (Mix(key, (ulong)i) >> 40) < threshold ? 0f : keep;
            });
        }
    }

    /// <summary>SplitMix64's finaliser of key + (i + 1)·golden ratio.</summary>
    internal static ulong Mix(ulong key, ulong i)
    {
        ulong z = key + (i + 1) * 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>x[i] *= mask[i] in place.</summary>
    public static void Apply(Span<float> x, ReadOnlySpan<float> mask) =>
        System.Numerics.Tensors.TensorPrimitives.Multiply(x, mask[..x.Length], x);
}
