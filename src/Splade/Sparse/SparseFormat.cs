using System.Text;
using System.Text.Json;

namespace Splade.Sparse;

/// <summary>Wire formats for sparse vectors, as the engines and servers users already run expect them.</summary>
public enum SparseFormat
{
    /// <summary><c>"indices": [ascending], "values": [...]</c> (the default).</summary>
    Indices,
    /// <summary><c>"tokens": {"token": weight, ...}</c>, by weight descending (raw vocabulary strings).</summary>
    Tokens,
    /// <summary>Text Embeddings Inference <c>/embed_sparse</c>: <c>[{"index": i, "value": v}, ...]</c> ascending.</summary>
    Tei,
    /// <summary>Qdrant sparse vector: <c>{"indices": [...], "values": [...]}</c>.</summary>
    Qdrant,
    /// <summary>Elasticsearch <c>sparse_vector</c> / OpenSearch <c>rank_features</c>: <c>{"token": weight}</c>, '.' escaped as "__" (<see cref="SparseFormats.EscapeFeatureName"/>).</summary>
    Elasticsearch,
}

/// <summary>Writes <see cref="SparseVector"/>s in the <see cref="SparseFormat"/>s.</summary>
public static class SparseFormats
{
    /// <summary>Parses a format name (<c>indices</c>, <c>tokens</c>, <c>tei</c>, <c>qdrant</c>, <c>elasticsearch</c>).</summary>
    /// <exception cref="ArgumentException">Unknown name.</exception>
    public static SparseFormat Parse(string name) => name.Trim().ToLowerInvariant() switch
    {
        "indices" => SparseFormat.Indices,
        "tokens" => SparseFormat.Tokens,
        "tei" => SparseFormat.Tei,
        "qdrant" => SparseFormat.Qdrant,
        "elasticsearch" or "opensearch" or "es" => SparseFormat.Elasticsearch,
        _ => throw new ArgumentException($"Unknown format '{name}'; expected indices, tokens, tei, qdrant or elasticsearch."),
    };

    /// <summary>
    /// Elasticsearch (before 8.16) and OpenSearch <c>rank_features</c> reject feature names
    /// containing '.', so every '.' becomes "__", the rule of Elasticsearch's own text-expansion
    /// inference. Documents and queries must be escaped alike.
    /// </summary>
    public static string EscapeFeatureName(string token) =>
        token.Contains('.') ? token.Replace(".", "__", StringComparison.Ordinal) : token;

    /// <summary>
    /// Writes the vector's fields in <paramref name="format"/> into the object being written
    /// (<c>indices</c>/<c>values</c>, <c>tokens</c>, <c>embedding</c> or <c>vector</c>).
    /// </summary>
    public static void WriteFields(Utf8JsonWriter w, SparseVector v, SparseFormat format, Func<int, string>? idToToken)
    {
        switch (format)
        {
            case SparseFormat.Indices:
                WriteIndicesValues(w, v);
                break;
            case SparseFormat.Tokens:
                w.WritePropertyName("tokens");
                WriteTokenMap(w, v, Require(idToToken), escape: false, byWeight: true);
                break;
            case SparseFormat.Tei:
                w.WritePropertyName("embedding");
                WriteTei(w, v);
                break;
            case SparseFormat.Qdrant:
                w.WritePropertyName("vector");
                w.WriteStartObject();
                WriteIndicesValues(w, v);
                w.WriteEndObject();
                break;
            case SparseFormat.Elasticsearch:
                w.WritePropertyName("vector");
                WriteTokenMap(w, v, Require(idToToken), escape: true, byWeight: false);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(format));
        }
    }

    /// <summary>TEI's list of <c>{"index", "value"}</c> objects in ascending index order.</summary>
    public static void WriteTei(Utf8JsonWriter w, SparseVector v)
    {
        w.WriteStartArray();
        for (int i = 0; i < v.Count; i++)
        {
            w.WriteStartObject();
            w.WriteNumber("index", v.Indices[i]);
            w.WriteNumber("value", v.Values[i]);
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }

    /// <summary>A <c>{"token": weight}</c> object (escaped keys for Elasticsearch). Values must be positive for the engines.</summary>
    public static void WriteTokenMap(Utf8JsonWriter w, SparseVector v, Func<int, string> idToToken, bool escape, bool byWeight)
    {
        w.WriteStartObject();
        IEnumerable<int> order = Enumerable.Range(0, v.Count);
        if (byWeight) order = order.OrderByDescending(p => v.Values[p]).ThenBy(p => v.Indices[p]);
        foreach (int p in order)
        {
            string token = idToToken(v.Indices[p]);
            w.WriteNumber(escape ? EscapeFeatureName(token) : token, v.Values[p]);
        }
        w.WriteEndObject();
    }

    private static void WriteIndicesValues(Utf8JsonWriter w, SparseVector v)
    {
        w.WriteStartArray("indices");
        foreach (int i in v.Indices) w.WriteNumberValue(i);
        w.WriteEndArray();
        w.WriteStartArray("values");
        foreach (float x in v.Values) w.WriteNumberValue(x);
        w.WriteEndArray();
    }

    private static Func<int, string> Require(Func<int, string>? f) =>
        f ?? throw new ArgumentException("This format writes token strings: a vocabulary (id -> token) is required.");
}
