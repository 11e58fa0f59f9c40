using System.Text.Json;
using Splade.Sparse;

namespace Splade.Connectors.OpenSearch;

/// <summary>
/// OpenSearch (2.11+) neural sparse search on a <c>rank_features</c> field keyed by token strings:
/// mapping <c>{"type":"rank_features"}</c> and the <c>neural_sparse</c> query with
/// <c>query_tokens</c> (exact scoring). <c>rank_features</c> rejects dots in feature names, so keys
/// use <see cref="TokenKeys.EscapeDots"/> by default.
/// </summary>
public sealed class OpenSearchRankFeaturesRequests(string index, Func<int, string> idToToken, string vectorField = "splade", string textField = "text", TokenKeys? keys = null)
    : TokenKeyedRequests(index, idToToken, vectorField, textField, keys)
{
    /// <inheritdoc />
    protected override string VectorFieldType => "rank_features";

    /// <inheritdoc />
    protected override void WriteQueryClause(Utf8JsonWriter w, SparseVector query) =>
        WriteNeuralSparse(w, () =>
        {
            w.WritePropertyName("query_tokens");
            SparseJson.WriteTokenObject(w, query, Keys, "query");
        });

    /// <summary>
    /// A <c>neural_sparse</c> query that lets OpenSearch encode <paramref name="queryText"/> with the
    /// deployed model <paramref name="modelId"/> (for example a remote connector to <c>splade serve</c>).
    /// </summary>
    public string SearchTextBody(string queryText, string modelId, int size) => SearchWith(size, w =>
        WriteNeuralSparse(w, () =>
        {
            w.WriteString("query_text", queryText);
            w.WriteString("model_id", modelId);
        }));

    private void WriteNeuralSparse(Utf8JsonWriter w, Action writeFieldContent)
    {
        w.WriteStartObject();
        w.WriteStartObject("neural_sparse");
        w.WriteStartObject(VectorField);
        writeFieldContent();
        w.WriteEndObject();
        w.WriteEndObject();
        w.WriteEndObject();
    }
}
