using System.Globalization;
using Splade.Evaluation;
using Splade.Search;
using Splade.Tests.Search;
using Xunit.Abstractions;

namespace Splade.Tests.Evaluation;

/// <summary>
/// BM25 over the eight classic collections of the shared data: pruned and exhaustive index search
/// equal brute force for every query, and ndcg@10 through the index equals ndcg@10 through the
/// brute-force index exactly. Skipped when the shared data is absent.
/// </summary>
public sealed class ClassicCollectionsBm25Tests(ITestOutputHelper output)
{
    private static readonly string[] Collections = ["adi", "cacm", "cisi", "cranfield", "lisa", "medline", "npl", "time"];

    [Fact]
    public void Bm25_IndexEqualsBruteForce_OnEveryCollection()
    {
        if (TestData.SharedData is not { } shared || !Directory.Exists(Path.Combine(shared, "ir")))
        {
            output.WriteLine("skipped: shared data with ir/ collections not found (set SPLADE_SHARED_DATA)");
            return;
        }
        output.WriteLine($"{"collection",-10} {"docs",6} {"queries",7} {"ndcg@10 index",14} {"ndcg@10 brute",14} {"graded",7} {"map@100",8}");
        foreach (string name in Collections)
        {
            var data = IrDataset.LoadBeir(Path.Combine(shared, "ir", name));
            var vocab = TermVocabulary.Build(data.Corpus.Select(d => d.FullText));
            var bm25 = Bm25Encoder.Fit(data.Corpus.Select(d => d.FullText), vocab.Tokenize, vocab.Count, k1: 0.9, b: 0.4);
            var evaluator = new SparseInformationRetrievalEvaluator(data);
            using var dir = new TempDirectory(name);
            using var index = InvertedIndex.Create(dir.Path, bm25.Dimension, new InvertedIndexOptions { StoreTexts = false });
            var viaIndex = evaluator.Evaluate(bm25, index);
            var viaBrute = evaluator.Evaluate(bm25, new BruteForceSparseIndex());
            Assert.Equal(viaBrute.Metrics, viaIndex.Metrics);

            var docs = index.ExportDocuments().ToList();
            var queries = bm25.EncodeQueries(evaluator.JudgedQueryIds().Select(q => data.Queries[q]).ToArray());
            foreach (var q in queries)
            {
                var expected = BruteForceSearch.Search(docs, q, 100);
                SearchAssert.Identical(expected, index.Search(q, 100, SearchAlgorithm.MaxScore), $"{name} maxscore");
                SearchAssert.Identical(expected, index.Search(q, 100, SearchAlgorithm.Exhaustive), $"{name} exhaustive");
                SearchAssert.Identical(BruteForceSearch.Search(docs, q, 10), index.Search(q, 10), $"{name} k=10");
            }
            string graded = viaIndex.Metrics.Any(m => m.Key == "dot_ndcg_graded@10") ? viaIndex["dot_ndcg_graded@10"].ToString("F4", CultureInfo.InvariantCulture) : "-";
            output.WriteLine($"{name,-10} {data.Corpus.Count,6} {viaIndex.QueryCount,7} {viaIndex["dot_ndcg@10"],14:F4} {viaBrute["dot_ndcg@10"],14:F4} {graded,7} {viaIndex["dot_map@100"],8:F4}");
            Assert.True(viaIndex["dot_ndcg@10"] > 0.1, $"{name}: BM25 ndcg@10 {viaIndex["dot_ndcg@10"]} is implausibly low");
        }
    }
}
