using Splade.Search;
using Splade.Sparse;

namespace Splade.Connectors;

/// <summary>
/// Request bodies for an Elasticsearch-style engine (Elasticsearch, OpenSearch): index creation,
/// <c>_bulk</c> writes and a top-k sparse query. Bodies are exact strings so that they can be
/// logged, replayed with curl, and compared with the documented shapes.
/// </summary>
public interface ISearchEngineRequests
{
    /// <summary>Index name the bodies refer to.</summary>
    string Index { get; }

    /// <summary>Name of the sparse vector field.</summary>
    string VectorField { get; }

    /// <summary>Name of the text field (stored when a document has text).</summary>
    string TextField { get; }

    /// <summary>Body of <c>PUT /{index}</c>: settings and mappings.</summary>
    string CreateIndexBody();

    /// <summary>The document <c>_source</c>: the sparse field and, when present, the text.</summary>
    string DocumentBody(IndexedDocument document);

    /// <summary>NDJSON body of <c>POST /_bulk</c> indexing (create or replace) every document; ends with a newline.</summary>
    string BulkIndexBody(IEnumerable<IndexedDocument> documents);

    /// <summary>Body of <c>POST /{index}/_search</c> for the top <paramref name="size"/> documents by sparse dot product.</summary>
    string SearchBody(SparseVector query, int size);
}
