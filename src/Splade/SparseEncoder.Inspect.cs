using Splade.Sparse;

namespace Splade;

public sealed partial class SparseEncoder
{
    /// <summary>Similarity matrix [a, b] with the checkpoint's similarity function (dot by default).</summary>
    public float[,] SimilarityMatrix(IReadOnlyList<SparseVector> a, IReadOnlyList<SparseVector> b) =>
        SparseSimilarity.Matrix(Similarity, a, b);

    /// <summary>Similarity of a[i] with b[i] for every i.</summary>
    public float[] SimilarityPairwise(IReadOnlyList<SparseVector> a, IReadOnlyList<SparseVector> b) =>
        SparseSimilarity.Pairwise(Similarity, a, b);

    /// <summary>Similarity of one query with each document (the common search case).</summary>
    public float[] Similarities(SparseVector query, IReadOnlyList<SparseVector> documents)
    {
        var r = new float[documents.Count];
        for (int i = 0; i < r.Length; i++) r[i] = SparseSimilarity.Compute(Similarity, query, documents[i]);
        return r;
    }

    /// <summary>
    /// The vector's tokens by weight descending (ties by id), as raw vocabulary strings (e.g. <c>##ing</c>);
    /// <paramref name="topK"/> null returns every active token.
    /// </summary>
    public IReadOnlyList<(string Token, float Weight)> Decode(SparseVector vector, int? topK = null)
    {
        ArgumentNullException.ThrowIfNull(vector);
        if (vector.Dimension != Dimension) throw new ArgumentException($"Vector dimension {vector.Dimension} does not match the model's {Dimension}.");
        var order = Enumerable.Range(0, vector.Count)
            .OrderByDescending(p => vector.Values[p]).ThenBy(p => vector.Indices[p]);
        var top = topK is int k ? order.Take(k) : order;
        return top.Select(p => (Tokenizer.IdToToken(vector.Indices[p]), vector.Values[p])).ToArray();
    }

    /// <summary>Element-wise product of two vectors: each token's contribution to the dot score.</summary>
    public static SparseVector Intersection(SparseVector a, SparseVector b) => SparseSimilarity.Intersection(a, b);

    /// <summary>Mean active dimensions and sparsity ratio of a set of vectors.</summary>
    public static SparsityStats Sparsity(IReadOnlyList<SparseVector> vectors) => SparsityStats.Of(vectors);
}
