using Splade.Sparse;

namespace Splade.Tests.Sparse;

public class SparseVectorTests
{
    private static SparseVector V(int dim, params (int I, float V)[] e) =>
        new(dim, e.Select(x => x.I).ToArray(), e.Select(x => x.V).ToArray());

    [Fact]
    public void Dot_merges_sorted_indices()
    {
        var a = V(10, (1, 2f), (3, 1f), (7, 4f));
        var b = V(10, (0, 5f), (3, 3f), (7, 0.5f), (9, 1f));
        Assert.Equal(2f * 0 + 1f * 3f + 4f * 0.5f, a.Dot(b));
        Assert.Equal(a.Dot(b), b.Dot(a));
    }

    [Fact]
    public void Dot_matches_dense_on_random_vectors()
    {
        var rng = new Random(7);
        for (int t = 0; t < 50; t++)
        {
            var da = RandomDense(rng, 769);
            var db = RandomDense(rng, 769);
            double expected = 0;
            for (int i = 0; i < da.Length; i++) expected += (double)da[i] * db[i];
            Assert.Equal(expected, SparseVector.FromDense(da).Dot(SparseVector.FromDense(db)), 3);
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(8)]
    [InlineData(9)]
    [InlineData(63)]
    [InlineData(30522)]
    public void FromDense_keeps_exactly_the_non_zero_entries_in_order(int length)
    {
        var rng = new Random(length);
        var dense = new float[length];
        for (int i = 0; i < length; i++)
            dense[i] = rng.Next(4) switch { 0 => (float)rng.NextDouble() + 0.1f, 1 => -0f, _ => 0f };
        dense[^1] = 2.5f;
        var v = SparseVector.FromDense(dense);
        int[] expected = Enumerable.Range(0, length).Where(i => dense[i] != 0f).ToArray();
        Assert.Equal(expected, v.Indices.ToArray());
        Assert.Equal(expected.Select(i => dense[i]).ToArray(), v.Values.ToArray());
        dense[length / 2] = float.NaN;
        var e = Assert.Throws<ArgumentException>(() => SparseVector.FromDense(dense));
        Assert.Contains($"at {length / 2}", e.Message);
    }

    [Fact]
    public void Constructor_rejects_invalid_input()
    {
        Assert.Throws<ArgumentException>(() => new SparseVector(10, [3, 2], [1f, 1f]));
        Assert.Throws<ArgumentException>(() => new SparseVector(10, [2, 2], [1f, 1f]));
        Assert.Throws<ArgumentException>(() => new SparseVector(10, [10], [1f]));
        Assert.Throws<ArgumentException>(() => new SparseVector(10, [-1], [1f]));
        Assert.Throws<ArgumentException>(() => new SparseVector(10, [1], [float.NaN]));
        Assert.Throws<ArgumentException>(() => new SparseVector(10, [1, 2], [1f]));
        Assert.Throws<ArgumentException>(() => V(10, (1, 1f)).Dot(V(11, (1, 1f))));
    }

    [Fact]
    public void TopK_keeps_largest_and_ascending_order()
    {
        var v = V(10, (1, 0.5f), (2, 3f), (5, 1f), (8, 3f), (9, 0.1f));
        var top = v.TopK(3);
        Assert.Equal([2, 5, 8], top.Indices.ToArray());
        Assert.Equal([3f, 1f, 3f], top.Values.ToArray());
        Assert.Same(v, v.TopK(10));
        Assert.Equal(0, v.TopK(0).Count);
        // Tie at the cut: the lower index wins.
        Assert.Equal([2], v.TopK(1).Indices.ToArray());
    }

    [Fact]
    public void Similarity_functions_match_definitions()
    {
        var a = V(5, (0, 1f), (2, 2f));
        var b = V(5, (2, 1f), (4, 2f));
        Assert.Equal(2f, SparseSimilarity.Compute(SimilarityFunction.Dot, a, b));
        Assert.Equal(2f / (MathF.Sqrt(5) * MathF.Sqrt(5)), SparseSimilarity.Compute(SimilarityFunction.Cosine, a, b), 6);
        // a - b = (1, 0, 1, 0, -2): L2 = sqrt(6), L1 = 4; distances are negated.
        Assert.Equal(-MathF.Sqrt(6), SparseSimilarity.Compute(SimilarityFunction.Euclidean, a, b), 6);
        Assert.Equal(-4f, SparseSimilarity.Compute(SimilarityFunction.Manhattan, a, b));
        Assert.Equal(SimilarityFunction.Dot, SparseSimilarity.Parse("dot"));
        Assert.Throws<ArgumentException>(() => SparseSimilarity.Parse("jaccard"));
    }

    [Fact]
    public void Intersection_gives_per_token_contributions_summing_to_dot()
    {
        var a = V(6, (0, 1f), (2, 2f), (3, 1.5f));
        var b = V(6, (2, 3f), (3, 2f), (5, 1f));
        var x = SparseSimilarity.Intersection(a, b);
        Assert.Equal([2, 3], x.Indices.ToArray());
        Assert.Equal([6f, 3f], x.Values.ToArray());
        Assert.Equal(a.Dot(b), x.Values.ToArray().Sum());
    }

    [Fact]
    public void Matrix_and_pairwise_agree_with_single_calls()
    {
        var rng = new Random(3);
        var a = Enumerable.Range(0, 4).Select(_ => SparseVector.FromDense(RandomDense(rng, 31))).ToArray();
        var b = Enumerable.Range(0, 4).Select(_ => SparseVector.FromDense(RandomDense(rng, 31))).ToArray();
        var m = SparseSimilarity.Matrix(SimilarityFunction.Dot, a, b);
        var p = SparseSimilarity.Pairwise(SimilarityFunction.Dot, a, b);
        for (int i = 0; i < 4; i++)
        {
            Assert.Equal(a[i].Dot(b[i]), p[i]);
            for (int j = 0; j < 4; j++) Assert.Equal(a[i].Dot(b[j]), m[i, j]);
        }
    }

    [Fact]
    public void Sparsity_reports_mean_active_dims()
    {
        var s = SparsityStats.Of([V(100, (1, 1f), (2, 1f)), V(100, (3, 1f), (4, 1f), (5, 1f), (6, 1f))]);
        Assert.Equal(3, s.ActiveDims);
        Assert.Equal(0.97, s.SparsityRatio, 10);
    }

    private static float[] RandomDense(Random rng, int n)
    {
        var d = new float[n];
        for (int i = 0; i < n; i++) if (rng.NextDouble() < 0.1) d[i] = (float)rng.NextDouble() * 2.5f;
        return d;
    }
}
