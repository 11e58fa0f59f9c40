namespace Splade.Tensors;

/// <summary>
/// Inverted dropout: y = x·m with m ∈ {0, 1/(1−p)} drawn from a seeded generator (sequentially, so the
/// masks do not depend on threads); backward dx = dy·m.
/// </summary>
public static class Dropout
{
    /// <summary>Fills mask with 0 (probability p) or 1/(1−p).</summary>
    public static void MakeMask(Random rng, float p, Span<float> mask)
    {
        float keep = 1f / (1f - p);
        for (int i = 0; i < mask.Length; i++) mask[i] = rng.NextSingle() < p ? 0f : keep;
    }

    /// <summary>x[i] *= mask[i] in place.</summary>
    public static void Apply(Span<float> x, ReadOnlySpan<float> mask) =>
        System.Numerics.Tensors.TensorPrimitives.Multiply(x, mask[..x.Length], x);
}
