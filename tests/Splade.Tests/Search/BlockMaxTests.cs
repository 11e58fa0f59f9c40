using System.Buffers.Binary;
using Splade.Search;
using Splade.Search.Storage;
using Splade.Sparse;
using Xunit.Abstractions;

namespace Splade.Tests.Search;

/// <summary>Block-max structures and search: bounds hold every weight, the block path equals brute force, old and unknown formats.</summary>
public sealed class BlockMaxTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(1, 1, 1)]
    [InlineData(2, 7, 7)]
    [InlineData(3, 769, 31)]
    [InlineData(4, 2000, 64)]
    [InlineData(5, 1500, 256)]
    public void BlockStructures_BoundEveryWeight_AndHoldEveryPostingOnce(int seed, int docCount, int blockSize)
    {
        var gen = new SyntheticSparseData(seed, dimension: 3000);
        var docs = gen.Documents(docCount, nonZeros: 40);
        var data = SegmentData.FromDocuments(gen.Dimension, docs);
        var termMax = new float[gen.Dimension];
        for (int t = 0; t < gen.Dimension; t++)
            for (long p = data.TermOffsets[t]; p < data.TermOffsets[t + 1]; p++) termMax[t] = Math.Max(termMax[t], data.PostValues[p]);
        var blocks = BlockIndexData.Build(data, termMax, blockSize);
        Assert.Equal((docCount + blockSize - 1) / blockSize, blocks.BlockCount);

        // Every (term, doc, value) of every document appears once in its block's forward index.
        var forward = new HashSet<(int Term, int Doc, float Value)>();
        for (int b = 0; b < blocks.BlockCount; b++)
        {
            for (long pair = blocks.BlockPairOffsets[b]; pair < blocks.BlockPairOffsets[b + 1]; pair++)
            {
                if (pair > blocks.BlockPairOffsets[b]) Assert.True(blocks.PairTerms[pair - 1] < blocks.PairTerms[pair], "block terms not ascending");
                for (int p = blocks.PairPostStart[pair]; p < blocks.PairPostStart[pair + 1]; p++)
                    Assert.True(forward.Add((blocks.PairTerms[pair], b * blockSize + blocks.FwdDocs[p], blocks.FwdValues[p])));
            }
        }
        var expected = docs.SelectMany((d, ord) => Enumerable.Range(0, d.Vector.Count).Select(i => (d.Vector.Indices[i], ord, d.Vector.Values[i]))).ToHashSet();
        Assert.True(expected.SetEquals(forward), "forward index differs from the documents");

        // ub(t, b) · termMax / 255 ≥ every weight of t in b, and 0 exactly where t is absent from b.
        var present = new HashSet<(int, int)>();
        foreach (var (term, doc, value) in expected)
        {
            int b = doc / blockSize;
            present.Add((term, b));
            byte ub = Ub(blocks, term, b);
            Assert.True(ub * (double)termMax[term] / 255 >= value, $"term {term} block {b}: bound {ub} below {value}");
        }
        int nonZero = 0;
        for (int t = 0; t < gen.Dimension; t++)
            for (int b = 0; b < blocks.BlockCount; b++)
                if (Ub(blocks, t, b) != 0) { nonZero++; Assert.Contains((t, b), present); }
        Assert.Equal(present.Count, nonZero);
        output.WriteLine($"{docCount} docs, block {blockSize}: {blocks.PairTerms.Length} pairs, {blocks.DenseRows} dense rows");
    }

    private static byte Ub(BlockIndexData blocks, int term, int block)
    {
        int row = blocks.UbDenseRow[term];
        if (row >= 0) return blocks.UbDense[(long)row * blocks.BlockCount + block];
        for (long i = blocks.UbSparseOffsets[term]; i < blocks.UbSparseOffsets[term + 1]; i++)
            if (blocks.UbSparseBlocks[i] == block) return blocks.UbSparseValues[i];
        return 0;
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(7, 7)]
    [InlineData(31, 256)]
    public void BlockPathEqualsBruteForce_BlockSizes_SegmentsDeletesTies(int seed, int blockSize)
    {
        var gen = new SyntheticSparseData(seed, dimension: 2000);
        var docs = gen.Documents(3000, nonZeros: 30);
        for (int i = 0; i < 15; i++) docs.Add(new IndexedDocument($"tie{i}", docs[i * 100].Vector));
        using var dir = new TempDirectory();
        using var index = InvertedIndex.Create(dir.Path, gen.Dimension, new InvertedIndexOptions { MaxSegments = 0, BlockSize = blockSize });
        for (int part = 0; part < 3; part++)
        {
            index.Upsert(docs.Skip(part * 1005).Take(1005).ToList());
            index.Commit();
        }
        var live = docs.ToDictionary(d => d.Id);
        var rng = new Random(seed);
        for (int i = 0; i < 300; i++)
        {
            string id = docs[rng.Next(docs.Count)].Id;
            Assert.Equal(live.Remove(id), index.Delete(id));
        }
        var replacements = gen.Fork(seed + 5).Documents(200, nonZeros: 30).Select((d, i) => d with { Id = docs[i * 13].Id }).ToList();
        index.Upsert(replacements);
        foreach (var r in replacements) live[r.Id] = r;
        index.Commit();
        Assert.Equal(4, index.SegmentCount);

        var queries = gen.Fork(seed + 9).Queries(20, 12);
        queries.Add(SparseVector.Empty(gen.Dimension));
        queries.Add(docs[100].Vector);   // ties with "tie1"
        var liveDocs = live.Values.ToList();
        int nonEmpty = 0;
        foreach (int k in new[] { 1, 10, 100 })
        {
            for (int q = 0; q < queries.Count; q++)
            {
                var expected = BruteForceSearch.Search(liveDocs, queries[q], k);
                if (expected.Count > 0) nonEmpty++;
                SearchAssert.Identical(expected, index.SearchBlocksOnly(queries[q], k)!, $"block path, block {blockSize}, k={k}, query {q}");
                SearchAssert.Identical(expected, index.Search(queries[q], k, SearchAlgorithm.BlockMax), $"blockmax, block {blockSize}, k={k}, query {q}");
            }
        }
        Assert.True(nonEmpty > 0);
        index.Merge();
        foreach (var q in queries) SearchAssert.Identical(BruteForceSearch.Search(liveDocs, q, 10), index.SearchBlocksOnly(q, 10)!, "after merge");
    }

    [Theory]
    [InlineData(64)]
    [InlineData(0)]
    public void Approximate_ReturnsExactScoresOfRealDocuments_AndAlphaOneIsExact(int blockSize)
    {
        var gen = new SyntheticSparseData(8);
        var docs = gen.Documents(20000, nonZeros: 60);
        var byId = docs.ToDictionary(d => d.Id);
        using var dir = new TempDirectory();
        using var index = InvertedIndex.Create(dir.Path, gen.Dimension, new InvertedIndexOptions { BlockSize = blockSize });
        index.Upsert(docs);
        index.Commit();
        double recall = 0;
        var queries = gen.Fork(9).Queries(30);
        foreach (var q in queries)
        {
            var exact = BruteForceSearch.Search(docs, q, 10);
            SearchAssert.Identical(exact, index.Search(q, 10, new SearchOptions { Algorithm = SearchAlgorithm.Approximate, Alpha = 1f }), "alpha 1");
            foreach (var alpha in new[] { 0.8f, 0.5f })
            {
                var hits = index.Search(q, 10, new SearchOptions { Algorithm = SearchAlgorithm.Approximate, Alpha = alpha });
                Assert.Equal(exact.Count, hits.Count);
                for (int i = 0; i < hits.Count; i++)
                {
                    Assert.Equal(q.Dot(byId[hits[i].Id].Vector), hits[i].Score);
                    if (i > 0) Assert.True(BruteForceSearch.CompareHits(hits[i - 1], hits[i]) < 0, "hits out of order");
                }
                if (alpha == 0.8f) recall += exact.Count(e => hits.Any(h => h.Id == e.Id)) / (double)exact.Count;
            }
        }
        output.WriteLine($"block size {blockSize}, approximate alpha 0.8: recall@10 {recall / queries.Count:F3}");
        Assert.True(recall / queries.Count >= 0.9, $"recall@10 {recall / queries.Count:F3} at alpha 0.8");
        Assert.Throws<ArgumentOutOfRangeException>(() => index.Search(queries[0], 10, new SearchOptions { Algorithm = SearchAlgorithm.Approximate, Alpha = 0f }));
        Assert.Throws<ArgumentOutOfRangeException>(() => index.Search(queries[0], 10, new SearchOptions { Algorithm = SearchAlgorithm.Approximate, Alpha = 1.5f }));
    }

    [Fact]
    public void VersionOneSegment_StillOpensAndSearchesExactly_UnknownVersionFailsClearly()
    {
        var gen = new SyntheticSparseData(12, dimension: 1000);
        var docs = gen.Documents(500, nonZeros: 20);
        var queries = gen.Fork(13).Queries(10, 8);
        using var dir = new TempDirectory();
        using (var index = InvertedIndex.Create(dir.Path, gen.Dimension, new InvertedIndexOptions { BlockSize = 64 }))
        {
            index.Upsert(docs);
            index.Commit();
        }
        SetSegmentVersion(dir.Path, 1);
        using (var index = InvertedIndex.Open(dir.Path, new InvertedIndexOptions { ReadOnly = true }))
        {
            Assert.Null(index.SearchBlocksOnly(queries[0], 10));   // no block structures read from a version-1 file
            foreach (var options in new[] { SearchOptions.For(SearchAlgorithm.BlockMax), SearchOptions.For(SearchAlgorithm.MaxScore), new SearchOptions { Algorithm = SearchAlgorithm.Approximate, Alpha = 1f } })
                foreach (var q in queries) SearchAssert.Identical(BruteForceSearch.Search(docs, q, 10), index.Search(q, 10, options), $"version 1, {options.Algorithm}");
        }
        SetSegmentVersion(dir.Path, 99);
        var e = Assert.Throws<InvalidDataException>(() => InvertedIndex.Open(dir.Path, new InvertedIndexOptions { ReadOnly = true }));
        Assert.Contains("format version 99", e.Message);
        Assert.Contains(".seg", e.Message);
    }

    [Fact]
    public void BlockSizeZero_WritesNoBlockStructures_SearchStaysExact()
    {
        var gen = new SyntheticSparseData(14, dimension: 1000);
        var docs = gen.Documents(700, nonZeros: 20);
        using var withBlocks = new TempDirectory();
        using var without = new TempDirectory();
        using var a = InvertedIndex.Create(withBlocks.Path, gen.Dimension, new InvertedIndexOptions { BlockSize = 64 });
        using var b = InvertedIndex.Create(without.Path, gen.Dimension);   // default: no block structures
        foreach (var index in new[] { a, b }) { index.Upsert(docs); index.Commit(); }
        Assert.True(b.SegmentBytes < a.SegmentBytes, $"{b.SegmentBytes} bytes without blocks, {a.SegmentBytes} with");
        foreach (var q in gen.Fork(15).Queries(10, 8))
        {
            Assert.Null(b.SearchBlocksOnly(q, 10));
            SearchAssert.Identical(BruteForceSearch.Search(docs, q, 10), b.Search(q, 10, SearchAlgorithm.BlockMax), "block size 0");
            SearchAssert.Identical(BruteForceSearch.Search(docs, q, 10), a.SearchBlocksOnly(q, 10)!, "block size 64");
        }
    }

    /// <summary>Rewrites the version field of the only segment, with a valid CRC and manifest (an older or newer writer).</summary>
    private static void SetSegmentVersion(string directory, int version)
    {
        var manifest = Manifest.Read(directory);
        var entry = manifest.Segments.Single();
        string path = Path.Combine(directory, entry.File);
        byte[] bytes = File.ReadAllBytes(path);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(SegmentFormat.OffVersion), version);
        uint crc = Crc32C.Compute(bytes.AsSpan(0, bytes.Length - SegmentFormat.FooterBytes));
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(bytes.Length - SegmentFormat.FooterBytes), crc);
        File.WriteAllBytes(path, bytes);
        var patched = manifest with { Segments = [entry with { Crc = crc }] };
        File.WriteAllBytes(Path.Combine(directory, Manifest.FileName), patched.Serialize());
    }
}
