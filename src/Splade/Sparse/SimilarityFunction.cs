namespace Splade.Sparse;

/// <summary>
/// Similarity functions by their sentence-transformers names. Distances are returned negated
/// (higher = more similar), as sentence-transformers' <c>euclidean</c> and <c>manhattan</c> do.
/// </summary>
public enum SimilarityFunction
{
    /// <summary>Inner product (the default for sparse models).</summary>
    Dot,
    /// <summary>Cosine similarity.</summary>
    Cosine,
    /// <summary>Negative Euclidean distance.</summary>
    Euclidean,
    /// <summary>Negative Manhattan (L1) distance.</summary>
    Manhattan,
}

/// <summary>Computes similarities between sparse vectors by merging their sorted index lists.</summary>
public static class SparseSimilarity
{
    /// <summary>Parses a sentence-transformers similarity name (<c>dot</c>, <c>dot_product</c>, <c>cosine</c>, <c>euclidean</c>, <c>manhattan</c>).</summary>
    /// <exception cref="ArgumentException">Unknown name.</exception>
    public static SimilarityFunction Parse(string? name) => (name ?? "dot").Trim().ToLowerInvariant() switch
    {
        "dot" or "dot_product" or "dot_score" => SimilarityFunction.Dot,
        "cosine" or "cos_sim" => SimilarityFunction.Cosine,
        "euclidean" => SimilarityFunction.Euclidean,
        "manhattan" => SimilarityFunction.Manhattan,
        _ => throw new ArgumentException($"Unknown similarity function '{name}'; expected dot, cosine, euclidean or manhattan."),
    };

    /// <summary>Name as written in config_sentence_transformers.json.</summary>
    public static string Name(SimilarityFunction f) => f switch
    {
        SimilarityFunction.Dot => "dot",
        SimilarityFunction.Cosine => "cosine",
        SimilarityFunction.Euclidean => "euclidean",
        SimilarityFunction.Manhattan => "manhattan",
        _ => throw new ArgumentOutOfRangeException(nameof(f)),
    };

    /// <summary>Similarity of two vectors of the same dimension.</summary>
    public static float Compute(SimilarityFunction f, SparseVector a, SparseVector b) => f switch
    {
        SimilarityFunction.Dot => a.Dot(b),
        SimilarityFunction.Cosine => a.Cosine(b),
        SimilarityFunction.Euclidean => -(float)Math.Sqrt(Distance(a, b, squared: true)),
        SimilarityFunction.Manhattan => -(float)Distance(a, b, squared: false),
        _ => throw new ArgumentOutOfRangeException(nameof(f)),
    };

    /// <summary>Matrix [a.Count, b.Count] of similarities.</summary>
    public static float[,] Matrix(SimilarityFunction f, IReadOnlyList<SparseVector> a, IReadOnlyList<SparseVector> b)
    {
        var m = new float[a.Count, b.Count];
        Parallel.For(0, a.Count, i =>
        {
            for (int j = 0; j < b.Count; j++) m[i, j] = Compute(f, a[i], b[j]);
        });
        return m;
    }

    /// <summary>Similarity of a[i] with b[i] for every i.</summary>
    public static float[] Pairwise(SimilarityFunction f, IReadOnlyList<SparseVector> a, IReadOnlyList<SparseVector> b)
    {
        if (a.Count != b.Count) throw new ArgumentException($"Pairwise similarity needs lists of equal length: {a.Count} vs {b.Count}.");
        var r = new float[a.Count];
        for (int i = 0; i < r.Length; i++) r[i] = Compute(f, a[i], b[i]);
        return r;
    }

    /// <summary>Element-wise product: the per-dimension contributions to the dot product.</summary>
    public static SparseVector Intersection(SparseVector a, SparseVector b)
    {
        if (a.Dimension != b.Dimension) throw new ArgumentException($"Dimension mismatch: {a.Dimension} vs {b.Dimension}.");
        var idx = new List<int>();
        var val = new List<float>();
        ReadOnlySpan<int> ai = a.Indices, bi = b.Indices;
        int i = 0, j = 0;
        while (i < ai.Length && j < bi.Length)
        {
            if (ai[i] == bi[j])
            {
                float p = a.Values[i] * b.Values[j];
                if (p != 0f) { idx.Add(ai[i]); val.Add(p); }
                i++; j++;
            }
            else if (ai[i] < bi[j]) i++;
            else j++;
        }
        return SparseVector.FromTrusted(a.Dimension, idx.ToArray(), val.ToArray());
    }

    private static double Distance(SparseVector a, SparseVector b, bool squared)
    {
        if (a.Dimension != b.Dimension) throw new ArgumentException($"Dimension mismatch: {a.Dimension} vs {b.Dimension}.");
        ReadOnlySpan<int> ai = a.Indices, bi = b.Indices;
        ReadOnlySpan<float> av = a.Values, bv = b.Values;
        int i = 0, j = 0;
        double sum = 0;
        while (i < ai.Length || j < bi.Length)
        {
            double d;
            if (j >= bi.Length || (i < ai.Length && ai[i] < bi[j])) d = av[i++];
            else if (i >= ai.Length || bi[j] < ai[i]) d = -bv[j++];
            else d = (double)av[i++] - bv[j++];
            sum += squared ? d * d : Math.Abs(d);
        }
        return sum;
    }
}
