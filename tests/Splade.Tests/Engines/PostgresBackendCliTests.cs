using Splade.Cli;
using Splade.Postgres;
using Splade.Tests.Search;
using Xunit.Abstractions;

namespace Splade.Tests.Engines;

/// <summary>
/// search and eval take every option on both backends and write the same outputs: the ADI collection
/// (testdata/ir/adi) encoded with tiny-splade into the embedded index and into a PostgreSQL table gives
/// byte-identical TREC runs and metrics. The PostgreSQL parts skip with a note when no server answers.
/// </summary>
public sealed class PostgresBackendCliTests(ITestOutputHelper output)
{
    private static readonly string Model = TestData.Model("tiny-splade");
    private static readonly string Adi = TestData.Path_("ir", "adi");

    private static (int Code, string Out, string Err) Run(params string[] argv)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = Program.RunAsync(argv, new CliContext(new StringReader(""), stdout, stderr), CancellationToken.None).GetAwaiter().GetResult();
        return (code, stdout.ToString(), stderr.ToString());
    }

    private static void Ok((int Code, string Out, string Err) r) => Assert.True(r.Code == 0, r.Err + r.Out);

    [Fact]
    public void Batch_search_gives_the_same_trec_run_from_the_embedded_index_and_postgres()
    {
        string? url = PostgresTestServer.Url(output);
        if (url is null) return;
        string table = PostgresTestServer.UniqueTable("t_cli_adi");
        using var dir = new TempDirectory("pg-cli");
        string index = dir.Sub("index"), queries = Path.Combine(Adi, "queries.jsonl"), corpus = Path.Combine(Adi, "corpus.jsonl");
        try
        {
            Ok(Run("index", "--model", Model, "--corpus", corpus, "--index", index));
            Ok(Run("index", "--model", Model, "--corpus", corpus, "--backend", url, "--table", table));

            // The same command line but for one flag; the model comes from what each backend recorded.
            foreach (string[] extra in new[] { new[] { "--top-k", "20", "--threads", "2" }, ["--algorithm", "exhaustive"], ["--algorithm", "blockmax", "--top-k", "5"] })
            {
                string embeddedRun = dir.Sub("embedded.trec"), pgRun = dir.Sub("pg.trec");
                var e = Run(["search", "--index", index, "--queries", queries, "--output", embeddedRun, .. extra]);
                var p = Run(["search", "--backend", url, "--table", table, "--queries", queries, "--output", pgRun, .. extra]);
                Ok(e);
                Ok(p);
                string run = File.ReadAllText(embeddedRun);
                var lines = run.Split('\n', StringSplitOptions.RemoveEmptyEntries);
                Assert.Equal(35, lines.Select(l => l.Split(' ')[0]).Distinct().Count());   // every ADI query has hits
                Assert.Equal(run, File.ReadAllText(pgRun));
                output.WriteLine($"{string.Join(' ', extra)}: {lines.Length} run lines identical; first: {lines[0]}");
            }

            // One query, printed the same way.
            var one = Run("search", "--index", index, "--top-k", "5", "computer information retrieval systems");
            var onePg = Run("search", "--backend", url, "--table", table, "--model", Model, "--top-k", "5", "computer information retrieval systems");
            Ok(one);
            Ok(onePg);
            Assert.Equal(5, one.Out.Trim().Split('\n').Length);
            Assert.Equal(one.Out, onePg.Out);

            // HNSW search and its beam width are accepted (the table has no HNSW index: an exact scan).
            var hnsw = Run("search", "--backend", url, "--table", table, "--queries", queries, "--output", dir.Sub("hnsw.trec"), "--top-k", "5", "--algorithm", "approximate", "--ef-search", "100");
            Ok(hnsw);
            Assert.Equal(35 * 5, File.ReadAllLines(dir.Sub("hnsw.trec")).Length);
        }
        finally { Drop(url, table); }
    }

    [Fact]
    public void Eval_gives_the_same_metrics_and_run_on_both_backends_and_reuses_a_filled_table()
    {
        string? url = PostgresTestServer.Url(output);
        if (url is null) return;
        string table = PostgresTestServer.UniqueTable("t_cli_eval");
        using var dir = new TempDirectory("pg-eval");
        try
        {
            var e = Run("eval", "--model", Model, "--data", Adi, "--index", dir.Sub("index"), "--output", dir.Sub("e.json"), "--run", dir.Sub("e.trec"), "--csv", dir.Sub("e.csv"));
            var p = Run("eval", "--model", Model, "--data", Adi, "--backend", url, "--table", table, "--output", dir.Sub("p.json"), "--run", dir.Sub("p.trec"), "--csv", dir.Sub("p.csv"));
            Ok(e);
            Ok(p);
            output.WriteLine(e.Out);
            Assert.Equal(e.Out, p.Out);
            Assert.Contains("dot_ndcg@10", e.Out);
            Assert.Equal(File.ReadAllText(dir.Sub("e.json")), File.ReadAllText(dir.Sub("p.json")));
            Assert.Equal(File.ReadAllText(dir.Sub("e.trec")), File.ReadAllText(dir.Sub("p.trec")));
            Assert.Equal(File.ReadAllText(dir.Sub("e.csv")), File.ReadAllText(dir.Sub("p.csv")));
            Assert.Contains("encoded 82/82 documents", p.Err);

            // Second run: the table already holds the corpus, nothing is encoded again, the metrics are unchanged
            // (avg_flops from the stored vectors' document frequencies).
            var again = Run("eval", "--model", Model, "--data", Adi, "--backend", url, "--table", table, "--output", dir.Sub("p2.json"));
            Ok(again);
            Assert.DoesNotContain("encoded", again.Err);
            Assert.Equal(File.ReadAllText(dir.Sub("p.json")), File.ReadAllText(dir.Sub("p2.json")));
            Assert.Contains("avg_flops", File.ReadAllText(dir.Sub("p2.json")));

            // eval recorded the model on the table: search needs no --model.
            var s = Run("search", "--backend", url, "--table", table, "--top-k", "3", "information retrieval");
            Ok(s);
            Assert.Equal(3, s.Out.Trim().Split('\n').Length);
        }
        finally { Drop(url, table); }
    }

    [Theory]
    [InlineData("--table", "t", "--index", "x", "q")]
    [InlineData("--index", "x", "--backend", "postgres://u:p@127.0.0.1:1/db", "q")]
    [InlineData("--backend", "postgres://u:p@127.0.0.1:1/db", "--algorithm", "seismic", "q")]
    [InlineData("--backend", "postgres://u:p@127.0.0.1:1/db", "--ef-search", "50", "q")]
    [InlineData("--index", "x", "--ef-search", "50", "q")]
    [InlineData("--index", "x", "--approximate", "--algorithm", "maxscore", "q")]
    [InlineData("--backend", "mysql://x", "q")]
    [InlineData("--backend", "postgres://u:p@127.0.0.1:1/db", "--queries", "q.jsonl")]
    public void Misplaced_options_are_refused_before_anything_is_opened(params string[] argv)
    {
        var r = Run(["search", .. argv]);
        Assert.Equal(2, r.Code);
        Assert.StartsWith("splade search: ", r.Err);
        output.WriteLine(r.Err.Trim());
    }

    private static void Drop(string url, string table)
    {
        using var pg = PgSparseIndex.Open(url, new PgSparseIndexOptions { Table = table, Dimension = 30522 });
        pg.DropTable();
    }
}
