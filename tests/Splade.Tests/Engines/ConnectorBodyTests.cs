using Splade.Connectors;
using Splade.Connectors.Elasticsearch;
using Splade.Connectors.OpenSearch;
using Splade.Connectors.Qdrant;
using Splade.Search;
using Splade.Sparse;

namespace Splade.Tests.Engines;

/// <summary>
/// Request bodies against the shapes documented by each engine (Elasticsearch sparse_vector
/// reference; OpenSearch "neural sparse search using raw vectors" and "sparse vector" pages;
/// Qdrant sparse-vector API), written out as golden strings.
/// </summary>
public sealed class ConnectorBodyTests
{
    private const int Dim = 30522;

    // A few real BERT vocabulary entries, with the dotted "5.0k"-style case and "##" pieces.
    private static readonly Dictionary<int, string> Vocab = new()
    {
        [1012] = ".", [2003] = "is", [4248] = "quick", [7592] = "hello", [10722] = "##ing", [29625] = "a.b", [1055] = "s",
    };

    private static string Token(int id) => Vocab[id];

    private static readonly SparseVector Doc = new(Dim, [1012, 4248, 7592, 10722], [0.25f, 1.5f, 2.4097164f, 0.1f]);
    private static readonly SparseVector Query = new(Dim, [4248, 29625], [1f, 0.5f]);

    [Fact]
    public void Elasticsearch_mapping_bulk_and_query()
    {
        var es = new ElasticsearchRequests("docs", Token);
        Assert.Equal("""{"mappings":{"properties":{"splade":{"type":"sparse_vector"},"text":{"type":"text"}}}}""", es.CreateIndexBody());
        Assert.Equal(
            """{"index":{"_index":"docs","_id":"d1"}}""" + "\n" +
            """{"splade":{"__":0.25,"quick":1.5,"hello":2.4097164,"##ing":0.1},"text":"Hello, \"quick\" café"}""" + "\n" +
            """{"index":{"_index":"docs","_id":"d2"}}""" + "\n" +
            """{"splade":{"quick":1.5}}""" + "\n",
            es.BulkIndexBody([new IndexedDocument("d1", Doc, "Hello, \"quick\" café"), new IndexedDocument("d2", new SparseVector(Dim, [4248], [1.5f]))]));
        Assert.Equal(
            """{"size":10,"query":{"sparse_vector":{"field":"splade","query_vector":{"quick":1,"a__b":0.5}}},"_source":["text"]}""",
            es.SearchBody(Query, 10));
    }

    [Fact]
    public void Dots_are_escaped_as_elasticsearch_inference_does_and_raw_keys_are_available()
    {
        Assert.Equal("__", TokenKeys.EscapeDots("."));
        Assert.Equal("5__0k", TokenKeys.EscapeDots("5.0k"));
        Assert.Equal("______", TokenKeys.EscapeDots("..."));
        var raw = new ElasticsearchRequests("docs", Token, keys: TokenKeys.Raw(Token));
        Assert.Contains("\"a.b\":0.5", raw.SearchBody(Query, 3));
    }

    [Fact]
    public void Token_keys_reject_non_positive_weights_and_collisions()
    {
        var es = new ElasticsearchRequests("docs", Token);
        var negative = new SparseVector(Dim, [2003], [-1f]);
        var e = Assert.Throws<ArgumentException>(() => es.BulkIndexBody([new IndexedDocument("neg", negative)]));
        Assert.Contains("document 'neg'", e.Message);
        Assert.Contains("2003", e.Message);
        var colliding = new TokenKeys(id => id == 1 ? "x.y" : "x__y", TokenKeys.EscapeDots);
        var c = Assert.Throws<ArgumentException>(() => colliding.Pairs(new SparseVector(Dim, [1, 2], [1f, 1f]), "query").ToList());
        Assert.Contains("x__y", c.Message);
    }

    [Fact]
    public void OpenSearch_rank_features_mapping_bulk_and_neural_sparse_queries()
    {
        var os = new OpenSearchRankFeaturesRequests("my-nlp-index", Token, vectorField: "passage_embedding", textField: "passage_text");
        Assert.Equal("""{"mappings":{"properties":{"passage_embedding":{"type":"rank_features"},"passage_text":{"type":"text"}}}}""", os.CreateIndexBody());
        Assert.Equal(
            """{"index":{"_index":"my-nlp-index","_id":"1"}}""" + "\n" +
            """{"passage_embedding":{"__":0.25,"quick":1.5,"hello":2.4097164,"##ing":0.1},"passage_text":"Hello world"}""" + "\n",
            os.BulkIndexBody([new IndexedDocument("1", Doc, "Hello world")]));
        Assert.Equal(
            """{"size":5,"query":{"neural_sparse":{"passage_embedding":{"query_tokens":{"quick":1,"a__b":0.5}}}},"_source":["passage_text"]}""",
            os.SearchBody(Query, 5));
        Assert.Equal(
            """{"size":5,"query":{"neural_sparse":{"passage_embedding":{"query_text":"hi world","model_id":"m-1"}}},"_source":["passage_text"]}""",
            os.SearchTextBody("hi world", "m-1", 5));
    }

    [Fact]
    public void OpenSearch_sparse_vector_is_keyed_by_token_id_with_seismic_method()
    {
        var os = new OpenSearchSparseVectorRequests("sparse-vector-index", vectorField: "sparse_embedding",
            parameters: new SeismicParameters { NPostings = 300, ClusterRatio = 0.1f, SummaryPruneRatio = 0.4f, ApproximateThreshold = 1000000 })
        { TopN = 10, HeapFactor = 1.0f };
        Assert.Equal(
            """{"settings":{"index":{"sparse":true}},"mappings":{"properties":{"sparse_embedding":{"type":"sparse_vector","method":{"name":"seismic","parameters":{"n_postings":300,"cluster_ratio":0.1,"summary_prune_ratio":0.4,"approximate_threshold":1000000}}},"text":{"type":"text"}}}}""",
            os.CreateIndexBody());
        Assert.Equal(
            """{"index":{"_index":"sparse-vector-index","_id":"1"}}""" + "\n" + """{"sparse_embedding":{"1000":0.1}}""" + "\n",
            os.BulkIndexBody([new IndexedDocument("1", new SparseVector(Dim, [1000], [0.1f]))]));
        Assert.Equal(
            """{"size":10,"query":{"neural_sparse":{"sparse_embedding":{"query_tokens":{"1055":5.5},"method_parameters":{"k":10,"top_n":10,"heap_factor":1}}}},"_source":["text"]}""",
            os.SearchBody(new SparseVector(Dim, [1055], [5.5f]), 10));
        var defaults = new OpenSearchSparseVectorRequests("i");
        Assert.Contains("\"method\":{\"name\":\"seismic\",\"parameters\":{}}", defaults.CreateIndexBody());
    }

    [Fact]
    public void Qdrant_collection_upsert_query_and_delete()
    {
        var q = new QdrantRequests("docs");
        Assert.Equal("""{"sparse_vectors":{"splade":{"index":{"on_disk":false}}}}""", q.CreateCollectionBody());
        Assert.Equal(
            """{"points":[{"id":"75d4622e-94ed-5766-af3f-741bfc37fe71","vector":{"splade":{"indices":[1012,4248,7592,10722],"values":[0.25,1.5,2.4097164,0.1]}},"payload":{"doc_id":"doc1","text":"hi"}}]}""",
            q.UpsertPointsBody([new IndexedDocument("doc1", Doc, "hi")]));
        Assert.Equal(
            """{"query":{"indices":[4248,29625],"values":[1,0.5]},"using":"splade","limit":7,"with_payload":true}""",
            q.QueryBody(Query, 7));
        Assert.Equal("""{"points":["75d4622e-94ed-5766-af3f-741bfc37fe71"]}""", q.DeletePointsBody(["doc1"]));
    }

    [Fact]
    public void Qdrant_point_ids_are_python_uuid5_of_the_document_id()
    {
        // uuid.uuid5(uuid.NAMESPACE_URL, "doc1") and (..., "é") in CPython.
        Assert.Equal("75d4622e-94ed-5766-af3f-741bfc37fe71", QdrantRequests.PointId("doc1"));
        Assert.Equal("10e1d6de-dc68-53f0-883a-30ec870dd739", QdrantRequests.PointId("é"));
    }
}
