using System.Text.Json;
using Splade.Search;
using Splade.Sparse;

namespace Splade.Connectors;

/// <summary>
/// Bodies shared by the engines that store a sparse vector as a <c>{"token": weight}</c> object
/// (Elasticsearch <c>sparse_vector</c>, OpenSearch <c>rank_features</c>): the mapping with one
/// vector field and one text field, the document and bulk bodies, and a search body around the
/// engine's own query clause. Keys have <c>.</c> replaced by <c>__</c> by default
/// (<see cref="TokenKeys.EscapeDots"/>).
/// </summary>
public abstract class TokenKeyedRequests : ISearchEngineRequests
{
    /// <summary>Creates the bodies for <paramref name="index"/>; <paramref name="keys"/> defaults to dot-escaped tokens.</summary>
    protected TokenKeyedRequests(string index, Func<int, string> idToToken, string vectorField, string textField, TokenKeys? keys)
    {
        ArgumentException.ThrowIfNullOrEmpty(index);
        Index = index;
        VectorField = vectorField;
        TextField = textField;
        Keys = keys ?? TokenKeys.WithEscapedDots(idToToken);
    }

    /// <inheritdoc />
    public string Index { get; }

    /// <inheritdoc />
    public string VectorField { get; }

    /// <inheritdoc />
    public string TextField { get; }

    /// <summary>How token ids become object keys.</summary>
    protected TokenKeys Keys { get; }

    /// <summary>The mapping type of the vector field (<c>sparse_vector</c>, <c>rank_features</c>).</summary>
    protected abstract string VectorFieldType { get; }

    /// <summary>Writes the engine's query clause (the value of <c>"query"</c>) for a query vector.</summary>
    protected abstract void WriteQueryClause(Utf8JsonWriter w, SparseVector query);

    /// <inheritdoc />
    public string CreateIndexBody() => SparseJson.Write(w =>
    {
        w.WriteStartObject();
        w.WriteStartObject("mappings");
        w.WriteStartObject("properties");
        w.WriteStartObject(VectorField);
        w.WriteString("type", VectorFieldType);
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
        SparseJson.WriteTokenObject(w, document.Vector, Keys, $"document '{document.Id}'");
        if (document.Text is not null) w.WriteString(TextField, document.Text);
        w.WriteEndObject();
    });

    /// <inheritdoc />
    public string BulkIndexBody(IEnumerable<IndexedDocument> documents) => BulkNdjson.Index(Index, documents, DocumentBody);

    /// <inheritdoc />
    public string SearchBody(SparseVector query, int size) => SearchWith(size, w => WriteQueryClause(w, query));

    /// <summary>A search body <c>{"size", "query": clause, "_source": [text]}</c>.</summary>
    protected string SearchWith(int size, Action<Utf8JsonWriter> writeClause) => SparseJson.Write(w =>
    {
        w.WriteStartObject();
        w.WriteNumber("size", size);
        w.WritePropertyName("query");
        writeClause(w);
        BulkNdjson.WriteSourceFilter(w, TextField);
        w.WriteEndObject();
    });
}
