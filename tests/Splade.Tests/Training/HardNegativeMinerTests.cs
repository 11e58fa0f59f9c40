using Splade.Evaluation;
using Splade.Search;
using Splade.Sparse;
using Splade.Training.Data;

namespace Splade.Tests.Training;

/// <summary>Hard-negative mining on ADI with BM25: positives excluded, rank range and sampling as specified, seeded.</summary>
public sealed class HardNegativeMinerTests
{
    private static IrDataset Adi() => IrDataset.LoadBeir(TestData.Path_("ir", "adi"));

    private static Bm25Encoder Bm25(IrDataset data)
    {
        var vocabulary = TermVocabulary.Build(data.Corpus.Select(d => d.FullText).ToList());
        return Bm25Encoder.Fit(data.Corpus.Select(d => d.FullText).ToList(), vocabulary.Tokenize, vocabulary.Count);
    }

    /// <summary>The ranking of the whole corpus for a query, by exhaustive scoring (best first, ties by id).</summary>
    private static string[] FullRanking(IrDataset data, Bm25Encoder bm25, string qid)
    {
        SparseVector q = bm25.EncodeQueries([data.Queries[qid]])[0];
        var docs = data.Corpus.Select(d => new IndexedDocument(d.Id, bm25.EncodeDocuments([d.FullText])[0]));
        return BruteForceSearch.Search(docs, q, data.Corpus.Count).Select(h => h.Id).ToArray();
    }

    [Fact]
    public void Top_sampling_takes_the_ranks_of_the_range_with_positives_removed()
    {
        var data = Adi();
        var bm25 = Bm25(data);
        var result = HardNegativeMiner.Mine(data, bm25, new HardNegativeMiningOptions { Negatives = 3, RangeMin = 2, RangeMax = 30 });
        var byText = data.Corpus.GroupBy(d => d.FullText).ToDictionary(g => g.Key, g => g.First().Id);
        int pairs = data.Qrels.Where(q => data.Queries.ContainsKey(q.Key)).Sum(q => q.Value.Count);
        Assert.Equal(pairs, result.Rows.Count + result.SkippedPairs);
        Assert.Equal(0, result.SkippedPairs);
        int row = 0;
        foreach (string qid in data.Qrels.Keys.Where(data.Queries.ContainsKey).Order(StringComparer.Ordinal))
        {
            var relevant = data.Qrels[qid];
            var expected = FullRanking(data, bm25, qid).Where(id => !relevant.ContainsKey(id)).Skip(2).Take(3).ToArray();
            foreach (string pos in relevant.Keys.Order(StringComparer.Ordinal))
            {
                var r = result.Rows[row++];
                Assert.Equal(data.Queries[qid], r.Query);
                Assert.Equal(byText[r.Positive], pos);
                Assert.Equal(expected, r.Negatives.Select(n => byText[n]).ToArray());
                Assert.DoesNotContain(r.Negatives, n => relevant.ContainsKey(byText[n]));
            }
        }
        Assert.Equal(row, result.Rows.Count);
        Assert.InRange(result.MeanNegativeRank, 3, 5);   // ranks 3, 4, 5 of the ranking without positives
    }

    [Fact]
    public void Random_sampling_is_seeded_and_stays_in_the_range()
    {
        var data = Adi();
        var bm25 = Bm25(data);
        HardNegativeMiningResult Run(int seed) => HardNegativeMiner.Mine(data, bm25,
            new HardNegativeMiningOptions { Negatives = 2, RangeMin = 5, RangeMax = 20, Sampling = NegativeSampling.Random, Seed = seed });
        var a = Run(1);
        var b = Run(1);
        var c = Run(2);
        Assert.Equal(a.Rows.Select(r => string.Join("|", r.Negatives)), b.Rows.Select(r => string.Join("|", r.Negatives)));
        Assert.NotEqual(a.Rows.Select(r => string.Join("|", r.Negatives)), c.Rows.Select(r => string.Join("|", r.Negatives)));
        var byText = data.Corpus.GroupBy(d => d.FullText).ToDictionary(g => g.Key, g => g.First().Id);
        var rankings = new Dictionary<string, string[]>();
        foreach (var r in a.Rows)
        {
            string qid = data.Queries.First(q => q.Value == r.Query).Key;
            if (!rankings.TryGetValue(qid, out var ranking))
                rankings[qid] = ranking = FullRanking(data, bm25, qid).Where(id => !data.Qrels[qid].ContainsKey(id)).ToArray();
            Assert.Equal(2, r.Negatives.Distinct().Count());
            foreach (string n in r.Negatives) Assert.InRange(Array.IndexOf(ranking, byText[n]), 5, 19);
        }
        Assert.InRange(a.MeanNegativeRank, 6, 20);
    }

    [Fact]
    public void A_margin_or_a_short_range_drops_pairs_and_counts_them()
    {
        var data = Adi();
        var bm25 = Bm25(data);
        var strict = HardNegativeMiner.Mine(data, bm25, new HardNegativeMiningOptions { Negatives = 5, RangeMax = 5, RelativeMargin = 0.5 });
        Assert.True(strict.SkippedPairs > 0);
        var all = HardNegativeMiner.Mine(data, bm25, new HardNegativeMiningOptions { Negatives = 5, RangeMax = 5 });
        Assert.Equal(all.Rows.Count, strict.Rows.Count + strict.SkippedPairs);
        // Every kept negative obeys the margin.
        foreach (var r in strict.Rows)
        {
            var q = bm25.EncodeQueries([r.Query])[0];
            float pos = q.Dot(bm25.EncodeDocuments([r.Positive])[0]);
            foreach (string n in r.Negatives) Assert.True(q.Dot(bm25.EncodeDocuments([n])[0]) <= 0.5 * pos + 1e-5);
        }
    }

    [Fact]
    public void Bad_options_throw()
    {
        var data = Adi();
        var bm25 = Bm25(data);
        Assert.Throws<ArgumentOutOfRangeException>(() => HardNegativeMiner.Mine(data, bm25, new HardNegativeMiningOptions { Negatives = 0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => HardNegativeMiner.Mine(data, bm25, new HardNegativeMiningOptions { RangeMin = 10, RangeMax = 10 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => HardNegativeMiner.Mine(data, bm25, new HardNegativeMiningOptions { Negatives = 4, RangeMin = 0, RangeMax = 3 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => HardNegativeMiner.Mine(data, bm25, new HardNegativeMiningOptions { RelativeMargin = 1 }));
    }
}
