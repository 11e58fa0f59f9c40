using Splade.Sparse;

namespace Splade.Search;

/// <summary>A document to store: its external id, its sparse vector and, optionally, its text.</summary>
public sealed record IndexedDocument(string Id, SparseVector Vector, string? Text = null);

/// <summary>One search result: the document id, its score (dot product) and, when stored, its text.</summary>
public readonly record struct SearchHit(string Id, float Score, string? Text = null);

/// <summary>
/// The contract every sparse-vector store implements (the embedded inverted index, PostgreSQL,
/// ...): add or replace documents by id, delete by id, make changes durable, and exact top-k search
/// by inner product. Hits are ordered by score descending, ties by id ascending (ordinal).
/// </summary>
public interface ISparseIndex : IDisposable
{
    /// <summary>Number of live (not deleted) documents visible to search.</summary>
    long Count { get; }

    /// <summary>Adds documents, replacing any existing document with the same id.</summary>
    void Upsert(IReadOnlyList<IndexedDocument> documents, CancellationToken cancellationToken = default);

    /// <summary>Deletes a document by id; returns false when it did not exist.</summary>
    bool Delete(string id);

    /// <summary>Makes every change so far durable and visible to search.</summary>
    void Commit();

    /// <summary>Exact top-k by inner product.</summary>
    IReadOnlyList<SearchHit> Search(SparseVector query, int topK, CancellationToken cancellationToken = default);
}
