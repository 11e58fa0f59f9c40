using System.Net;
using System.Text.Json;
using Splade.Connectors.Qdrant;
using Splade.Search;
using Splade.Sparse;

namespace Splade.Connectors.Http;

/// <summary>
/// An <see cref="ISparseIndex"/> over a Qdrant collection through its REST API (port 6333):
/// upserts wait for the write (<c>?wait=true</c>), so <see cref="Commit"/> has nothing to do.
/// Set the <see cref="HttpClient"/>'s BaseAddress to the server and, for Qdrant Cloud, its
/// <c>api-key</c> header.
/// </summary>
public sealed class QdrantIndex : ISparseIndex
{
    private readonly HttpClient _client;
    private readonly bool _ownsClient;

    /// <summary>Wraps <paramref name="client"/> (not disposed unless <paramref name="ownsClient"/>).</summary>
    public QdrantIndex(HttpClient client, QdrantRequests requests, bool ownsClient = false)
    {
        _client = client ?? throw new ArgumentNullException(nameof(client));
        Requests = requests ?? throw new ArgumentNullException(nameof(requests));
        _ownsClient = ownsClient;
    }

    /// <summary>The body builder in use.</summary>
    public QdrantRequests Requests { get; }

    /// <summary>Points per upsert request.</summary>
    public int BatchSize { get; init; } = 256;

    private string CollectionPath => "/collections/" + JsonHttp.Segment(Requests.Collection);

    /// <summary>Creates the collection with its named sparse vector.</summary>
    public void CreateCollection(CancellationToken cancellationToken = default) =>
        JsonHttp.Send(_client, HttpMethod.Put, CollectionPath, Requests.CreateCollectionBody(), cancellationToken: cancellationToken).Body?.Dispose();

    /// <inheritdoc />
    public long Count
    {
        get
        {
            var (_, body) = JsonHttp.Send(_client, HttpMethod.Post, CollectionPath + "/points/count", QdrantRequests.CountBody());
            using (body) return body!.RootElement.GetProperty("result").GetProperty("count").GetInt64();
        }
    }

    /// <inheritdoc />
    public void Upsert(IReadOnlyList<IndexedDocument> documents, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(documents);
        for (int start = 0; start < documents.Count; start += BatchSize)
        {
            string body = Requests.UpsertPointsBody(documents.Skip(start).Take(BatchSize));
            JsonHttp.Send(_client, HttpMethod.Put, CollectionPath + "/points?wait=true", body, cancellationToken: cancellationToken).Body?.Dispose();
        }
    }

    /// <inheritdoc />
    /// <remarks>Qdrant's delete does not say whether the point existed, so the point is looked up first.</remarks>
    public bool Delete(string id)
    {
        ArgumentNullException.ThrowIfNull(id);
        var (status, found) = JsonHttp.Send(_client, HttpMethod.Get, CollectionPath + "/points/" + QdrantRequests.PointId(id), null, allowed: HttpStatusCode.NotFound);
        found?.Dispose();
        if (status == HttpStatusCode.NotFound) return false;
        JsonHttp.Send(_client, HttpMethod.Post, CollectionPath + "/points/delete?wait=true", Requests.DeletePointsBody([id])).Body?.Dispose();
        return true;
    }

    /// <inheritdoc />
    public void Commit()
    {
    }

    /// <inheritdoc />
    public IReadOnlyList<SearchHit> Search(SparseVector query, int topK, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentOutOfRangeException.ThrowIfNegative(topK);
        if (topK == 0 || query.Count == 0) return [];
        var (_, body) = JsonHttp.Send(_client, HttpMethod.Post, CollectionPath + "/points/query", Requests.QueryBody(query, topK), cancellationToken: cancellationToken);
        using (body)
        {
            var hits = new List<SearchHit>();
            foreach (var point in body!.RootElement.GetProperty("result").GetProperty("points").EnumerateArray())
            {
                var payload = point.GetProperty("payload");
                string id = payload.TryGetProperty(QdrantRequests.DocIdKey, out var d) ? d.GetString()! : point.GetProperty("id").ToString();
                string? text = payload.TryGetProperty(Requests.TextKey, out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
                hits.Add(new SearchHit(id, point.GetProperty("score").GetSingle(), text));
            }
            return hits.OrderByDescending(h => h.Score).ThenBy(h => h.Id, StringComparer.Ordinal).ToList();
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_ownsClient) _client.Dispose();
    }
}
