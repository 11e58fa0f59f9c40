using Splade.Cli;

namespace Splade.Tests.Search;

/// <summary>`splade bench-search --vectors`: the same measurements on vectors read from `splade encode` output.</summary>
public sealed class BenchSearchVectorsTests
{
    private static (int Code, string Out, string Err) Run(params string[] argv)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = Program.RunAsync(argv, new CliContext(new StringReader(""), stdout, stderr), CancellationToken.None).GetAwaiter().GetResult();
        return (code, stdout.ToString(), stderr.ToString());
    }

    /// <summary>ADI encoded by tiny-splade: 82 document vectors and 35 query vectors.</summary>
    private static (string Docs, string Queries) Encode(TempDirectory dir)
    {
        string model = TestData.Model("tiny-splade"), adi = TestData.Path_("ir", "adi");
        string docs = dir.Sub("docs.jsonl"), queries = dir.Sub("queries.jsonl");
        var r = Run("encode", "--model", model, "--input", Path.Combine(adi, "corpus.jsonl"), "--output", docs, "--threads", "1");
        Assert.True(r.Code == 0, r.Err);
        r = Run("encode", "--model", model, "--role", "query", "--input", Path.Combine(adi, "queries.jsonl"), "--output", queries, "--threads", "1");
        Assert.True(r.Code == 0, r.Err);
        return (docs, queries);
    }

    [Fact]
    public void Real_vectors_are_indexed_and_every_exact_algorithm_agrees()
    {
        using var dir = new TempDirectory("bench-vectors");
        var (docs, queries) = Encode(dir);
        var r = Run("bench-search", "--vectors", docs, "--query-vectors", queries, "--alpha", "1,0.6", "--qps-seconds", "0", "--threads", "1", "--block-size", "16");
        Assert.True(r.Code == 0, r.Err + r.Out);
        Assert.Contains("vectors: 82 documents", r.Err);
        Assert.Contains("35 queries", r.Err);
        Assert.Contains("Real vectors:", r.Out);
        foreach (string algorithm in new[] { "exhaustive", "maxscore", "blockmax", "approximate α=1", "approximate α=0.6" })
            Assert.Contains($"| 82 | {algorithm} |", r.Out);
        Assert.Contains("recall@10 1.0000", r.Out);   // alpha 1 is exact
        Assert.DoesNotContain("DIFFER", r.Out);

        r = Run("bench-search", "--vectors", docs, "--query-vectors", queries, "--docs", "40,82", "--queries", "5", "--alpha", "1", "--qps-seconds", "0");
        Assert.True(r.Code == 0, r.Err + r.Out);
        Assert.Contains("| 40 | exhaustive |", r.Out);
        Assert.Contains("(5 queries", r.Out);
    }

    [Fact]
    public void Reordered_documents_give_the_same_exact_results_and_postings_are_counted()
    {
        using var dir = new TempDirectory("bench-vectors-reorder");
        var (docs, queries) = Encode(dir);
        var r = Run("bench-search", "--vectors", docs, "--query-vectors", queries, "--alpha", "1", "--qps-seconds", "0", "--threads", "1",
            "--block-size", "16", "--reorder", "top-terms");
        Assert.True(r.Code == 0, r.Err + r.Out);
        Assert.Contains("document order top-terms", r.Out);
        Assert.DoesNotContain("DIFFER", r.Out);
        // Exhaustive touches every posting of every query term: a positive count in its row.
        var row = r.Out.Split('\n').Single(l => l.StartsWith("| 82 | exhaustive |", StringComparison.Ordinal));
        Assert.True(double.Parse(row.Split('|')[8].Trim(), System.Globalization.CultureInfo.InvariantCulture) > 0, row);

        r = Run("bench-search", "--vectors", docs, "--query-vectors", queries, "--reorder", "random");
        Assert.Equal(2, r.Code);
        Assert.Contains("--reorder", r.Err);
        r = Run("bench-search", "--reorder", "top-terms");
        Assert.Equal(2, r.Code);
        Assert.Contains("--vectors", r.Err);
    }

    [Fact]
    public void Bad_vector_files_are_named()
    {
        using var dir = new TempDirectory("bench-vectors-bad");
        var (docs, queries) = Encode(dir);
        var r = Run("bench-search", "--vectors", docs);
        Assert.Equal(2, r.Code);
        Assert.Contains("--query-vectors", r.Err);
        r = Run("bench-search", "--vectors", dir.Sub("missing.jsonl"), "--query-vectors", queries);
        Assert.Equal(2, r.Code);
        Assert.Contains("missing.jsonl", r.Err);
        r = Run("bench-search", "--vectors", docs, "--query-vectors", queries, "--docs", "83");
        Assert.Equal(2, r.Code);
        Assert.Contains("exceeds the 82 vectors", r.Err);
        string bad = dir.Sub("bad.jsonl");
        File.WriteAllLines(bad, [File.ReadLines(docs).First(), "{\"id\": \"x\", \"indices\": [5, 3], \"values\": [1, 2]}"]);
        r = Run("bench-search", "--vectors", bad, "--query-vectors", queries);
        Assert.Equal(2, r.Code);
        Assert.Contains("bad.jsonl:2", r.Err);
        File.WriteAllLines(bad, [File.ReadLines(docs).First(), File.ReadLines(docs).First()]);
        r = Run("bench-search", "--vectors", bad, "--query-vectors", queries);
        Assert.Equal(2, r.Code);
        Assert.Contains("appears 2 times", r.Err);
    }
}
