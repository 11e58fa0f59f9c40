using Splade.Search;
using Splade.Sparse;

namespace Splade.Connectors.Elasticsearch;

/// <summary>
/// Elasticsearch (8.15+) bodies for a <c>sparse_vector</c> field keyed by token strings:
/// mapping <c>{"type":"sparse_vector"}</c>, documents <c>{"field":{"token":weight,...}}</c> and the
/// <c>sparse_vector</c> query with a <c>query_vector</c>. Keys have <c>.</c> replaced by <c>__</c>
/// by default (see <see cref="TokenKeys.EscapeDots"/>).
/// </summary>
public sealed class ElasticsearchRequests : ISearchEngineRequests
{
    private readonly TokenKeys _keys;

    /// <summary>Creates the bodies for <paramref name="index"/>; <paramref name="keys"/> defaults to dot-escaped tokens.</summary>
    public ElasticsearchRequests(string index, Func<int, string> idToToken, string vectorField = "splade", string textField = "text", TokenKeys? keys = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(index);
        Index = index;
        VectorField = vectorField;
        TextField = textField;
        _keys = keys ?? TokenKeys.WithEscapedDots(idToToken);
    }

    /// <inheritdoc />
    public string Index { get; }

    /// <inheritdoc />
    public string VectorField { get; }

    /// <inheritdoc />
    public string TextField { get; }

    /// <inheritdoc />
    public string CreateIndexBody() => SparseJson.Write(w =>
    {
        w.WriteStartObject();
        w.WriteStartObject("mappings");
        w.WriteStartObject("properties");
        w.WriteStartObject(VectorField);
        w.WriteString("type", "sparse_vector");
        w.WriteEndObject();
        w.WriteStartObject(TextField);
        w.WriteString("type", "text");
        w.WriteEndObject();
        w.WriteEndObject();
        w.WriteEndObject();
        w.WriteEndObject();
    });

    /// <inheritdoc />
    public string DocumentBody(IndexedDocument document) => SparseJson.Write(w =>
    {
        w.WriteStartObject();
        w.WritePropertyName(VectorField);
        SparseJson.WriteTokenObject(w, document.Vector, _keys, $"document '{document.Id}'");
        if (document.Text is not null) w.WriteString(TextField, document.Text);
        w.WriteEndObject();
    });

    /// <inheritdoc />
    public string BulkIndexBody(IEnumerable<IndexedDocument> documents) => BulkNdjson.Index(Index, documents, DocumentBody);

    /// <inheritdoc />
    public string SearchBody(SparseVector query, int size) => SparseJson.Write(w =>
    {
        w.WriteStartObject();
        w.WriteNumber("size", size);
        w.WriteStartObject("query");
        w.WriteStartObject("sparse_vector");
        w.WriteString("field", VectorField);
        w.WritePropertyName("query_vector");
        SparseJson.WriteTokenObject(w, query, _keys, "query");
        w.WriteEndObject();
        w.WriteEndObject();
        BulkNdjson.WriteSourceFilter(w, TextField);
        w.WriteEndObject();
    });
}
