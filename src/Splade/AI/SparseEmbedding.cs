using Microsoft.Extensions.AI;
using Splade.Sparse;

namespace Splade.AI;

/// <summary>
/// A SPLADE embedding in Microsoft.Extensions.AI's shape: the sparse vector's strictly ascending
/// token <see cref="Indices"/> and their non-zero <see cref="Values"/> over
/// <see cref="Dimensions"/> (the vocabulary size).
/// </summary>
public sealed class SparseEmbedding : Embedding
{
    /// <summary>Wraps <paramref name="vector"/> (not copied: sparse vectors are immutable).</summary>
    public SparseEmbedding(SparseVector vector)
    {
        ArgumentNullException.ThrowIfNull(vector);
        Vector = vector;
        Indices = vector.Indices.ToArray();
        Values = vector.Values.ToArray();
    }

    /// <summary>The sparse vector, for the index, search and similarity APIs of this library.</summary>
    public SparseVector Vector { get; }

    /// <summary>Vocabulary ids of the non-zero entries, strictly ascending.</summary>
    public ReadOnlyMemory<int> Indices { get; }

    /// <summary>The weight of each entry of <see cref="Indices"/>.</summary>
    public ReadOnlyMemory<float> Values { get; }

    /// <summary>Number of non-zero entries.</summary>
    public int Count => Vector.Count;

    /// <summary>The vector's dimension (the vocabulary size), not its number of non-zero entries.</summary>
    public override int Dimensions => Vector.Dimension;
}
