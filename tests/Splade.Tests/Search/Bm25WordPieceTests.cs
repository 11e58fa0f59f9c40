using System.Text.Json;
using Splade.Evaluation;
using Splade.Search;
using Splade.Tests.Cli;
using Splade.Tokenization;
using Xunit.Abstractions;

namespace Splade.Tests.Search;

/// <summary>
/// BM25 over a SPLADE model's own WordPiece tokenizer (`bm25?tokenizer=MODEL`): the CLI's index-based
/// evaluation equals an independent brute-force computation of BM25 and ndcg@10 on ADI.
/// </summary>
public class Bm25WordPieceTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Eval_with_the_model_tokenizer_matches_a_brute_force_computation()
    {
        string model = TestData.Model("tiny-splade");
        string data = TestData.Path_("ir", "adi");
        string metrics = Path.Combine(Directory.CreateTempSubdirectory("splade-bm25wp-").FullName, "m.json");
        var (code, _, stderr) = await CliRunner.RunAsync("eval", "--model", $"bm25?tokenizer={model}&k1=0.9&b=0.4", "--data", data, "--output", metrics);
        Assert.True(code == 0, stderr);
        using var doc = JsonDocument.Parse(File.ReadAllText(metrics));
        double cliNdcg = FindMetric(doc.RootElement, "dot_ndcg@10");

        var dataset = IrDataset.LoadBeir(data);
        var tokenizer = BertTokenizer.FromFolder(model);
        IReadOnlyList<int> Ids(string t) => tokenizer.Encode(t, int.MaxValue, addSpecialTokens: false).Ids;
        var bm25 = Bm25Encoder.Fit(dataset.Corpus.Select(d => d.FullText), Ids, tokenizer.VocabSize, 0.9, 0.4);
        var docVectors = bm25.EncodeDocuments(dataset.Corpus.Select(d => d.FullText).ToArray());
        var docs = dataset.Corpus.Select((d, i) => new IndexedDocument(d.Id, docVectors[i])).ToArray();
        var judged = dataset.Queries.Where(q => dataset.Qrels.TryGetValue(q.Key, out var r) && r.Values.Any(g => g > 0)).ToArray();
        double sum = 0;
        foreach (var (qid, text) in judged)
        {
            var hits = BruteForceSearch.Search(docs, bm25.EncodeQueries([text])[0], 10);
            var relevant = dataset.Qrels[qid].Where(p => p.Value > 0).Select(p => p.Key).ToHashSet();
            // Binary nDCG@10 (spec §7): DCG = Σ rel_i / log2(i + 2), IDCG with min(|rel|, 10) ones.
            double dcg = 0, idcg = 0;
            for (int i = 0; i < hits.Count; i++) if (relevant.Contains(hits[i].Id)) dcg += 1 / Math.Log2(i + 2);
            for (int i = 0; i < Math.Min(relevant.Count, 10); i++) idcg += 1 / Math.Log2(i + 2);
            sum += dcg / idcg;
        }
        double expected = sum / judged.Length;
        output.WriteLine($"ADI BM25 (WordPiece ids of the model tokenizer, k1 0.9, b 0.4): ndcg@10 CLI {cliNdcg:F6}, brute force {expected:F6}");
        Assert.Equal(expected, cliNdcg, 9);
    }

    private static double FindMetric(JsonElement e, string name)
    {
        if (e.ValueKind == JsonValueKind.Object)
            foreach (var p in e.EnumerateObject())
            {
                if (p.Name == name && p.Value.ValueKind == JsonValueKind.Number) return p.Value.GetDouble();
                if (p.Value.ValueKind == JsonValueKind.Object) { double v = FindMetric(p.Value, name); if (!double.IsNaN(v)) return v; }
            }
        return double.NaN;
    }
}
