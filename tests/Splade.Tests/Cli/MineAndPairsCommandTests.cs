using System.Text.Json;
using Splade.Training.Data;

namespace Splade.Tests.Cli;

/// <summary>`splade mine` and `splade pairs` end to end: the files they write are what `splade train` reads; bad input fails clearly.</summary>
public sealed class MineAndPairsCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("splade-mine-").FullName;
    private static readonly string Adi = TestData.Path_("ir", "adi");

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    private string[] MineArgs(string output, string model = "bm25", params string[] extra) =>
    [
        "mine", "--model", model, "--corpus", Path.Combine(Adi, "corpus.jsonl"), "--queries", Path.Combine(Adi, "queries.jsonl"),
        "--qrels", Path.Combine(Adi, "qrels", "test.tsv"), "--negatives", "2", "--output", output, .. extra,
    ];

    [Fact]
    public async Task Mine_writes_the_card_columns_deterministically_and_train_reads_them()
    {
        string a = Path.Combine(_dir, "a.jsonl"), b = Path.Combine(_dir, "b.jsonl");
        var (code, _, stderr) = await CliRunner.RunAsync(MineArgs(a, extra: ["--range", "1:40"]));
        Assert.True(code == 0, stderr);
        Assert.Contains("mine: wrote 170 rows", stderr);
        Assert.Contains("searched 35/35 queries", stderr);
        (code, _, stderr) = await CliRunner.RunAsync(MineArgs(b, extra: ["--range", "1:40", "--index", Path.Combine(_dir, "index")]));
        Assert.True(code == 0, stderr);
        Assert.Equal(File.ReadAllBytes(a), File.ReadAllBytes(b));   // embedded index == brute force

        string first = File.ReadLines(a).First();
        using (var doc = JsonDocument.Parse(first))
            Assert.Equal(["query", "positive", "negative_1", "negative_2"], doc.RootElement.EnumerateObject().Select(p => p.Name).ToArray());
        var rows = JsonlTrainingRows.Read(a);
        Assert.Equal(170, rows.Count);
        Assert.All(rows, r => Assert.Equal(2, r.Negatives.Count));
        Assert.All(rows, r => Assert.DoesNotContain(r.Positive, r.Negatives));
    }

    [Fact]
    public async Task Mine_with_a_splade_model_and_random_sampling()
    {
        string a = Path.Combine(_dir, "a.jsonl"), b = Path.Combine(_dir, "b.jsonl"), c = Path.Combine(_dir, "c.jsonl");
        string model = TestData.Model("tiny-splade");
        foreach (var (path, seed) in new[] { (a, "3"), (b, "3"), (c, "4") })
        {
            var (code, _, stderr) = await CliRunner.RunAsync(MineArgs(path, model, "--sampling", "random", "--seed", seed, "--threads", "1"));
            Assert.True(code == 0, stderr);
        }
        Assert.Equal(File.ReadAllBytes(a), File.ReadAllBytes(b));
        Assert.NotEqual(File.ReadAllBytes(a), File.ReadAllBytes(c));
        Assert.Equal(170, JsonlTrainingRows.Read(a).Count);
    }

    [Fact]
    public async Task Mine_rejects_bad_input_with_the_file_or_flag_named()
    {
        string output = Path.Combine(_dir, "out.jsonl");
        async Task Fails(string expected, params string[] argv)
        {
            var (code, _, stderr) = await CliRunner.RunAsync(argv);
            Assert.Equal(2, code);
            Assert.Contains(expected, stderr);
            Assert.False(File.Exists(output));
        }
        await Fails("--range", MineArgs(output, extra: ["--range", "5:3"]));
        await Fails("--range", MineArgs(output, extra: ["--range", "abc"]));
        await Fails("fewer than --negatives", MineArgs(output, extra: ["--range", "0:1"]));
        await Fails("--sampling", MineArgs(output, extra: ["--sampling", "hard"]));
        await Fails("--relative-margin", MineArgs(output, extra: ["--relative-margin", "1.5"]));
        string[] noNegatives = MineArgs(output).Where((_, i) => i != 9 && i != 10).ToArray();
        await Fails("--negatives", noNegatives);
        string missing = Path.Combine(_dir, "missing.jsonl");
        await Fails(missing, ["mine", "--model", "bm25", "--corpus", missing, "--queries", Path.Combine(Adi, "queries.jsonl"),
            "--qrels", Path.Combine(Adi, "qrels", "test.tsv"), "--negatives", "1", "--output", output]);
        string bad = Path.Combine(_dir, "bad.jsonl");
        File.WriteAllLines(bad, ["{\"_id\": \"1\", \"text\": \"fine\"}", "{not json"]);
        await Fails($"{bad}:2", ["mine", "--model", "bm25", "--corpus", bad, "--queries", Path.Combine(Adi, "queries.jsonl"),
            "--qrels", Path.Combine(Adi, "qrels", "test.tsv"), "--negatives", "1", "--output", output]);
        string qrels = Path.Combine(_dir, "qrels.tsv");
        File.WriteAllLines(qrels, ["query-id\tcorpus-id\tscore", "1\tno-such-doc\t1"]);
        await Fails("names no document", ["mine", "--model", "bm25", "--corpus", Path.Combine(Adi, "corpus.jsonl"), "--queries", Path.Combine(Adi, "queries.jsonl"),
            "--qrels", qrels, "--negatives", "1", "--output", output]);
    }

    [Fact]
    public async Task Pairs_writes_rows_that_train_reads_and_is_seeded()
    {
        string a = Path.Combine(_dir, "a.jsonl"), b = Path.Combine(_dir, "b.jsonl"), c = Path.Combine(_dir, "c.jsonl");
        string corpus = Path.Combine(Adi, "corpus.jsonl");
        foreach (var (path, seed) in new[] { (a, "1"), (b, "1"), (c, "2") })
        {
            var (code, _, stderr) = await CliRunner.RunAsync("pairs", "--corpus", corpus, "--output", path, "--negatives", "1", "--seed", seed);
            Assert.True(code == 0, stderr);
            Assert.Contains("pairs: wrote", stderr);
        }
        Assert.Equal(File.ReadAllBytes(a), File.ReadAllBytes(b));
        Assert.NotEqual(File.ReadAllBytes(a), File.ReadAllBytes(c));
        var rows = JsonlTrainingRows.Read(a);
        Assert.InRange(rows.Count, 70, 82);
        Assert.All(rows, r => Assert.Single(r.Negatives));
        using var doc = JsonDocument.Parse(File.ReadLines(a).First());
        Assert.Equal(["query", "positive", "negative_1"], doc.RootElement.EnumerateObject().Select(p => p.Name).ToArray());

        // Without negatives: query and positive only, still a valid training file.
        var (code2, _, stderr2) = await CliRunner.RunAsync("pairs", "--corpus", corpus, "--output", a, "--max-pairs", "10");
        Assert.True(code2 == 0, stderr2);
        Assert.Equal(10, JsonlTrainingRows.Read(a).Count);
    }

    [Fact]
    public async Task Pairs_rejects_bad_input()
    {
        string output = Path.Combine(_dir, "out.jsonl");
        string corpus = Path.Combine(Adi, "corpus.jsonl");
        async Task Fails(int exit, string expected, params string[] argv)
        {
            var (code, _, stderr) = await CliRunner.RunAsync(argv);
            Assert.Equal(exit, code);
            Assert.Contains(expected, stderr);
            Assert.False(File.Exists(output));
        }
        await Fails(2, "--title-prob", "pairs", "--corpus", corpus, "--output", output, "--title-prob", "2");
        await Fails(2, "--window", "pairs", "--corpus", corpus, "--output", output, "--window", "9:3");
        await Fails(2, "--max-pairs", "pairs", "--corpus", corpus, "--output", output, "--max-pairs", "0");
        await Fails(2, "missing.jsonl", "pairs", "--corpus", Path.Combine(_dir, "missing.jsonl"), "--output", output);
        string empty = Path.Combine(_dir, "empty.jsonl");
        File.WriteAllText(empty, "");
        await Fails(2, "holds no documents", "pairs", "--corpus", empty, "--output", output);
        string tiny = Path.Combine(_dir, "tiny.jsonl");
        File.WriteAllLines(tiny, ["{\"_id\": \"1\", \"text\": \"too short\"}"]);
        await Fails(1, "long enough", "pairs", "--corpus", tiny, "--output", output);
        string bad = Path.Combine(_dir, "bad.jsonl");
        File.WriteAllLines(bad, ["{\"_id\": \"1\", \"text\": \"fine text here\"}", "{\"_id\": \"1\", \"text\": \"duplicate id\"}"]);
        await Fails(2, "duplicate document id", "pairs", "--corpus", bad, "--output", output);
    }

    [Fact]
    public async Task Train_reads_mined_and_pair_rows_together()
    {
        string mined = Path.Combine(_dir, "mined.jsonl"), pairs = Path.Combine(_dir, "pairs.jsonl"), output = Path.Combine(_dir, "model");
        var (code, _, stderr) = await CliRunner.RunAsync(MineArgs(mined));
        Assert.True(code == 0, stderr);
        (code, _, stderr) = await CliRunner.RunAsync("pairs", "--corpus", Path.Combine(Adi, "corpus.jsonl"), "--output", pairs, "--negatives", "2", "--max-pairs", "8");
        Assert.True(code == 0, stderr);
        (code, _, stderr) = await CliRunner.RunAsync("train", "--model", TestData.Model("tiny-splade"), "--train", mined, "--train", pairs,
            "--output", output, "--max-steps", "1", "--batch-size", "4", "--grad-accum", "1", "--max-seq-length", "32", "--threads", "1", "--no-dropout",
            "--card-base-model", "tiny-splade (test fixture)", "--card-dataset", "ADI inverse-cloze pairs", "--card-dataset", "ADI mined negatives",
            "--card-note", "seed 42, commit abc");
        Assert.True(code == 0, stderr);
        Assert.Contains("data: 178 rows of 4 columns", stderr);
        Assert.True(File.Exists(Path.Combine(output, "model.safetensors")));
        string card = File.ReadAllText(Path.Combine(output, "README.md"));
        Assert.Contains("- **Base model:** tiny-splade (test fixture)", card);
        Assert.Contains("- **Training Dataset:** ADI inverse-cloze pairs", card);
        Assert.Contains("- **Training Dataset:** ADI mined negatives", card);
        Assert.Contains("* seed 42, commit abc", card);
        Assert.Contains("* Columns: `query`, `positive`, `negative_1`, `negative_2`", card);
    }
}
