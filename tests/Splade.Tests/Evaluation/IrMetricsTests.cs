using Splade.Evaluation;
using Splade.Search;
using Splade.Sparse;
using Splade.Tests.Search;

namespace Splade.Tests.Evaluation;

/// <summary>Metric functions on hand-computed cases, dataset readers on malformed input, the evaluator end to end.</summary>
public sealed class IrMetricsTests
{
    private static readonly string[] Ranked = ["a", "b", "c", "d"];
    private static readonly HashSet<string> Relevant = ["b", "d", "z"];

    [Fact]
    public void BinaryMetrics_HandComputed()
    {
        Assert.Equal(0, IrMetrics.AccuracyAt(Ranked, Relevant, 1));
        Assert.Equal(1, IrMetrics.AccuracyAt(Ranked, Relevant, 3));
        Assert.Equal(1.0 / 3, IrMetrics.PrecisionAt(Ranked, Relevant, 3), 12);
        Assert.Equal(0.2, IrMetrics.PrecisionAt(Ranked, Relevant, 10), 12);   // fewer than k results: still divided by k
        Assert.Equal(1.0 / 3, IrMetrics.RecallAt(Ranked, Relevant, 3), 12);
        Assert.Equal(2.0 / 3, IrMetrics.RecallAt(Ranked, Relevant, 10), 12);
        Assert.Equal(0.5, IrMetrics.MrrAt(Ranked, Relevant, 10), 12);
        Assert.Equal(0, IrMetrics.MrrAt(Ranked, Relevant, 1));
        // DCG = 1/log2(3) + 1/log2(5); IDCG = 1 + 1/log2(3) + 1/log2(4)
        double dcg = 1 / Math.Log2(3) + 1 / Math.Log2(5), idcg = 1 + 1 / Math.Log2(3) + 0.5;
        Assert.Equal(dcg / idcg, IrMetrics.NdcgAt(Ranked, Relevant, 10), 12);
        Assert.Equal(0.4981893, IrMetrics.NdcgAt(Ranked, Relevant, 10), 6);
        // AP@10 = (1/2 + 2/4) / min(10, 3); AP@2 = (1/2) / min(2, 3)
        Assert.Equal(1.0 / 3, IrMetrics.MapAt(Ranked, Relevant, 10), 12);
        Assert.Equal(0.25, IrMetrics.MapAt(Ranked, Relevant, 2), 12);
    }

    [Fact]
    public void NoRelevantRetrieved_AllZero()
    {
        string[] ranked = ["x", "y"];
        Assert.Equal(0, IrMetrics.AccuracyAt(ranked, Relevant, 10));
        Assert.Equal(0, IrMetrics.MrrAt(ranked, Relevant, 10));
        Assert.Equal(0, IrMetrics.NdcgAt(ranked, Relevant, 10));
        Assert.Equal(0, IrMetrics.MapAt(ranked, Relevant, 100));
        Assert.Equal(0, IrMetrics.NdcgAt([], Relevant, 10));
    }

    [Fact]
    public void GradedNdcg_GainEqualsGrade()
    {
        var grades = new Dictionary<string, int> { ["b"] = 3, ["d"] = 1, ["z"] = 2 };
        double dcg = 3 / Math.Log2(3) + 1 / Math.Log2(5), idcg = 3 + 2 / Math.Log2(3) + 1 / Math.Log2(4);
        Assert.Equal(dcg / idcg, IrMetrics.GradedNdcgAt(Ranked, grades, 10), 12);
        // With all grades 1 it is the binary nDCG.
        var ones = grades.ToDictionary(p => p.Key, _ => 1);
        Assert.Equal(IrMetrics.NdcgAt(Ranked, Relevant, 10), IrMetrics.GradedNdcgAt(Ranked, ones, 10), 12);
    }

    [Fact]
    public void Evaluator_TiesBrokenByIdAndOnlyJudgedQueriesCount()
    {
        using var dir = new TempDirectory("beir");
        File.WriteAllText(dir.Sub("corpus.jsonl"), """
            {"_id": "a2", "title": "", "text": "red fish"}
            {"_id": "a1", "title": "red", "text": "fish"}
            {"_id": "b", "title": "Blue", "text": "whale song"}
            """ + "\n");
        File.WriteAllText(dir.Sub("queries.jsonl"), "{\"_id\": \"q1\", \"text\": \"red fish\"}\n{\"_id\": \"q2\", \"text\": \"whale\"}\n{\"_id\": \"q3\", \"text\": \"unjudged\"}\n");
        Directory.CreateDirectory(dir.Sub("qrels"));
        File.WriteAllText(dir.Sub("qrels/test.tsv"), "query-id\tcorpus-id\tscore\nq1\ta2\t1\nq2\tb\t2\nq3\tb\t0\n");
        var data = IrDataset.LoadBeir(dir.Path);
        Assert.Equal("red fish", data.Corpus[1].FullText);   // title + " " + text
        Assert.Equal("red fish", data.Corpus[0].FullText);   // empty title: text only
        var vocab = TermVocabulary.Build(data.Corpus.Select(d => d.FullText));
        var bm25 = Bm25Encoder.Fit(data.Corpus.Select(d => d.FullText), vocab.Tokenize, vocab.Count);
        var result = new SparseInformationRetrievalEvaluator(data).Evaluate(bm25);
        Assert.Equal(2, result.QueryCount);   // q3 has only a grade-0 row
        // q1: a1 and a2 tie, a1 ranks first by id, so the relevant a2 is at rank 2.
        Assert.Equal(new[] { "a1", "a2" }, result.Run["q1"].Select(h => h.Id));
        Assert.Equal((0.5 + 1) / 2, result["dot_mrr@10"], 12);
        Assert.Equal((1 / Math.Log2(3) + 1) / 2, result["dot_ndcg@10"], 12);
        Assert.Equal((1 / Math.Log2(3) + 1) / 2, result["dot_ndcg_graded@10"], 12);
        Assert.Equal(0.5, result["dot_accuracy@1"], 12);
        Assert.Equal(7.0 / 3, result["corpus_active_dims"], 12);   // 2 + 2 + 3 distinct words
        Assert.Contains("\"dot_ndcg@10\"", result.ToJson());
        string csv = dir.Sub("results.csv");
        result.AppendCsv(csv);
        result.AppendCsv(csv);
        var lines = File.ReadAllLines(csv);
        Assert.Equal(3, lines.Length);
        Assert.StartsWith("epoch,steps,dot-Accuracy@1,", lines[0]);
        Assert.Contains("dot-NDCG@10", lines[0]);
        var run = new StringWriter();
        result.WriteTrecRun(run);
        Assert.StartsWith("q1 Q0 a1 1 ", run.ToString());
    }

    [Fact]
    public void MalformedLines_NameFileAndLine()
    {
        using var dir = new TempDirectory("beir");
        File.WriteAllText(dir.Sub("corpus.jsonl"), "{\"_id\": \"a\", \"text\": \"x\"}\n{\"_id\": \"b\", \"text\": \n");
        File.WriteAllText(dir.Sub("queries.jsonl"), "{\"_id\": \"q\", \"text\": \"x\"}\n");
        Directory.CreateDirectory(dir.Sub("qrels"));
        File.WriteAllText(dir.Sub("qrels/test.tsv"), "query-id\tcorpus-id\tscore\nq\ta\t1\n");
        var e = Assert.Throws<InvalidDataException>(() => IrDataset.LoadBeir(dir.Path));
        Assert.Contains("corpus.jsonl:2", e.Message);

        File.WriteAllText(dir.Sub("corpus.jsonl"), "{\"_id\": \"a\", \"text\": \"x\"}\n{\"text\": \"no id\"}\n");
        e = Assert.Throws<InvalidDataException>(() => IrDataset.LoadBeir(dir.Path));
        Assert.Contains("corpus.jsonl:2", e.Message);
        Assert.Contains("_id", e.Message);

        File.WriteAllText(dir.Sub("corpus.jsonl"), "{\"_id\": \"a\", \"text\": \"x\"}\n");
        File.WriteAllText(dir.Sub("qrels/test.tsv"), "query-id\tcorpus-id\tscore\nq\ta\t1\nq\ta\tmany\n");
        e = Assert.Throws<InvalidDataException>(() => IrDataset.LoadBeir(dir.Path));
        Assert.Contains("test.tsv:3", e.Message);

        string trec = dir.Sub("qrels.trec");
        File.WriteAllText(trec, "1 0 d1 1\n1 0 d2\n");
        e = Assert.Throws<InvalidDataException>(() => TrecFiles.ReadTrecQrels(trec));
        Assert.Contains("qrels.trec:2", e.Message);
        string runFile = dir.Sub("run.trec");
        File.WriteAllText(runFile, "1 Q0 d1 1 2.5 t\n1 Q0 d2 two 2.0 t\n");
        e = Assert.Throws<InvalidDataException>(() => TrecFiles.ReadRun(runFile));
        Assert.Contains("run.trec:2", e.Message);
    }

    [Fact]
    public void TrecRunAndQrels_RoundTrip()
    {
        using var dir = new TempDirectory("trec");
        var hits = new Dictionary<string, IReadOnlyList<SearchHit>> { ["q1"] = [new("d1", 2.5f), new("d2", 0.1f / 3)], ["q2"] = [new("d3", 1e-7f)] };
        string path = dir.Sub("run.trec");
        using (var w = new StreamWriter(path)) TrecFiles.WriteRun(w, hits);
        var back = TrecFiles.ReadRun(path);
        Assert.Equal(hits.Keys, back.Keys);
        foreach (var (q, list) in hits) Assert.Equal(list, back[q]);
        var qrels = new Dictionary<string, IReadOnlyDictionary<string, int>> { ["q1"] = new Dictionary<string, int> { ["d1"] = 2 } };
        string qpath = dir.Sub("qrels.txt");
        using (var w = new StreamWriter(qpath)) TrecFiles.WriteTrecQrels(w, qrels);
        Assert.Equal(2, TrecFiles.ReadTrecQrels(qpath)["q1"]["d1"]);
    }

    [Fact]
    public void Bm25Weights_HandComputed_AndRrf()
    {
        string[] corpus = ["a b", "a c c"];
        var vocab = TermVocabulary.Build(corpus);   // a=0, b=1, c=2
        var bm25 = Bm25Encoder.Fit(corpus, vocab.Tokenize, vocab.Count);
        Assert.Equal(2.5, bm25.Statistics.AverageLength);
        var d = bm25.EncodeDocuments(corpus);
        double norm1 = 1.2 * (0.25 + 0.75 * 3 / 2.5);
        Assert.Equal(Math.Log(2) * 2 / (2 + norm1), d[1][2], 6);   // c in doc 2: idf ln(1 + 1.5/1.5), tf 2, dl 3
        double norm0 = 1.2 * (0.25 + 0.75 * 2 / 2.5);
        Assert.Equal(Math.Log(1.2) / (1 + norm0), d[0][0], 6);      // a in doc 1: idf ln(1 + 0.5/2.5)
        var q = bm25.EncodeQueries(["c c a unknown"])[0];
        Assert.Equal(new[] { 0, 2 }, q.Indices.ToArray());
        Assert.Equal(new[] { 1f, 2f }, q.Values.ToArray());
        var fused = ReciprocalRankFusion.Fuse([new SearchHit("x", 9), new("y", 8)], [new SearchHit("y", 1), new("z", 0.5f)]);
        Assert.Equal(new[] { "y", "x", "z" }, fused.Select(h => h.Id));
        Assert.Equal((float)(1.0 / 62 + 1.0 / 61), fused[0].Score);
        var tie = ReciprocalRankFusion.Fuse([new SearchHit("b", 1)], [new SearchHit("a", 1)]);
        Assert.Equal(new[] { "a", "b" }, tie.Select(h => h.Id));
    }
}
