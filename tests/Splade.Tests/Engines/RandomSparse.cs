using Splade.Sparse;

namespace Splade.Tests.Engines;

/// <summary>Seeded random sparse vectors for store tests.</summary>
internal static class RandomSparse
{
    /// <summary>A vector with <paramref name="nnz"/> distinct indices below <paramref name="dimension"/> and weights in (0, maxWeight].</summary>
    public static SparseVector Vector(Random random, int dimension, int nnz, float maxWeight = 2.5f)
    {
        var pairs = new Dictionary<int, float>();
        while (pairs.Count < nnz)
            pairs[random.Next(dimension)] = (float)(maxWeight * (1 - random.NextDouble()));
        return SparseVector.FromPairs(dimension, pairs);
    }

    /// <summary>Exact top-k by dot product with ties by id (the <see cref="Splade.Search.ISparseIndex"/> order).</summary>
    public static List<(string Id, float Score)> BruteForce(IEnumerable<(string Id, SparseVector Vector)> docs, SparseVector query, int k) =>
        docs.Select(d => (d.Id, Score: d.Vector.Dot(query)))
            .Where(h => h.Score > 0)
            .OrderByDescending(h => h.Score).ThenBy(h => h.Id, StringComparer.Ordinal)
            .Take(k).ToList();
}
