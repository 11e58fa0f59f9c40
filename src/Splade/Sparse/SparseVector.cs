using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Splade.Sparse;

/// <summary>
/// A sparse vector over a fixed dimension (the vocabulary for SPLADE): strictly ascending
/// <see cref="Indices"/> with their non-zero <see cref="Values"/>. Immutable once built.
/// </summary>
public sealed class SparseVector : IEquatable<SparseVector>
{
    private readonly int[] _indices;
    private readonly float[] _values;

    /// <summary>Creates a vector from ascending indices and their values (copied, validated).</summary>
    /// <exception cref="ArgumentException">Lengths differ, indices not strictly ascending, out of range, or a value is NaN/infinite.</exception>
    public SparseVector(int dimension, ReadOnlySpan<int> indices, ReadOnlySpan<float> values)
        : this(dimension, indices.ToArray(), values.ToArray(), validate: true)
    {
    }

    private SparseVector(int dimension, int[] indices, float[] values, bool validate)
    {
        if (dimension <= 0) throw new ArgumentOutOfRangeException(nameof(dimension), dimension, "Dimension must be positive.");
        if (validate)
        {
            if (indices.Length != values.Length)
                throw new ArgumentException($"indices has {indices.Length} entries but values has {values.Length}.");
            int previous = -1;
            for (int i = 0; i < indices.Length; i++)
            {
                int index = indices[i];
                if (index < 0 || index >= dimension)
                    throw new ArgumentException($"index {index} at position {i} is outside [0, {dimension}).");
                if (index <= previous)
                    throw new ArgumentException($"indices must be strictly ascending: {previous} then {index} at position {i}.");
                if (!float.IsFinite(values[i]))
                    throw new ArgumentException($"value at position {i} (index {index}) is not finite: {values[i]}.");
                previous = index;
            }
        }
        Dimension = dimension;
        _indices = indices;
        _values = values;
    }

    /// <summary>Wraps arrays the caller promises are valid and will not mutate (no copy).</summary>
    internal static SparseVector FromTrusted(int dimension, int[] indices, float[] values)
    {
        System.Diagnostics.Debug.Assert(indices.Length == values.Length);
        return new SparseVector(dimension, indices, values, validate: false);
    }

    /// <summary>Builds a vector from a dense array, keeping entries that are not zero.</summary>
    public static SparseVector FromDense(ReadOnlySpan<float> dense)
    {
        // A pooled SPLADE row is 30522 floats with a few dozen non-zeros: both passes compare eight
        // values at a time (v != 0 is true for NaN, false for −0, as in the scalar test) and only the
        // set bits of the mask are visited.
        int count = 0, i = 0;
        for (; i + 8 <= dense.Length; i += 8)
            count += System.Numerics.BitOperations.PopCount(NonZeroMask(dense, i));
        for (; i < dense.Length; i++) if (dense[i] != 0f) count++;
        var indices = new int[count];
        var values = new float[count];
        int k = 0;
        for (i = 0; i + 8 <= dense.Length; i += 8)
        {
            uint mask = NonZeroMask(dense, i);
            while (mask != 0)
            {
                int at = i + System.Numerics.BitOperations.TrailingZeroCount(mask);
                mask &= mask - 1;
                Add(dense, at, indices, values, ref k);
            }
        }
        for (; i < dense.Length; i++) if (dense[i] != 0f) Add(dense, i, indices, values, ref k);
        return new SparseVector(dense.Length, indices, values, validate: false);

        static uint NonZeroMask(ReadOnlySpan<float> d, int at) =>
            ~Vector256.Equals(Vector256.Create(d.Slice(at, 8)), Vector256<float>.Zero).ExtractMostSignificantBits() & 0xFFu;

        static void Add(ReadOnlySpan<float> d, int at, int[] indices, float[] values, ref int k)
        {
            if (!float.IsFinite(d[at])) throw new ArgumentException($"dense value at {at} is not finite: {d[at]}.");
            indices[k] = at;
            values[k++] = d[at];
        }
    }

    /// <summary>Builds a vector from unordered (index, value) pairs; duplicate indices are an error, zeros are dropped.</summary>
    public static SparseVector FromPairs(int dimension, IEnumerable<KeyValuePair<int, float>> pairs)
    {
        var list = pairs.Where(p => p.Value != 0f).OrderBy(p => p.Key).ToArray();
        return new SparseVector(dimension, list.Select(p => p.Key).ToArray(), list.Select(p => p.Value).ToArray(), validate: true);
    }

    /// <summary>An empty vector (no active dimension).</summary>
    public static SparseVector Empty(int dimension) => new(dimension, Array.Empty<int>(), Array.Empty<float>(), validate: false);

    /// <summary>Dimension of the space (30522 for a BERT-vocabulary SPLADE model).</summary>
    public int Dimension { get; }

    /// <summary>Strictly ascending active indices.</summary>
    public ReadOnlySpan<int> Indices => _indices;

    /// <summary>Values of <see cref="Indices"/>, position for position.</summary>
    public ReadOnlySpan<float> Values => _values;

    /// <summary>Number of stored (active) dimensions.</summary>
    public int Count => _indices.Length;

    /// <summary>Value at <paramref name="index"/>, zero when inactive.</summary>
    public float this[int index]
    {
        get
        {
            int at = Array.BinarySearch(_indices, index);
            return at >= 0 ? _values[at] : 0f;
        }
    }

    /// <summary>Dot product by a sorted merge of the two index lists.</summary>
    public float Dot(SparseVector other)
    {
        CheckSameDimension(other);
        ReadOnlySpan<int> ai = _indices, bi = other._indices;
        ReadOnlySpan<float> av = _values, bv = other._values;
        int i = 0, j = 0;
        float sum = 0f;
        while (i < ai.Length && j < bi.Length)
        {
            int x = ai[i], y = bi[j];
            if (x == y) { sum += av[i] * bv[j]; i++; j++; }
            else if (x < y) i++;
            else j++;
        }
        return sum;
    }

    /// <summary>Euclidean (L2) norm.</summary>
    public float Norm()
    {
        double s = 0;
        foreach (float v in _values) s += (double)v * v;
        return (float)Math.Sqrt(s);
    }

    /// <summary>Cosine similarity; 0 when either vector is empty.</summary>
    public float Cosine(SparseVector other)
    {
        float n = Norm() * other.Norm();
        return n == 0f ? 0f : Dot(other) / n;
    }

    /// <summary>Keeps the <paramref name="k"/> largest values (ties broken by lower index), indices stay ascending.</summary>
    public SparseVector TopK(int k)
    {
        if (k < 0) throw new ArgumentOutOfRangeException(nameof(k), k, "k must be non-negative.");
        if (k >= Count) return this;
        var order = Enumerable.Range(0, Count)
            .OrderByDescending(p => _values[p]).ThenBy(p => _indices[p])
            .Take(k).OrderBy(p => _indices[p]).ToArray();
        return new SparseVector(Dimension, order.Select(p => _indices[p]).ToArray(), order.Select(p => _values[p]).ToArray(), validate: false);
    }

    /// <summary>Drops entries whose value is below <paramref name="minWeight"/>.</summary>
    public SparseVector Prune(float minWeight)
    {
        var keep = Enumerable.Range(0, Count).Where(p => _values[p] >= minWeight).ToArray();
        if (keep.Length == Count) return this;
        return new SparseVector(Dimension, keep.Select(p => _indices[p]).ToArray(), keep.Select(p => _values[p]).ToArray(), validate: false);
    }

    /// <summary>Dense copy of length <see cref="Dimension"/>.</summary>
    public float[] ToDense()
    {
        var dense = new float[Dimension];
        for (int i = 0; i < _indices.Length; i++) dense[_indices[i]] = _values[i];
        return dense;
    }

    private void CheckSameDimension(SparseVector other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (other.Dimension != Dimension)
            throw new ArgumentException($"Dimension mismatch: {Dimension} vs {other.Dimension}.", nameof(other));
    }

    /// <inheritdoc />
    public bool Equals(SparseVector? other) =>
        other is not null && other.Dimension == Dimension &&
        Indices.SequenceEqual(other.Indices) && Values.SequenceEqual(other.Values);

    /// <inheritdoc />
    public override bool Equals(object? obj) => Equals(obj as SparseVector);

    /// <inheritdoc />
    public override int GetHashCode()
    {
        var h = new HashCode();
        h.Add(Dimension);
        h.AddBytes(MemoryMarshal.AsBytes(Indices));
        h.AddBytes(MemoryMarshal.AsBytes(Values));
        return h.ToHashCode();
    }

    /// <inheritdoc />
    public override string ToString() => $"SparseVector(dim={Dimension}, nnz={Count})";
}
