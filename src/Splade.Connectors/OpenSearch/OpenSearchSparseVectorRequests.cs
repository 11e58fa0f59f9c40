using System.Text.Json;
using Splade.Search;
using Splade.Sparse;

namespace Splade.Connectors.OpenSearch;

/// <summary>SEISMIC parameters of an OpenSearch <c>sparse_vector</c> field; null leaves the engine default.</summary>
public sealed record SeismicParameters
{
    /// <summary>Documents kept per posting list (default 0.0005 × segment doc count).</summary>
    public int? NPostings { get; init; }

    /// <summary>Fraction of a posting list's documents used to pick the cluster count (default 0.1).</summary>
    public float? ClusterRatio { get; init; }

    /// <summary>Fraction of cluster-summary weight kept (default 0.4).</summary>
    public float? SummaryPruneRatio { get; init; }

    /// <summary>Documents a segment needs before ANN search is used (default 1,000,000).</summary>
    public int? ApproximateThreshold { get; init; }
}

/// <summary>
/// OpenSearch 3.3+ <c>sparse_vector</c> field (neural sparse ANN, SEISMIC), keyed by the token
/// <b>id</b> as a decimal string: index setting <c>index.sparse: true</c>, mapping with
/// <c>method.name = seismic</c>, and the <c>neural_sparse</c> query with <c>query_tokens</c> and
/// <c>method_parameters</c> (<c>k</c>, <c>top_n</c>, <c>heap_factor</c>).
/// </summary>
public sealed class OpenSearchSparseVectorRequests : ISearchEngineRequests
{
    private readonly SeismicParameters _parameters;

    /// <summary>Creates the bodies for <paramref name="index"/>.</summary>
    public OpenSearchSparseVectorRequests(string index, string vectorField = "splade", string textField = "text", SeismicParameters? parameters = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(index);
        Index = index;
        VectorField = vectorField;
        TextField = textField;
        _parameters = parameters ?? new SeismicParameters();
    }

    /// <inheritdoc />
    public string Index { get; }

    /// <inheritdoc />
    public string VectorField { get; }

    /// <inheritdoc />
    public string TextField { get; }

    /// <summary>Query tokens kept per query in ANN search (<c>top_n</c>); null leaves the default.</summary>
    public int? TopN { get; init; }

    /// <summary>Recall/speed trade-off of ANN search (<c>heap_factor</c>); null leaves the default.</summary>
    public float? HeapFactor { get; init; }

    /// <inheritdoc />
    public string CreateIndexBody() => SparseJson.Write(w =>
    {
        w.WriteStartObject();
        w.WriteStartObject("settings");
        w.WriteStartObject("index");
        w.WriteBoolean("sparse", true);
        w.WriteEndObject();
        w.WriteEndObject();
        w.WriteStartObject("mappings");
        w.WriteStartObject("properties");
        w.WriteStartObject(VectorField);
        w.WriteString("type", "sparse_vector");
        w.WriteStartObject("method");
        w.WriteString("name", "seismic");
        w.WriteStartObject("parameters");
        if (_parameters.NPostings is int n) w.WriteNumber("n_postings", n);
        if (_parameters.ClusterRatio is float c) w.WriteNumber("cluster_ratio", c);
        if (_parameters.SummaryPruneRatio is float s) w.WriteNumber("summary_prune_ratio", s);
        if (_parameters.ApproximateThreshold is int a) w.WriteNumber("approximate_threshold", a);
        w.WriteEndObject();
        w.WriteEndObject();
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
        SparseJson.WriteIdObject(w, document.Vector, $"document '{document.Id}'");
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
        SparseJson.WriteIdObject(w, query, "query");
        WriteMethodParameters(w, size);
        w.WriteEndObject();
        w.WriteEndObject();
        w.WriteEndObject();
        BulkNdjson.WriteSourceFilter(w, TextField);
        w.WriteEndObject();
    });

    /// <summary>A <c>neural_sparse</c> ANN query encoded by OpenSearch with model <paramref name="modelId"/>.</summary>
    public string SearchTextBody(string queryText, string modelId, int size) => SparseJson.Write(w =>
    {
        w.WriteStartObject();
        w.WriteNumber("size", size);
        w.WriteStartObject("query");
        w.WriteStartObject("neural_sparse");
        w.WriteStartObject(VectorField);
        w.WriteString("query_text", queryText);
        w.WriteString("model_id", modelId);
        WriteMethodParameters(w, size);
        w.WriteEndObject();
        w.WriteEndObject();
        w.WriteEndObject();
        BulkNdjson.WriteSourceFilter(w, TextField);
        w.WriteEndObject();
    });

    private void WriteMethodParameters(Utf8JsonWriter w, int size)
    {
        w.WriteStartObject("method_parameters");
        w.WriteNumber("k", size);
        if (TopN is int topN) w.WriteNumber("top_n", topN);
        if (HeapFactor is float heap) w.WriteNumber("heap_factor", heap);
        w.WriteEndObject();
    }
}
