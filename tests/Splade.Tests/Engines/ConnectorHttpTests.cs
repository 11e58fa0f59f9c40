using Splade.Connectors;
using Splade.Connectors.Elasticsearch;
using Splade.Connectors.Http;
using Splade.Connectors.OpenSearch;
using Splade.Connectors.Qdrant;
using Splade.Search;
using Splade.Sparse;

namespace Splade.Tests.Engines;

/// <summary>The HTTP writers against a loopback server that records requests and plays an engine's answers.</summary>
public sealed class ConnectorHttpTests
{
    private const int Dim = 30522;
    private static string Token(int id) => id switch { 1012 => ".", 4248 => "quick", _ => "t" + id };

    [Fact]
    public void Elasticsearch_index_sends_bulk_refresh_count_search_delete()
    {
        using var server = new FakeHttpServer(r => (r.Method, r.PathAndQuery) switch
        {
            ("PUT", "/docs") => (200, """{"acknowledged":true}"""),
            ("POST", "/_bulk") => (200, """{"took":3,"errors":false,"items":[{"index":{"_id":"a","status":201}},{"index":{"_id":"b","status":201}}]}"""),
            ("POST", "/docs/_refresh") => (200, "{}"),
            ("GET", "/docs/_count") => (200, """{"count":2}"""),
            ("POST", "/docs/_search") => (200, """{"hits":{"hits":[{"_id":"b","_score":2.0,"_source":{"text":"bee"}},{"_id":"a","_score":2.0,"_source":{}}]}}"""),
            ("DELETE", "/docs/_doc/a") => (200, """{"result":"deleted"}"""),
            ("DELETE", "/docs/_doc/zz") => (404, """{"result":"not_found"}"""),
            _ => (500, """{"error":"unexpected"}"""),
        });
        using var client = server.Client();
        var requests = new ElasticsearchRequests("docs", Token);
        using var index = new SearchEngineIndex(client, requests);
        index.CreateIndex();
        var docs = new[] { new IndexedDocument("a", new SparseVector(Dim, [1012], [1f])), new IndexedDocument("b", new SparseVector(Dim, [4248], [2f]), "bee") };
        index.Upsert(docs);
        index.Commit();
        Assert.Equal(2, index.Count);
        var hits = index.Search(new SparseVector(Dim, [4248], [1f]), 2);
        Assert.Equal([new SearchHit("a", 2f), new SearchHit("b", 2f, "bee")], hits);
        Assert.True(index.Delete("a"));
        Assert.False(index.Delete("zz"));

        var sent = server.Requests;
        Assert.Equal(requests.CreateIndexBody(), sent[0].Body);
        Assert.Equal("POST", sent[1].Method);
        Assert.StartsWith("application/x-ndjson", sent[1].ContentType);
        Assert.Equal(requests.BulkIndexBody(docs), sent[1].Body);
        Assert.Equal(requests.SearchBody(new SparseVector(Dim, [4248], [1f]), 2), sent[4].Body);
        Assert.StartsWith("application/json", sent[4].ContentType);
    }

    [Fact]
    public void Bulk_item_errors_and_http_errors_surface_as_typed_exceptions()
    {
        using var server = new FakeHttpServer(r => r.PathAndQuery == "/_bulk"
            ? (200, """{"errors":true,"items":[{"index":{"_id":"ok","status":201}},{"index":{"_id":"bad","status":400,"error":{"type":"document_parsing_exception","reason":"[sparse_vector] fields do not support dots"}}}]}""")
            : (413, """{"error":"too large"}"""));
        using var client = server.Client();
        using var index = new SearchEngineIndex(client, new OpenSearchRankFeaturesRequests("os", Token));
        var bulk = Assert.Throws<SearchEngineException>(() => index.Upsert([new IndexedDocument("ok", new SparseVector(Dim, [4248], [1f]))]));
        Assert.Contains("document 'bad'", bulk.Message);
        Assert.Contains("document_parsing_exception", bulk.Message);
        var http = Assert.Throws<SearchEngineException>(() => index.Commit());
        Assert.Equal(System.Net.HttpStatusCode.RequestEntityTooLarge, http.StatusCode);
        Assert.Contains("/os/_refresh", http.Message);
    }

    [Fact]
    public void Bulk_writes_are_split_by_bulk_size()
    {
        using var server = new FakeHttpServer(_ => (200, """{"errors":false,"items":[]}"""));
        using var client = server.Client();
        var requests = new OpenSearchSparseVectorRequests("sv");
        using var index = new SearchEngineIndex(client, requests) { BulkSize = 2 };
        var docs = Enumerable.Range(0, 5).Select(i => new IndexedDocument("d" + i, new SparseVector(Dim, [i + 1], [1f]))).ToList();
        index.Upsert(docs);
        Assert.Equal(3, server.Requests.Count);
        Assert.Equal(requests.BulkIndexBody(docs.Skip(4)), server.Requests[2].Body);
        Assert.Equal(10, string.Concat(server.Requests.Select(r => r.Body)).Count(c => c == '\n'));
    }

    [Fact]
    public void Qdrant_index_sends_collection_points_query_and_delete()
    {
        string pointA = QdrantRequests.PointId("a");
        using var server = new FakeHttpServer(r => (r.Method, r.PathAndQuery) switch
        {
            ("PUT", "/collections/c") => (200, """{"result":true,"status":"ok"}"""),
            ("PUT", "/collections/c/points?wait=true") => (200, """{"result":{"operation_id":1,"status":"completed"},"status":"ok"}"""),
            ("POST", "/collections/c/points/count") => (200, """{"result":{"count":2},"status":"ok"}"""),
            ("POST", "/collections/c/points/query") => (200, $$$"""{"result":{"points":[{"id":"{{{pointA}}}","version":1,"score":1.5,"payload":{"doc_id":"a","text":"x"}}]},"status":"ok","time":0.001}"""),
            ("GET", var p) when p == "/collections/c/points/" + pointA => (200, """{"result":{"id":"x"},"status":"ok"}"""),
            ("GET", _) => (404, """{"status":{"error":"Not found: no point"}}"""),
            ("POST", "/collections/c/points/delete?wait=true") => (200, """{"result":{"status":"completed"},"status":"ok"}"""),
            _ => (500, "{}"),
        });
        using var client = server.Client();
        var requests = new QdrantRequests("c");
        using var index = new QdrantIndex(client, requests);
        index.CreateCollection();
        var docs = new[] { new IndexedDocument("a", new SparseVector(Dim, [3, 9], [1f, 0.5f]), "x"), new IndexedDocument("b", new SparseVector(Dim, [9], [2f])) };
        index.Upsert(docs);
        Assert.Equal(2, index.Count);
        var query = new SparseVector(Dim, [3], [1.5f]);
        Assert.Equal([new SearchHit("a", 1.5f, "x")], index.Search(query, 4));
        Assert.True(index.Delete("a"));
        Assert.False(index.Delete("missing"));

        var sent = server.Requests;
        Assert.Equal(requests.CreateCollectionBody(), sent[0].Body);
        Assert.Equal(requests.UpsertPointsBody(docs), sent[1].Body);
        Assert.Equal("""{"exact":true}""", sent[2].Body);
        Assert.Equal(requests.QueryBody(query, 4), sent[3].Body);
        Assert.Equal(requests.DeletePointsBody(["a"]), sent[5].Body);
        Assert.Equal(7, sent.Count); // the missing id is looked up and never deleted
    }
}
