using Splade.Search;
using Splade.Sparse;

namespace Splade.Postgres.Bench;

/// <summary>
/// Seeded synthetic SPLADE-like vectors: term ids drawn without replacement with probability
/// proportional to 1/(rank + 40) over a random permutation of the vocabulary (a Zipf-Mandelbrot
/// head like real SPLADE term usage), weights uniform in (0, 2.5].
/// </summary>
internal sealed class SyntheticCorpus
{
    private readonly int[] _permutation;   // [dimension] rank -> term id
    private readonly double[] _cumulative; // [dimension] prefix sums of 1/(rank+40), last = 1

    public SyntheticCorpus(int dimension, int seed)
    {
        Dimension = dimension;
        var random = new Random(seed);
        _permutation = Enumerable.Range(0, dimension).ToArray();
        random.Shuffle(_permutation);
        _cumulative = new double[dimension];
        double sum = 0;
        for (int r = 0; r < dimension; r++) { sum += 1.0 / (r + 40); _cumulative[r] = sum; }
        for (int r = 0; r < dimension; r++) _cumulative[r] /= sum;
    }

    public int Dimension { get; }

    public SparseVector Vector(Random random, int nnz)
    {
        var pairs = new Dictionary<int, float>(nnz);
        while (pairs.Count < nnz)
        {
            int rank = Array.BinarySearch(_cumulative, random.NextDouble());
            if (rank < 0) rank = ~rank;
            int id = _permutation[Math.Min(rank, Dimension - 1)];
            if (!pairs.ContainsKey(id)) pairs[id] = (float)(2.5 * (1 - random.NextDouble()));
        }
        return SparseVector.FromPairs(Dimension, pairs);
    }

    public IEnumerable<IndexedDocument> Documents(int count, int nnz, int seed)
    {
        var random = new Random(seed);
        for (int i = 0; i < count; i++) yield return new IndexedDocument("doc" + i.ToString("D7"), Vector(random, nnz));
    }
}
