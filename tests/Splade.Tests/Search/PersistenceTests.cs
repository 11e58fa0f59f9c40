using Splade.Search;
using Splade.Search.Storage;
using Splade.Sparse;
using Xunit.Abstractions;

namespace Splade.Tests.Search;

/// <summary>Round trips, deletes and replacements, merges, checksums and crash safety of the embedded index.</summary>
public sealed class PersistenceTests(ITestOutputHelper output)
{
    private static List<IndexedDocument> Docs(int seed, int count, int nnz = 40, string prefix = "d") =>
        new SyntheticSparseData(seed, dimension: 2000).Documents(count, nnz, prefix).Select((d, i) => d with { Text = $"text of {d.Id}" }).ToList();

    private static void AssertSameDocuments(IEnumerable<IndexedDocument> expected, InvertedIndex index)
    {
        var actual = index.ExportDocuments().ToDictionary(d => d.Id);
        var exp = expected.ToDictionary(d => d.Id);
        Assert.Equal(exp.Count, actual.Count);
        Assert.Equal(exp.Count, index.Count);
        foreach (var (id, d) in exp)
        {
            Assert.True(actual.TryGetValue(id, out var a), $"missing {id}");
            Assert.Equal(d.Vector, a!.Vector);
            Assert.Equal(d.Text, a.Text);
        }
    }

    [Fact]
    public void Crc32C_MatchesCheckValueAndReference()
    {
        Assert.Equal(0xE3069283u, Crc32C.Compute("123456789"u8));
        var data = new byte[1031];
        new Random(1).NextBytes(data);
        foreach (int n in new[] { 0, 1, 7, 8, 31, 769, 1031 })
            Assert.Equal(Crc32C.AppendReference(0, data.AsSpan(0, n)), Crc32C.Compute(data.AsSpan(0, n)));
        Assert.Equal(Crc32C.Compute(data), Crc32C.Append(Crc32C.Compute(data.AsSpan(0, 500)), data.AsSpan(500)));
    }

    [Fact]
    public void RoundTrip_ReopenSeesCommittedStateOnly()
    {
        using var dir = new TempDirectory();
        var docs = Docs(1, 500);
        using (var index = InvertedIndex.Create(dir.Path, 2000))
        {
            index.Upsert(docs);
            index.Commit();
            index.Upsert(Docs(2, 10, prefix: "uncommitted"));
            Assert.Equal(500, index.Count);   // pending changes are not visible before Commit
        }
        using (var index = InvertedIndex.Open(dir.Path))
        {
            Assert.Equal(1, index.Generation);
            AssertSameDocuments(docs, index);
            var q = docs[3].Vector;
            SearchAssert.Identical(BruteForceSearch.Search(docs, q, 10), index.Search(q, 10), "reopened");
            Assert.Equal("text of " + index.Search(q, 1)[0].Id, index.Search(q, 1)[0].Text);
        }
        using (var ro = InvertedIndex.Open(dir.Path, new InvertedIndexOptions { ReadOnly = true }))
        {
            Assert.Equal(500, ro.Count);
            Assert.Throws<InvalidOperationException>(() => ro.Delete("d1"));
        }
    }

    [Fact]
    public void DeletesReplacementsAndMerge()
    {
        using var dir = new TempDirectory();
        var live = Docs(3, 900).ToDictionary(d => d.Id);
        using (var index = InvertedIndex.Create(dir.Path, 2000, new InvertedIndexOptions { MaxSegments = 0 }))
        {
            var all = live.Values.ToList();
            for (int p = 0; p < 3; p++) { index.Upsert(all.Skip(p * 300).Take(300).ToList()); index.Commit(); }
            Assert.True(index.Delete("d5"));
            Assert.False(index.Delete("d5"));
            Assert.False(index.Delete("nope"));
            live.Remove("d5");
            var repl = Docs(4, 50).Select((d, i) => d with { Id = $"d{i * 7 + 100}", Text = "replaced" }).ToList();
            index.Upsert(repl);
            foreach (var r in repl) live[r.Id] = r;
            // Delete every document of the first segment: it disappears from the manifest.
            for (int i = 0; i < 300; i++) { index.Delete($"d{i}"); live.Remove($"d{i}"); }
            index.Commit();
            AssertSameDocuments(live.Values, index);
            // Document frequencies count live documents only (tombstoned postings stay in the files until merged).
            var df = new long[2000];
            foreach (var d in live.Values) foreach (int j in d.Vector.Indices) df[j]++;
            Assert.Equal(df, index.DocumentFrequencies());
            Assert.Equal(3, index.SegmentCount);
            index.Merge();
            Assert.Equal(1, index.SegmentCount);
            AssertSameDocuments(live.Values, index);
            Assert.Equal(df, index.DocumentFrequencies());
        }
        using (var index = InvertedIndex.Open(dir.Path))
        {
            AssertSameDocuments(live.Values, index);
            Assert.Equal(new[] { "MANIFEST", "LOCK" }.Order(), Directory.GetFiles(dir.Path).Select(Path.GetFileName).Where(n => !n!.StartsWith("seg_")).Order());
            Assert.Single(Directory.GetFiles(dir.Path, "seg_*"));
        }
    }

    [Fact]
    public async Task AutomaticAndBackgroundMergeKeepDocuments()
    {
        using var dir = new TempDirectory();
        var docs = Docs(5, 600);
        using var index = InvertedIndex.Create(dir.Path, 2000, new InvertedIndexOptions { MaxSegments = 4, BackgroundMerge = true });
        for (int p = 0; p < 12; p++) { index.Upsert(docs.Skip(p * 50).Take(50).ToList()); index.Commit(); }
        if (index.BackgroundMergeTask is { } merging) await merging;
        Assert.True(index.SegmentCount <= 4, $"{index.SegmentCount} segments");
        index.Delete("d1");
        await index.MergeInBackground();
        Assert.Equal(1, index.SegmentCount);
        index.Commit();   // the pending delete was carried over to the merged segment
        AssertSameDocuments(docs.Where(d => d.Id != "d1"), index);
    }

    [Fact]
    public void CorruptFilesAreDetectedAndNamed()
    {
        using var dir = new TempDirectory();
        using (var index = InvertedIndex.Create(dir.Path, 2000))
        {
            index.Upsert(Docs(6, 200));
            index.Commit();
            index.Delete("d3");
            index.Commit();
        }
        foreach (string file in Directory.GetFiles(dir.Path).Where(f => !f.EndsWith("LOCK")))
        {
            byte[] original = File.ReadAllBytes(file);
            foreach (int at in new[] { 0, original.Length / 2, original.Length - 1 })
            {
                var corrupt = (byte[])original.Clone();
                corrupt[at] ^= 0x5A;
                File.WriteAllBytes(file, corrupt);
                var e = Assert.Throws<InvalidDataException>(() => InvertedIndex.Open(dir.Path).Dispose());
                Assert.Contains(Path.GetFileName(file), e.Message);
            }
            File.WriteAllBytes(file, original[..(original.Length / 2)]);   // torn: truncated
            var t = Assert.Throws<InvalidDataException>(() => InvertedIndex.Open(dir.Path).Dispose());
            Assert.Contains(Path.GetFileName(file), t.Message);
            output.WriteLine($"{Path.GetFileName(file)}: {t.Message}");
            File.WriteAllBytes(file, original);
        }
        using var ok = InvertedIndex.Open(dir.Path);
        Assert.Equal(199, ok.Count);
    }

    /// <summary>
    /// A crash before every single write chunk, fsync, rename and delete of a commit and of a merge
    /// (simulated by throwing there, leaving partial files behind) must leave either the previous
    /// or the new committed state, never a mix and never an unreadable index.
    /// </summary>
    [Fact]
    public void CrashAtEveryIoStepLeavesACommittedState()
    {
        var first = Docs(7, 300);
        var second = Docs(8, 200, prefix: "e");
        var before = first.Where(d => d.Id != "d7").ToList();
        var after = before.Concat(second).ToList();
        int steps = 0, sawOld = 0, sawNew = 0;
        for (int crashAt = 1; ; crashAt++)
        {
            using var dir = new TempDirectory();
            using (var index = InvertedIndex.Create(dir.Path, 2000, new InvertedIndexOptions { MaxSegments = 0 }))
            {
                index.Upsert(first);
                index.Commit();
                index.Delete("d7");
                index.Commit();
            }
            int count = 0;
            bool crashed = false;
            var options = new InvertedIndexOptions { MaxSegments = 0, IoHook = step => { if (++count == crashAt) { crashed = true; throw new IOException($"simulated crash at {step}"); } } };
            var crashing = InvertedIndex.Open(dir.Path, options);
            try
            {
                crashing.Upsert(second);
                crashing.Commit();
                crashing.Merge();
            }
            catch (IOException) when (crashed) { }
            crashing.Dispose();
            using var reopened = InvertedIndex.Open(dir.Path);
            var ids = reopened.ExportDocuments().Select(d => d.Id).ToHashSet();
            if (ids.SetEquals(before.Select(d => d.Id))) { AssertSameDocuments(before, reopened); sawOld++; }
            else { AssertSameDocuments(after, reopened); sawNew++; }
            // The reopened index is fully usable and cleaned of partial files.
            reopened.Upsert([new IndexedDocument("x", SparseVector.FromPairs(2000, [new(1, 1f)]))]);
            reopened.Commit();
            Assert.All(Directory.GetFiles(dir.Path), f => Assert.False(f.EndsWith(".tmp"), f));
            if (!crashed) { steps = crashAt - 1; break; }
        }
        output.WriteLine($"{steps} crash points: {sawOld} recovered the previous commit, {sawNew} the new one");
        Assert.True(steps > 10 && sawOld > 0 && sawNew > 0);
    }
}
