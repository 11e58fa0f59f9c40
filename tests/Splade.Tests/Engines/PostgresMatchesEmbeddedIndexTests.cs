using Splade.Evaluation;
using Splade.Postgres;
using Splade.Search;
using Splade.Tests.Cli;
using Xunit.Abstractions;

namespace Splade.Tests.Engines;

/// <summary>
/// On a classic collection (ADI, copied into testdata), exact search through PostgreSQL + pgvector
/// returns the same top-10 as the embedded inverted index for every query; and the CLI's
/// `--backend postgres://` path stores and finds the same documents.
/// </summary>
public class PostgresMatchesEmbeddedIndexTests(ITestOutputHelper output)
{
    [Fact]
    public void Top10_of_every_query_matches_the_embedded_index()
    {
        if (PostgresTestServer.Url(output) is not { } url) return;
        var data = IrDataset.LoadBeir(TestData.Path_("ir", "adi"));
        var encoder = SparseEncoder.Load(TestData.Model("tiny-splade"), new SparseEncoderOptions { Threads = 2 });
        var docs = data.Corpus.ToArray();
        var vectors = encoder.EncodeDocuments(docs.Select(d => d.FullText).ToArray());
        var indexed = docs.Select((d, i) => new IndexedDocument(d.Id, vectors[i])).ToArray();

        string dir = Directory.CreateTempSubdirectory("splade-pg-vs-embedded-").FullName;
        string table = PostgresTestServer.UniqueTable("adi");
        try
        {
            using var embedded = InvertedIndex.Create(dir, encoder.Dimension);
            embedded.Upsert(indexed);
            embedded.Commit();
            using var pg = PgSparseIndex.Open(url, new PgSparseIndexOptions { Table = table, Dimension = encoder.Dimension });
            pg.BulkLoad(indexed);

            var queries = data.Queries.ToArray();
            var qv = encoder.EncodeQueries(queries.Select(q => q.Value).ToArray());
            int compared = 0;
            for (int i = 0; i < queries.Length; i++)
            {
                var a = embedded.Search(qv[i], 10);
                var b = pg.Search(qv[i], 10);
                Assert.Equal(a.Select(h => h.Id), b.Select(h => h.Id));
                for (int r = 0; r < a.Count; r++) Assert.True(Math.Abs(a[r].Score - b[r].Score) <= 1e-4f * Math.Max(1, Math.Abs(a[r].Score)), $"query {queries[i].Key} rank {r}: {a[r].Score} vs {b[r].Score}");
                compared++;
            }
            output.WriteLine($"{compared} ADI queries: identical top-10 ids from PostgreSQL and the embedded index.");
            pg.DropTable();
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task Cli_index_and_search_with_a_postgres_backend()
    {
        if (PostgresTestServer.Url(output) is not { } url) return;
        string table = PostgresTestServer.UniqueTable("cli");
        string corpus = TestData.Path_("ir", "adi", "corpus.jsonl");
        string model = TestData.Model("tiny-splade");
        var (code, _, stderr) = await CliRunner.RunAsync("index", "--model", model, "--corpus", corpus, "--backend", url, "--table", table);
        Assert.True(code == 0, stderr);
        var (code2, stdout, stderr2) = await CliRunner.RunAsync("search", "--backend", url, "--table", table, "--model", model, "--top-k", "3", "computerized information retrieval");
        Assert.True(code2 == 0, stderr2);
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, lines.Length);

        var encoder = SparseEncoder.Load(model);
        var data = IrDataset.LoadBeir(TestData.Path_("ir", "adi"));
        var docs = data.Corpus.ToArray();
        var vectors = encoder.EncodeDocuments(docs.Select(d => d.FullText).ToArray());
        var expected = BruteForceSearch.Search(docs.Select((d, i) => new IndexedDocument(d.Id, vectors[i])).ToArray(), encoder.EncodeQuery("computerized information retrieval"), 3);
        Assert.Equal(expected.Select(h => h.Id), lines.Select(l => l.Split('\t')[2]));
        using var pg = PgSparseIndex.Open(url, new PgSparseIndexOptions { Table = table });
        pg.DropTable();
    }
}
