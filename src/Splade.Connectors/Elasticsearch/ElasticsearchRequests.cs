using System.Text.Json;
using Splade.Sparse;

namespace Splade.Connectors.Elasticsearch;

/// <summary>
/// Elasticsearch (8.15+) bodies for a <c>sparse_vector</c> field keyed by token strings:
/// mapping <c>{"type":"sparse_vector"}</c>, documents <c>{"field":{"token":weight,...}}</c> and the
/// <c>sparse_vector</c> query with a <c>query_vector</c>. Keys have <c>.</c> replaced by <c>__</c>
/// by default (see <see cref="TokenKeys.EscapeDots"/>).
/// </summary>
public sealed class ElasticsearchRequests(string index, Func<int, string> idToToken, string vectorField = "splade", string textField = "text", TokenKeys? keys = null)
    : TokenKeyedRequests(index, idToToken, vectorField, textField, keys)
{
    /// <inheritdoc />
    protected override string VectorFieldType => "sparse_vector";

    /// <inheritdoc />
    protected override void WriteQueryClause(Utf8JsonWriter w, SparseVector query)
    {
        w.WriteStartObject();
        w.WriteStartObject("sparse_vector");
        w.WriteString("field", VectorField);
        w.WritePropertyName("query_vector");
        SparseJson.WriteTokenObject(w, query, Keys, "query");
        w.WriteEndObject();
        w.WriteEndObject();
    }
}
