namespace Splade.Sparse;

/// <summary>Mean active dimensions per vector and the sparsity ratio 1 − active / dimension.</summary>
public readonly record struct SparsityStats(double ActiveDims, double SparsityRatio)
{
    /// <summary>Statistics of a set of vectors (zeros for an empty set).</summary>
    public static SparsityStats Of(IReadOnlyList<SparseVector> vectors)
    {
        if (vectors.Count == 0) return new SparsityStats(0, 1);
        double active = vectors.Average(v => (double)v.Count);
        return new SparsityStats(active, 1 - active / vectors[0].Dimension);
    }
}
