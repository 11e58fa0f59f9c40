using Splade.Sparse;

namespace Splade;

/// <summary>
/// Anything that turns texts into sparse vectors over a fixed dimension: the SPLADE
/// <c>SparseEncoder</c>, BM25, or vectors read from files. Search and evaluation depend on
/// this contract only, never on the network that implements it.
/// </summary>
public interface ISparseTextEncoder
{
    /// <summary>Dimension of every vector produced (the vocabulary size for SPLADE).</summary>
    int Dimension { get; }

    /// <summary>Encodes search queries (query prompt / query route), results in input order.</summary>
    IReadOnlyList<SparseVector> EncodeQueries(IReadOnlyList<string> texts, CancellationToken cancellationToken = default);

    /// <summary>Encodes documents (document prompt / document route), results in input order.</summary>
    IReadOnlyList<SparseVector> EncodeDocuments(IReadOnlyList<string> texts, CancellationToken cancellationToken = default);
}
