using Splade.Search;
using Splade.Sparse;

namespace Splade.Connectors.OpenSearch;

/// <summary>
/// OpenSearch (2.11+) neural sparse search on a <c>rank_features</c> field keyed by token strings:
/// mapping <c>{"type":"rank_features"}</c> and the <c>neural_sparse</c> query with
/// <c>query_tokens</c> (exact scoring). <c>rank_features</c> rejects dots in feature names, so keys
/// use <see cref="TokenKeys.EscapeDots"/> by default.
/// </summary>
public sealed class OpenSearchRankFeaturesRequests : ISearchEngineRequests
{
    private readonly TokenKeys _keys;

    /// <summary>Creates the bodies for <paramref name="index"/>.</summary>
    public OpenSearchRankFeaturesRequests(string index, Func<int, string> idToToken, string vectorField = "splade", string textField = "text", TokenKeys? keys = null)
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
        w.WriteString("type", "rank_features");
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
        w.WriteStartObject("neural_sparse");
        w.WriteStartObject(VectorField);
        w.WritePropertyName("query_tokens");
        SparseJson.WriteTokenObject(w, query, _keys, "query");
        w.WriteEndObject();
        w.WriteEndObject();
        w.WriteEndObject();
        BulkNdjson.WriteSourceFilter(w, TextField);
        w.WriteEndObject();
    });

    /// <summary>
    /// A <c>neural_sparse</c> query that lets OpenSearch encode <paramref name="queryText"/> with the
    /// deployed model <paramref name="modelId"/> (for example a remote connector to <c>splade serve</c>).
    /// </summary>
    public string SearchTextBody(string queryText, string modelId, int size) => SparseJson.Write(w =>
    {
        w.WriteStartObject();
        w.WriteNumber("size", size);
        w.WriteStartObject("query");
        w.WriteStartObject("neural_sparse");
        w.WriteStartObject(VectorField);
        w.WriteString("query_text", queryText);
        w.WriteString("model_id", modelId);
        w.WriteEndObject();
        w.WriteEndObject();
        w.WriteEndObject();
        BulkNdjson.WriteSourceFilter(w, TextField);
        w.WriteEndObject();
    });
}
