using System.Net;
using System.Text.Json;
using Splade.Search;
using Splade.Sparse;

namespace Splade.Connectors.Http;

/// <summary>
/// An <see cref="ISparseIndex"/> over an Elasticsearch or OpenSearch index reached through plain
/// HTTP: <c>_bulk</c> writes, <c>DELETE _doc</c>, <c>_refresh</c> as commit, <c>_count</c>, and the
/// engine's sparse query through <c>_search</c>. The bodies come from an
/// <see cref="ISearchEngineRequests"/>; authentication and TLS are the <see cref="HttpClient"/>'s
/// (set its BaseAddress to the engine, e.g. <c>http://localhost:9200/</c>).
/// </summary>
/// <remarks>
/// Scores are the engine's: Elasticsearch/OpenSearch keep about 9 significant bits of each stored
/// weight, so they match the exact dot product to roughly 0.4% relative error.
/// </remarks>
public sealed class SearchEngineIndex : ISparseIndex
{
    private readonly HttpClient _client;
    private readonly bool _ownsClient;

    /// <summary>Wraps <paramref name="client"/> (not disposed unless <paramref name="ownsClient"/>).</summary>
    public SearchEngineIndex(HttpClient client, ISearchEngineRequests requests, bool ownsClient = false)
    {
        _client = client ?? throw new ArgumentNullException(nameof(client));
        Requests = requests ?? throw new ArgumentNullException(nameof(requests));
        _ownsClient = ownsClient;
    }

    /// <summary>The body builder in use.</summary>
    public ISearchEngineRequests Requests { get; }

    /// <summary>Documents per <c>_bulk</c> request.</summary>
    public int BulkSize { get; init; } = 500;

    private string IndexPath => "/" + JsonHttp.Segment(Requests.Index);

    /// <summary>Creates the index (<c>PUT /{index}</c>) with the request builder's settings and mappings.</summary>
    public void CreateIndex(CancellationToken cancellationToken = default) =>
        JsonHttp.Send(_client, HttpMethod.Put, IndexPath, Requests.CreateIndexBody(), cancellationToken: cancellationToken).Body?.Dispose();

    /// <inheritdoc />
    public long Count
    {
        get
        {
            var (_, body) = JsonHttp.Send(_client, HttpMethod.Get, IndexPath + "/_count", null);
            using (body) return body!.RootElement.GetProperty("count").GetInt64();
        }
    }

    /// <inheritdoc />
    /// <exception cref="SearchEngineException">The request failed or an item of the bulk answer has an error.</exception>
    public void Upsert(IReadOnlyList<IndexedDocument> documents, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(documents);
        for (int start = 0; start < documents.Count; start += BulkSize)
        {
            var slice = documents.Skip(start).Take(BulkSize);
            var (status, body) = JsonHttp.Send(_client, HttpMethod.Post, "/_bulk", Requests.BulkIndexBody(slice), BulkNdjson.ContentType, cancellationToken);
            using (body) ThrowOnItemErrors(body, status);
        }
    }

    /// <inheritdoc />
    public bool Delete(string id)
    {
        ArgumentNullException.ThrowIfNull(id);
        var (status, body) = JsonHttp.Send(_client, HttpMethod.Delete, IndexPath + "/_doc/" + JsonHttp.Segment(id), null, allowed: HttpStatusCode.NotFound);
        body?.Dispose();
        return status != HttpStatusCode.NotFound;
    }

    /// <inheritdoc />
    /// <remarks><c>POST /{index}/_refresh</c>: makes every write so far visible to search.</remarks>
    public void Commit() => JsonHttp.Send(_client, HttpMethod.Post, IndexPath + "/_refresh", null).Body?.Dispose();

    /// <inheritdoc />
    public IReadOnlyList<SearchHit> Search(SparseVector query, int topK, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentOutOfRangeException.ThrowIfNegative(topK);
        if (topK == 0 || query.Count == 0) return [];
        var (_, body) = JsonHttp.Send(_client, HttpMethod.Post, IndexPath + "/_search", Requests.SearchBody(query, topK), cancellationToken: cancellationToken);
        using (body)
        {
            var hits = new List<SearchHit>();
            foreach (var hit in body!.RootElement.GetProperty("hits").GetProperty("hits").EnumerateArray())
            {
                string? text = hit.TryGetProperty("_source", out var source) && source.TryGetProperty(Requests.TextField, out var t) && t.ValueKind == JsonValueKind.String
                    ? t.GetString() : null;
                hits.Add(new SearchHit(hit.GetProperty("_id").GetString()!, hit.GetProperty("_score").GetSingle(), text));
            }
            // The engine orders by score; ties are put in id order as the contract asks.
            return hits.OrderByDescending(h => h.Score).ThenBy(h => h.Id, StringComparer.Ordinal).ToList();
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_ownsClient) _client.Dispose();
    }

    private static void ThrowOnItemErrors(JsonDocument? body, HttpStatusCode status)
    {
        if (body is null || !body.RootElement.TryGetProperty("errors", out var errors) || !errors.GetBoolean()) return;
        foreach (var item in body.RootElement.GetProperty("items").EnumerateArray())
        {
            foreach (var action in item.EnumerateObject())
            {
                if (action.Value.TryGetProperty("error", out var error))
                {
                    string id = action.Value.TryGetProperty("_id", out var i) ? i.ToString() : "?";
                    throw new SearchEngineException("POST", "/_bulk", status, $"document '{id}': {JsonHttp.Truncate(error.GetRawText())}");
                }
            }
        }
    }
}
