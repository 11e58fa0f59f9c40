using System.Text.Json;
using Splade.Cli;
using Splade.Search;

namespace Splade.Tests.Search;

/// <summary>The index, search and eval verbs end to end on a tiny BEIR folder (in process).</summary>
public sealed class SearchCliTests
{
    private static (int Code, string Out, string Err) Run(params string[] argv)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = Program.RunAsync(argv, new CliContext(new StringReader(""), stdout, stderr), CancellationToken.None).GetAwaiter().GetResult();
        return (code, stdout.ToString(), stderr.ToString());
    }

    private static TempDirectory Beir()
    {
        var dir = new TempDirectory("cli");
        File.WriteAllText(dir.Sub("corpus.jsonl"),
            "{\"_id\": \"1\", \"title\": \"Cats\", \"text\": \"the cat purrs on the mat\"}\n" +
            "{\"_id\": \"2\", \"title\": \"\", \"text\": \"fish swim in the sea\"}\n" +
            "{\"_id\": \"3\", \"title\": \"Dogs\", \"text\": \"a dog barks at the cat\"}\n");
        File.WriteAllText(dir.Sub("queries.jsonl"), "{\"_id\": \"q1\", \"text\": \"purring cat\"}\n{\"_id\": \"q2\", \"text\": \"sea fish\"}\n");
        Directory.CreateDirectory(dir.Sub("qrels"));
        File.WriteAllText(dir.Sub("qrels/test.tsv"), "query-id\tcorpus-id\tscore\nq1\t1\t1\nq2\t2\t1\n");
        return dir;
    }

    [Fact]
    public void Search_encodes_queries_with_the_precision_that_built_the_index()
    {
        if (!Splade.Tensors.Int8Matrix.IsSupported) return;   // the int8 modes need AVX-512 BW
        using var dir = Beir();
        string model = TestData.Model("tiny-splade"), index = dir.Sub("idx");
        var r = Run("index", "--model", model, "--corpus", dir.Sub("corpus.jsonl"), "--index", index, "--precision", "int8-decoder");
        Assert.True(r.Code == 0, r.Err);
        using (var spec = JsonDocument.Parse(File.ReadAllText(Path.Combine(index, "encoder.json"))))
            Assert.Equal("int8-decoder", spec.RootElement.GetProperty("precision").GetString());
        var recorded = Run("search", "--index", index, "--top-k", "3", "purring cat");
        var explicitInt8 = Run("search", "--index", index, "--top-k", "3", "--precision", "int8-decoder", "purring cat");
        var fp32 = Run("search", "--index", index, "--top-k", "3", "--precision", "fp32", "purring cat");
        Assert.True(recorded.Code == 0 && explicitInt8.Code == 0 && fp32.Code == 0, recorded.Err + explicitInt8.Err + fp32.Err);
        Assert.Equal(explicitInt8.Out, recorded.Out);
        Assert.NotEqual(fp32.Out, recorded.Out);   // the scores differ in their last digits at least

        File.WriteAllText(Path.Combine(index, "encoder.json"), "{\"model\": \"x\", \"precision\": \"fp64\"}");
        r = Run("search", "--index", index, "purring cat");
        Assert.Equal(2, r.Code);
        Assert.Contains("encoder.json", r.Err);
    }

    [Fact]
    public void Search_with_a_query_mass_cut_returns_the_exact_scores_of_the_whole_query()
    {
        using var dir = Beir();
        string model = TestData.Model("tiny-splade"), index = dir.Sub("idx");
        var r = Run("index", "--model", model, "--corpus", dir.Sub("corpus.jsonl"), "--index", index);
        Assert.True(r.Code == 0, r.Err);
        var exact = Run("search", "--index", index, "--top-k", "3", "purring cat");
        var whole = Run("search", "--index", index, "--top-k", "3", "--approximate", "--query-mass", "1", "purring cat");
        var cut = Run("search", "--index", index, "--top-k", "3", "--approximate", "--query-mass", "0.5", "purring cat");
        Assert.True(exact.Code == 0 && whole.Code == 0 && cut.Code == 0, exact.Err + whole.Err + cut.Err);
        Assert.Equal(exact.Out, whole.Out);
        // Only documents holding one of the kept terms can be found; each line found is the exact search's line for
        // that document (its whole-query score), in the same relative order.
        var exactLines = exact.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l[(l.IndexOf('\t') + 1)..]).ToList();
        var cutLines = cut.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l[(l.IndexOf('\t') + 1)..]).ToList();
        Assert.NotEmpty(cutLines);
        Assert.True(cutLines.Count < exactLines.Count, cut.Out);   // this query's heaviest half is in one document only
        Assert.All(cutLines, l => Assert.Contains(l, exactLines));
        Assert.Equal(cutLines, exactLines.Where(cutLines.Contains));

        r = Run("search", "--index", index, "--query-mass", "0.5", "purring cat");
        Assert.Equal(2, r.Code);
        Assert.Contains("--algorithm approximate", r.Err);
        r = Run("search", "--index", index, "--approximate", "--query-mass", "1.5", "purring cat");
        Assert.Equal(2, r.Code);
        Assert.Contains("(0, 1]", r.Err);
        r = Run("search", "--index", index, "--approximate", "--query-mass", "half", "purring cat");
        Assert.Equal(2, r.Code);
        Assert.Contains("--query-mass", r.Err);
    }

    [Fact]
    public void BenchSearch_ReportsEveryAlgorithmExact_AndAMarkdownTable()
    {
        using var dir = new TempDirectory("bench");
        var r = Run("bench-search", "--docs", "300,700", "--queries", "8", "--doc-nnz", "40", "--query-nnz", "10", "--alpha", "1,0.5",
            "--block-size", "16", "--index", dir.Path, "--threads", "2", "--qps-seconds", "0",
            "--seismic", "lambda=100000,cut=10,mass=1,terms=100000,heap=0.000001;lambda=20,block=4,order=docs");
        Assert.True(r.Code == 0, r.Err + r.Out);
        foreach (string algorithm in new[] { "exhaustive", "maxscore", "blockmax", "approximate α=1", "approximate α=0.5" })
            Assert.Contains($"| 700 | {algorithm} |", r.Out);
        Assert.Contains("| 300 | blockmax |", r.Out);
        // Unpruned Seismic (every list whole, every query term, full summaries, no block skipped) finds the exact top-k.
        Assert.Contains("| 700 | seismic lambda=100000,cut=10,mass=1,terms=100000,heap=0.000001 | ", r.Out);
        Assert.Matches(@"\| 700 \| seismic lambda=100000[^\n]*recall@10 1\.0000", r.Out);
        Assert.Contains("| 700 | seismic lambda=20,block=4,order=docs | ", r.Out);
        Assert.Contains("recall@10 1.0000", r.Out);   // alpha 1 is exact
        Assert.DoesNotContain("DIFFER", r.Out);
        Assert.True(InvertedIndex.Exists(Path.Combine(dir.Path, "700")));
        Assert.Equal(2, Run("bench-search", "--docs", "300", "--alpha", "1.5").Code);
        Assert.Equal(2, Run("bench-search", "--docs", "300", "--seismic", "lambda=0").Code);
        Assert.Equal(2, Run("bench-search", "--docs", "300", "--seismic", "speed=3").Code);
    }

    [Fact]
    public void IndexSearchEval_Bm25()
    {
        using var dir = Beir();
        string index = dir.Sub("index");
        var r = Run("index", "--model", "bm25", "--corpus", dir.Sub("corpus.jsonl"), "--index", index, "--commit-every", "2");
        Assert.True(r.Code == 0, r.Err);
        Assert.Contains("committed 3 documents", r.Err);
        r = Run("index", "--model", "bm25", "--corpus", dir.Sub("corpus.jsonl"), "--index", index);
        Assert.True(r.Code == 0, r.Err);
        Assert.Contains("3 already indexed", r.Err);   // resumed: nothing re-added

        r = Run("search", "--index", index, "--top-k", "2", "cat");
        Assert.True(r.Code == 0, r.Err);
        var lines = r.Out.Trim().Split('\n');
        Assert.Equal(2, lines.Length);
        Assert.StartsWith("1\t", lines[0]);
        Assert.Contains("Cats the cat purrs", r.Out);

        string run = dir.Sub("run.trec");
        r = Run("search", "--index", index, "--queries", dir.Sub("queries.jsonl"), "--output", run);
        Assert.True(r.Code == 0, r.Err);
        Assert.StartsWith("q1 Q0 1 1 ", File.ReadAllText(run));

        string metrics = dir.Sub("metrics.json");
        r = Run("eval", "--model", "bm25", "--data", dir.Path, "--index", index, "--output", metrics);
        Assert.True(r.Code == 0, r.Err);
        Assert.Contains("dot_ndcg@10", r.Out);
        using var json = JsonDocument.Parse(File.ReadAllText(metrics));
        Assert.Equal(1.0, json.RootElement.GetProperty("dot_ndcg@10").GetDouble(), 12);
        r = Run("eval", "--model", "bm25", "--data", dir.Path, "--output", dir.Sub("m2.json"));
        Assert.True(r.Code == 0, r.Err);
        Assert.Equal(File.ReadAllText(metrics), File.ReadAllText(dir.Sub("m2.json")));
    }

    [Fact]
    public void IndexFromVectors_AndErrors()
    {
        using var dir = new TempDirectory("cli");
        File.WriteAllText(dir.Sub("v.jsonl"), "{\"id\": \"a\", \"indices\": [5, 1], \"values\": [0.5, 2]}\n{\"id\": \"b\", \"indices\": [1], \"values\": [1]}\n");
        string index = dir.Sub("index");
        var r = Run("index", "--vectors", dir.Sub("v.jsonl"), "--index", index, "--dimension", "10");
        Assert.True(r.Code == 0, r.Err);
        using (var idx = InvertedIndex.Open(index, new InvertedIndexOptions { ReadOnly = true }))
        {
            Assert.Equal(2, idx.Count);
            var hits = idx.Search(Splade.Sparse.SparseVector.FromPairs(10, [new(1, 1f)]), 5);
            Assert.Equal(new[] { "a", "b" }, hits.Select(h => h.Id));
        }
        File.WriteAllText(dir.Sub("bad.jsonl"), "{\"id\": \"c\", \"indices\": [1], \"values\": [1]}\n{\"id\": \"d\", \"indices\": [12], \"values\": [1]}\n");
        r = Run("index", "--vectors", dir.Sub("bad.jsonl"), "--index", index, "--dimension", "10");
        Assert.Equal(1, r.Code);
        Assert.Contains("bad.jsonl:2", r.Err);

        r = Run("index", "--model", dir.Sub("no-such-model"), "--corpus", dir.Sub("v.jsonl"), "--index", dir.Sub("other"));
        Assert.Equal(1, r.Code);
        Assert.Contains("no-such-model", r.Err);
        r = Run("search", "--index", dir.Sub("nothing"), "query");
        Assert.Equal(2, r.Code);
    }
}
