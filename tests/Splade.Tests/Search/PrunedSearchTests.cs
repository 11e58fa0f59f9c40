using Splade.Search;
using Splade.Sparse;
using Xunit.Abstractions;

namespace Splade.Tests.Search;

/// <summary>MaxScore, block-max and exhaustive search against the brute-force twin: same ids, bit-identical scores.</summary>
public sealed class PrunedSearchTests(ITestOutputHelper output)
{
    private static readonly InvertedIndexOptions Blocks = new() { BlockSize = 64 };

    /// <summary>A new index in <paramref name="dir"/> with block structures, holding <paramref name="docs"/> in one committed segment.</summary>
    private static InvertedIndex Committed(TempDirectory dir, int dimension, IReadOnlyList<IndexedDocument> docs)
    {
        var index = InvertedIndex.Create(dir.Path, dimension, Blocks);
        index.Upsert(docs);
        index.Commit();
        return index;
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 7)]
    [InlineData(3, 769)]
    [InlineData(4, 5000)]
    [InlineData(5, 20000)]
    public void PrunedEqualsBruteForce_Synthetic(int seed, int docCount)
    {
        var gen = new SyntheticSparseData(seed);
        var docs = gen.Documents(docCount);
        // Duplicates under other ids create exact ties that must be broken by id.
        for (int i = 0; i < Math.Min(20, docCount); i++) docs.Add(new IndexedDocument($"c{i}", docs[i * (docCount / Math.Min(20, docCount))].Vector));
        var queries = gen.Fork(seed + 100).Queries(25);
        queries.Add(SparseVector.Empty(gen.Dimension));
        queries.Add(docs[0].Vector);
        using var dir = new TempDirectory();
        using var index = Committed(dir, gen.Dimension, docs);
        CheckAll(index, docs, queries, $"seed {seed}, {docCount} docs");
    }

    [Fact]
    public void Batched_exact_rescoring_equals_one_candidate_at_a_time_bit_for_bit()
    {
        // Several segments, frequent terms stored as bitmaps, candidates in any order, repeated and absent documents.
        var gen = new SyntheticSparseData(93);
        using var dir = new TempDirectory();
        using var index = InvertedIndex.Create(dir.Path, gen.Dimension, new InvertedIndexOptions { MaxSegments = 0, BlockSize = 64 });
        for (int s = 0; s < 3; s++)
        {
            var docs = gen.Documents(4000 + 500 * s, idPrefix: $"s{s}-");
            index.Upsert(docs);
            index.Commit();
        }
        var snapshot = index.CurrentSnapshot();
        Assert.True(snapshot.Segments.Length >= 2);
        var rng = new Random(94);
        foreach (var q in gen.Fork(95).Queries(12))
        {
            var candidates = Enumerable.Range(0, 60).Select(_ =>
            {
                int seg = rng.Next(snapshot.Segments.Length);
                return (Segment: seg, Ord: rng.Next(snapshot.Segments[seg].DocCount));
            }).ToList();
            candidates.Add(candidates[3]);
            var array = candidates.ToArray();
            float[] batched = MaxScoreScorer.ExactScores(snapshot, q.Indices, q.Values, array);
            for (int c = 0; c < array.Length; c++)
                Assert.Equal(MaxScoreScorer.ExactScore(snapshot.Segments[array[c].Segment], q.Indices, q.Values, array[c].Ord), batched[c]);
        }
    }

    [Fact]
    public void Query_mass_cuts_the_query_to_its_heaviest_terms_and_rescores_with_the_whole_query()
    {
        var q = new SparseVector(100, [3, 10, 20, 40, 70], [0.5f, 4f, 1f, 2f, 0.5f]);   // total 8
        Assert.Same(q, InvertedIndex.CutQuery(q, 1f));
        Assert.Equal([10], InvertedIndex.CutQuery(q, 0.01f).Indices.ToArray());         // at least one term
        Assert.Equal([10], InvertedIndex.CutQuery(q, 0.5f).Indices.ToArray());          // 4 ≥ 4
        Assert.Equal([10, 40], InvertedIndex.CutQuery(q, 0.6f).Indices.ToArray());      // 4 + 2 ≥ 4.8, ascending ids
        Assert.Equal([3, 10, 20, 40], InvertedIndex.CutQuery(q, 0.9f).Indices.ToArray()); // ties at 0.5: lower id first

        var gen = new SyntheticSparseData(91);
        var docs = gen.Documents(5000);
        var queries = gen.Fork(92).Queries(20);
        using var dir = new TempDirectory();
        using var index = Committed(dir, gen.Dimension, docs);
        var byId = docs.ToDictionary(d => d.Id);
        double recall = 0;
        foreach (var query in queries)
        {
            var exact = index.Search(query, 10, SearchOptions.For(SearchAlgorithm.Exhaustive));
            var cut = index.Search(query, 10, new SearchOptions { Algorithm = SearchAlgorithm.Approximate, Alpha = 1f, QueryMass = 0.8f });
            Assert.Equal(exact.Count, cut.Count);
            foreach (var hit in cut) Assert.Equal(query.Dot(byId[hit.Id].Vector), hit.Score);   // scores of the whole query
            Assert.True(cut.Zip(cut.Skip(1)).All(p => p.First.Score >= p.Second.Score));
            recall += cut.Count(h => exact.Any(e => e.Id == h.Id)) / (double)exact.Count;
            var full = index.Search(query, 10, new SearchOptions { Algorithm = SearchAlgorithm.Approximate, Alpha = 1f, QueryMass = 1f });
            Assert.Equal(exact.Select(h => h.Id), full.Select(h => h.Id));
        }
        Assert.True(recall / queries.Count > 0.5, $"recall {recall / queries.Count}");
        Assert.Throws<ArgumentOutOfRangeException>(() => index.Search(queries[0], 10, new SearchOptions { Algorithm = SearchAlgorithm.Approximate, QueryMass = 0f }));
    }

    [Fact]
    public void Postings_touched_count_every_list_for_exhaustive_and_no_more_for_pruned_search()
    {
        var gen = new SyntheticSparseData(77);
        var docs = gen.Documents(20000);
        var queries = gen.Fork(78).Queries(10);
        using var dir = new TempDirectory();
        using var index = Committed(dir, gen.Dimension, docs);
        foreach (var q in queries)
        {
            long expected = 0;
            for (int i = 0; i < q.Indices.Length; i++)
                expected += docs.Count(d => d.Vector.Indices.BinarySearch(q.Indices[i]) >= 0);
            index.Search(q, 10, SearchOptions.For(SearchAlgorithm.Exhaustive));
            Assert.Equal(expected, InvertedIndex.LastPostingsTouched);
            foreach (var algorithm in new[] { SearchAlgorithm.MaxScore, SearchAlgorithm.BlockMax })
            {
                index.Search(q, 10, SearchOptions.For(algorithm));
                Assert.InRange(InvertedIndex.LastPostingsTouched, 1, expected);
            }
        }
    }

    [Fact]
    public void PrunedEqualsBruteForce_SegmentsSpanningSeveralRanges()
    {
        // Segments of exactly one range, one range plus one document and two ranges plus one, so that essential
        // lists cross range boundaries and the last range is a single document.
        var gen = new SyntheticSparseData(41);
        int range = MaxScoreScorer.RangeDocs;
        var docs = gen.Documents(range + (range + 1) + (2 * range + 1), nonZeros: 12);
        using var dir = new TempDirectory();
        using var index = InvertedIndex.Create(dir.Path, gen.Dimension, new InvertedIndexOptions { MaxSegments = 0 });
        int at = 0;
        foreach (int size in new[] { range, range + 1, 2 * range + 1 })
        {
            index.Upsert(docs.Skip(at).Take(size).ToList());
            index.Commit();
            at += size;
        }
        Assert.Equal(3, index.SegmentCount);
        var queries = gen.Fork(42).Queries(12, nonZeros: 8);
        queries.Add(docs[^1].Vector);
        queries.Add(docs[range].Vector);
        foreach (int k in new[] { 1, 10, 100 })
            for (int q = 0; q < queries.Count; q++)
            {
                var expected = BruteForceSearch.Search(docs, queries[q], k);
                SearchAssert.Identical(expected, index.Search(queries[q], k, SearchAlgorithm.MaxScore), $"maxscore, k={k}, query {q}");
                SearchAssert.Identical(expected, index.Search(queries[q], k, new SearchOptions { Algorithm = SearchAlgorithm.Approximate, Alpha = 1f }),
                    $"approximate alpha 1, k={k}, query {q}");
            }
    }

    [Fact]
    public void PrunedEqualsBruteForce_DenseTermsReadAsBitmaps()
    {
        // 400 terms, 40 per document: the frequent terms hold up to ~60 % of the documents and are
        // read as bitmaps, the rarer ones through their ordinals; two segments, the first spanning
        // two 16,384-document ranges, with deletions.
        var gen = new SyntheticSparseData(23, dimension: 400, rankOffset: 5);
        var docs = gen.Documents(30000, nonZeros: 40);
        var df = new int[gen.Dimension];
        foreach (var d in docs.Take(20000)) foreach (int t in d.Vector.Indices) df[t]++;
        Assert.Contains(df, f => f * Splade.Search.Storage.TermBitmaps.DensityDivisor >= 20000);
        Assert.Contains(df, f => f > 0 && f * Splade.Search.Storage.TermBitmaps.DensityDivisor < 20000);
        using var dir = new TempDirectory();
        using var index = InvertedIndex.Create(dir.Path, gen.Dimension, new InvertedIndexOptions { MaxSegments = 0, BlockSize = 64 });
        index.Upsert(docs.Take(20000).ToList());
        index.Commit();
        index.Upsert(docs.Skip(20000).ToList());
        index.Commit();
        var live = docs.ToDictionary(d => d.Id);
        var rng = new Random(8);
        for (int i = 0; i < 400; i++)
        {
            string id = docs[rng.Next(docs.Count)].Id;
            Assert.Equal(live.Remove(id), index.Delete(id));
        }
        index.Commit();
        var queries = gen.Fork(24).Queries(10, 30);
        queries.Add(docs[^1].Vector);
        CheckAll(index, live.Values.ToList(), queries, "dense terms as bitmaps");
    }

    [Fact]
    public void PrunedEqualsBruteForce_ManySegmentsDeletesAndAbsentTerms()
    {
        var gen = new SyntheticSparseData(11);
        var docs = gen.Documents(6000, nonZeros: 60);
        using var dir = new TempDirectory();
        using var index = InvertedIndex.Create(dir.Path, gen.Dimension, new InvertedIndexOptions { MaxSegments = 0, BlockSize = 64 });
        for (int part = 0; part < 4; part++)
        {
            index.Upsert(docs.Skip(part * 1500).Take(1500).ToList());
            index.Commit();
        }
        var live = docs.ToDictionary(d => d.Id);
        var rng = new Random(5);
        for (int i = 0; i < 500; i++)
        {
            string id = docs[rng.Next(docs.Count)].Id;
            Assert.Equal(live.Remove(id), index.Delete(id));
        }
        var replacements = gen.Fork(77).Documents(300, nonZeros: 60).Select((d, i) => d with { Id = docs[i * 17].Id }).ToList();
        index.Upsert(replacements);
        foreach (var r in replacements) live[r.Id] = r;
        index.Commit();
        Assert.Equal(5, index.SegmentCount);
        Assert.Equal(live.Count, index.Count);

        // Queries that mix indexed terms with terms no document holds.
        var present = new HashSet<int>(docs.SelectMany(d => d.Vector.Indices.ToArray()));
        var absent = Enumerable.Range(0, gen.Dimension).Where(t => !present.Contains(t)).ToArray();
        Assert.NotEmpty(absent);
        var queries = gen.Fork(78).Queries(30).Select(q =>
        {
            var pairs = new Dictionary<int, float>();
            for (int i = 0; i < q.Count; i++) pairs[q.Indices[i]] = q.Values[i];
            pairs[absent[rng.Next(absent.Length)]] = 1.5f;
            return SparseVector.FromPairs(gen.Dimension, pairs);
        }).ToList();
        queries.Add(SparseVector.FromPairs(gen.Dimension, [new(absent[0], 2f)]));
        CheckAll(index, live.Values.ToList(), queries, "segments+deletes");
        index.Merge();
        Assert.Equal(1, index.SegmentCount);
        CheckAll(index, live.Values.ToList(), queries, "after merge");
    }

    [Fact]
    public void NegativeWeightsFallBackToExactExhaustive()
    {
        var gen = new SyntheticSparseData(3, dimension: 500);
        var docs = gen.Documents(800, nonZeros: 20);
        docs[5] = docs[5] with { Vector = SparseVector.FromPairs(500, [new(docs[5].Vector.Indices[0], -1f), new(docs[5].Vector.Indices[1], 2f)]) };
        using var dir = new TempDirectory();
        using var index = InvertedIndex.Create(dir.Path, 500, Blocks);
        index.Upsert(docs);
        index.Commit();
        var queries = gen.Fork(9).Queries(10, 10);
        queries.Add(SparseVector.FromPairs(500, [new(docs[5].Vector.Indices[0], -3f), new(docs[7].Vector.Indices[0], 1f)]));
        CheckAll(index, docs, queries, "negative", blockPath: false);
    }

    [Fact]
    public void BatchSearchOnSeveralThreadsEqualsSingle()
    {
        var gen = new SyntheticSparseData(21);
        var docs = gen.Documents(5000);
        var queries = gen.Fork(22).Queries(64);
        using var dir = new TempDirectory();
        using var index = Committed(dir, gen.Dimension, docs);
        var single = index.SearchBatch(queries, 10, threads: 1);
        var multi = index.SearchBatch(queries, 10, threads: 4);
        for (int q = 0; q < queries.Count; q++) SearchAssert.Identical(single[q], multi[q], $"query {q}");
    }

    private void CheckAll(InvertedIndex index, IReadOnlyList<IndexedDocument> docs, IReadOnlyList<SparseVector> queries, string context, bool blockPath = true)
    {
        int nonEmpty = 0;
        foreach (int k in new[] { 1, 10, 100 })
        {
            for (int q = 0; q < queries.Count; q++)
            {
                var expected = BruteForceSearch.Search(docs, queries[q], k);
                if (expected.Count > 0) nonEmpty++;
                SearchAssert.Identical(expected, index.Search(queries[q], k, SearchAlgorithm.Exhaustive), $"{context}, exhaustive, k={k}, query {q}");
                SearchAssert.Identical(expected, index.Search(queries[q], k, SearchAlgorithm.MaxScore), $"{context}, maxscore, k={k}, query {q}");
                SearchAssert.Identical(expected, index.Search(queries[q], k, SearchAlgorithm.BlockMax), $"{context}, blockmax, k={k}, query {q}");
                if (blockPath) SearchAssert.Identical(expected, index.SearchBlocksOnly(queries[q], k)!, $"{context}, block path only, k={k}, query {q}");
                SearchAssert.Identical(expected, index.Search(queries[q], k, new SearchOptions { Algorithm = SearchAlgorithm.Approximate, Alpha = 1f }),
                    $"{context}, approximate alpha 1, k={k}, query {q}");
            }
        }
        Assert.True(nonEmpty > 0, "no query matched anything: the comparison would be vacuous");
        output.WriteLine($"{context}: {queries.Count} queries x k in (1, 10, 100) identical, {nonEmpty} non-empty result lists");
    }
}
