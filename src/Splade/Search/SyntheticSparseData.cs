using Splade.Sparse;

namespace Splade.Search;

/// <summary>
/// Seeded SPLADE-like sparse vectors for tests and measurements: a random permutation of the
/// vocabulary ranks the terms, a term of rank r is drawn with probability ∝ 1/(r + <see cref="RankOffset"/>)
/// (a Zipf–Mandelbrot law), without repetition inside a vector, and weights are uniform on (0, 2.5).
/// Documents and queries must come from the same generator (or a <see cref="Fork"/>) to share the permutation.
/// </summary>
public sealed class SyntheticSparseData
{
    private readonly int[] _termOfRank;      // [dimension] rank -> term id
    private readonly double[] _cumulative;   // [dimension] P(rank <= r)
    private readonly Random _random;
    private bool[] _taken;

    /// <summary>Creates a generator; <paramref name="seed"/> fixes the permutation and the draws.</summary>
    public SyntheticSparseData(int seed, int dimension = 30522, double rankOffset = 40, float maxWeight = 2.5f)
        : this(BuildPermutation(seed, dimension), BuildCumulative(dimension, rankOffset), new Random(unchecked(seed * 31 + 7)), rankOffset, maxWeight)
    {
    }

    private SyntheticSparseData(int[] termOfRank, double[] cumulative, Random random, double rankOffset, float maxWeight)
    {
        _termOfRank = termOfRank;
        _cumulative = cumulative;
        _random = random;
        _taken = new bool[termOfRank.Length];
        RankOffset = rankOffset;
        MaxWeight = maxWeight;
    }

    /// <summary>Dimension of the vectors.</summary>
    public int Dimension => _termOfRank.Length;

    /// <summary>The offset of the rank law (40 by default).</summary>
    public double RankOffset { get; }

    /// <summary>Weights are uniform on (0, MaxWeight).</summary>
    public float MaxWeight { get; }

    /// <summary>A generator with the same permutation and an independent stream of draws.</summary>
    public SyntheticSparseData Fork(int streamSeed) => new(_termOfRank, _cumulative, new Random(streamSeed), RankOffset, MaxWeight);

    /// <summary>One vector with <paramref name="nonZeros"/> distinct active terms.</summary>
    public SparseVector Next(int nonZeros)
    {
        if (nonZeros > Dimension) throw new ArgumentOutOfRangeException(nameof(nonZeros), nonZeros, $"At most {Dimension} non-zeros.");
        var indices = new int[nonZeros];
        for (int i = 0; i < nonZeros; i++)
        {
            int term;
            do
            {
                int rank = Array.BinarySearch(_cumulative, _random.NextDouble());
                if (rank < 0) rank = ~rank;
                term = _termOfRank[Math.Min(rank, Dimension - 1)];
            } while (_taken[term]);
            _taken[term] = true;
            indices[i] = term;
        }
        foreach (int t in indices) _taken[t] = false;
        Array.Sort(indices);
        var values = new float[nonZeros];
        for (int i = 0; i < nonZeros; i++)
        {
            float v;
            do v = (float)(_random.NextDouble() * MaxWeight); while (v <= 0f || v >= MaxWeight);
            values[i] = v;
        }
        return SparseVector.FromTrusted(Dimension, indices, values);
    }

    /// <summary><paramref name="count"/> documents with ids "d0", "d1", ...</summary>
    public List<IndexedDocument> Documents(int count, int nonZeros = 150, string idPrefix = "d")
    {
        var docs = new List<IndexedDocument>(count);
        for (int i = 0; i < count; i++) docs.Add(new IndexedDocument(idPrefix + i.ToString(System.Globalization.CultureInfo.InvariantCulture), Next(nonZeros)));
        return docs;
    }

    /// <summary><paramref name="count"/> query vectors.</summary>
    public List<SparseVector> Queries(int count, int nonZeros = 30)
    {
        var queries = new List<SparseVector>(count);
        for (int i = 0; i < count; i++) queries.Add(Next(nonZeros));
        return queries;
    }

    private static int[] BuildPermutation(int seed, int dimension)
    {
        var perm = Enumerable.Range(0, dimension).ToArray();
        new Random(seed).Shuffle(perm);
        return perm;
    }

    private static double[] BuildCumulative(int dimension, double offset)
    {
        var c = new double[dimension];
        double sum = 0;
        for (int r = 0; r < dimension; r++) { sum += 1.0 / (r + offset); c[r] = sum; }
        for (int r = 0; r < dimension; r++) c[r] /= sum;
        return c;
    }
}
