using Splade.Sparse;
using PgSparseVector = Pgvector.SparseVector;

namespace Splade.Postgres;

/// <summary>Converts between <see cref="SparseVector"/> and pgvector's <c>sparsevec</c> wire type.</summary>
internal static class PgVectorConversion
{
    /// <summary>
    /// The pgvector value for <paramref name="vector"/>: zeros dropped (the binary format rejects
    /// them), then, when <paramref name="maxNonZeros"/> is given, only the largest weights kept.
    /// </summary>
    public static PgSparseVector ToPg(SparseVector vector, int? maxNonZeros)
    {
        if (maxNonZeros is int k && vector.Count > k) vector = vector.TopK(k);
        ReadOnlySpan<int> indices = vector.Indices;
        ReadOnlySpan<float> values = vector.Values;
        int nonZero = 0;
        foreach (float v in values) if (v != 0f) nonZero++;
        var outIndices = new int[nonZero];
        var outValues = new float[nonZero];
        for (int i = 0, j = 0; i < values.Length; i++)
        {
            if (values[i] == 0f) continue;
            outIndices[j] = indices[i];
            outValues[j++] = values[i];
        }
        return new PgSparseVector(vector.Dimension, outIndices, outValues);
    }

    /// <summary>The <see cref="SparseVector"/> for a value read back from PostgreSQL.</summary>
    public static SparseVector FromPg(PgSparseVector vector) =>
        new(vector.Dimensions, vector.Indices.Span, vector.Values.Span);
}
