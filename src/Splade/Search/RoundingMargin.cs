using Splade.Sparse;

namespace Splade.Search;

/// <summary>
/// Bound on how far a float32 score summed in another order can differ from the exact
/// <see cref="SparseVector.Dot"/> order: with S = Σ_t q_t·max_d w_td over the n query terms, any
/// reordering of the n products differs by at most about (n + extra)·2⁻²⁴·S; pruning tests keep a
/// candidate whenever its bound is within this margin of the threshold, and final scores are then
/// recomputed in Dot order, so results stay bit-identical to brute force.
/// </summary>
internal static class RoundingMargin
{
    /// <summary>The margin for <paramref name="query"/> over the segments of <paramref name="snapshot"/>.</summary>
    /// <param name="snapshot">The segments searched (their per-term maxima bound every product).</param>
    /// <param name="query">The query (its non-zero weights count as the n products).</param>
    /// <param name="extraOperations">Additions beyond the n products that the scorer's bound takes part in.</param>
    public static float For(IndexSnapshot snapshot, SparseVector query, int extraOperations)
    {
        ReadOnlySpan<int> qi = query.Indices;
        ReadOnlySpan<float> qv = query.Values;
        double s = 0;
        int n = 0;
        for (int i = 0; i < qi.Length; i++)
        {
            if (qv[i] == 0f) continue;
            n++;
            float max = 0f;
            foreach (var seg in snapshot.Segments) max = Math.Max(max, seg.TermMax[qi[i]]);
            s += (double)qv[i] * max;
        }
        return (float)(16.0 * (n + extraOperations) * Math.Pow(2, -24) * s * 1.0001);
    }
}
