using System.Text.Json;
using Splade.Cli;
using Splade.Evaluation;
using Splade.Search;

namespace Splade.Tests.Evaluation;

/// <summary>`splade eval --recall-at` and `splade eval --fuse` (RRF of two runs) on ADI.</summary>
public sealed class EvalFusionCliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("splade-fuse-").FullName;
    private static readonly string Adi = TestData.Path_("ir", "adi");

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    private static (int Code, string Out, string Err) Run(params string[] argv)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = Program.RunAsync(argv, new CliContext(new StringReader(""), stdout, stderr), CancellationToken.None).GetAwaiter().GetResult();
        return (code, stdout.ToString(), stderr.ToString());
    }

    private static Dictionary<string, double> Metrics(string path)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        return doc.RootElement.EnumerateObject().Where(p => p.Value.ValueKind == JsonValueKind.Number).ToDictionary(p => p.Name, p => p.Value.GetDouble());
    }

    [Fact]
    public void Recall_at_100_and_the_fusion_of_two_runs_match_independent_computations()
    {
        string bm25Run = Path.Combine(_dir, "bm25.run"), modelRun = Path.Combine(_dir, "model.run");
        var r = Run("eval", "--model", "bm25", "--data", Adi, "--output", Path.Combine(_dir, "bm25.json"), "--run", bm25Run, "--recall-at", "100");
        Assert.True(r.Code == 0, r.Err);
        r = Run("eval", "--model", TestData.Model("tiny-splade"), "--data", Adi, "--output", Path.Combine(_dir, "model.json"), "--run", modelRun, "--recall-at", "100", "--threads", "1");
        Assert.True(r.Code == 0, r.Err);
        var data = IrDataset.LoadBeir(Adi);
        var bm25 = TrecFiles.ReadRun(bm25Run);
        var bm25Metrics = Metrics(Path.Combine(_dir, "bm25.json"));
        double recall = data.Qrels.Average(q => (double)bm25[q.Key].Take(100).Count(h => q.Value.ContainsKey(h.Id)) / q.Value.Count);
        Assert.Equal(recall, bm25Metrics["dot_recall@100"], 9);
        Assert.True(bm25Metrics.ContainsKey("dot_recall@10"));   // the defaults stay

        string fused = Path.Combine(_dir, "rrf.json"), fusedRun = Path.Combine(_dir, "rrf.run");
        r = Run("eval", "--fuse", bm25Run, "--fuse", modelRun, "--data", Adi, "--output", fused, "--run", fusedRun, "--recall-at", "100");
        Assert.True(r.Code == 0, r.Err);
        Assert.Contains("dot_ndcg@10", r.Out);
        var model = TrecFiles.ReadRun(modelRun);
        var expected = data.Qrels.Keys.ToDictionary(q => q,
            q => ReciprocalRankFusion.Fuse(bm25[q], model[q], 60, 100), StringComparer.Ordinal);
        var reference = new SparseInformationRetrievalEvaluator(data) { PrecisionRecallAtK = [1, 3, 5, 10, 100] }.EvaluateRun(expected, 0);
        var got = Metrics(fused);
        foreach (string m in new[] { "dot_ndcg@10", "dot_mrr@10", "dot_recall@100", "dot_map@100" })
            Assert.Equal(reference[m], got[m], 9);
        Assert.Equal(expected["1"].Select(h => h.Id), TrecFiles.ReadRun(fusedRun)["1"].Select(h => h.Id));
    }

    [Fact]
    public void Bad_fusion_arguments_are_rejected()
    {
        string run = Path.Combine(_dir, "a.run");
        File.WriteAllText(run, "1 Q0 17 1 2.5 x\n");
        string output = Path.Combine(_dir, "m.json");
        Assert.Equal(2, Run("eval", "--fuse", run, "--data", Adi, "--output", output).Code);
        var r = Run("eval", "--fuse", run, "--fuse", run, "--model", "bm25", "--data", Adi, "--output", output);
        Assert.Equal(2, r.Code);
        Assert.Contains("--model", r.Err);
        r = Run("eval", "--fuse", run, "--fuse", Path.Combine(_dir, "missing.run"), "--data", Adi, "--output", output);
        Assert.Equal(2, r.Code);
        Assert.Contains("missing.run", r.Err);
        string bad = Path.Combine(_dir, "bad.run");
        File.WriteAllText(bad, "1 Q0 17 1 2.5 x\n1 Q0 18 two 2.0 x\n");
        r = Run("eval", "--fuse", run, "--fuse", bad, "--data", Adi, "--output", output);
        Assert.Equal(2, r.Code);
        Assert.Contains("bad.run:2", r.Err);
        r = Run("eval", "--model", "bm25", "--data", Adi, "--output", output, "--recall-at", "0");
        Assert.Equal(2, r.Code);
        Assert.Contains("--recall-at", r.Err);
        Assert.False(File.Exists(output));
    }
}
