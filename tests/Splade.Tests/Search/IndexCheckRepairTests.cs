using Splade.Search;
using Splade.Tests.Cli;
using Xunit.Abstractions;

namespace Splade.Tests.Search;

/// <summary>
/// Damage to every kind of index file (manifest, segment with and without block structures, deletion
/// file): flipped bytes and truncation are reported with the file and the failed check, by opening and
/// by <c>splade index --check</c>; <c>--repair</c> drops exactly the damaged segments, keeps the rest and
/// lists the lost ids.
/// </summary>
public sealed class IndexCheckRepairTests(ITestOutputHelper output)
{
    private const int Dimension = 2000;
    private static readonly string[] Checks = ["missing", "size", "header", "version", "crc", "structure"];

    private static List<IndexedDocument> Docs(int seed, int count, string prefix) =>
        new SyntheticSparseData(seed, Dimension).Documents(count, 30, prefix).Select(d => d with { Text = $"text of {d.Id}" }).ToList();

    /// <summary>Three segments (the second with block structures) and a deletion file on the first; returns the live documents by segment file.</summary>
    private static Dictionary<string, List<IndexedDocument>> Build(string dir)
    {
        var bySegment = new Dictionary<string, List<IndexedDocument>>();
        using (var index = InvertedIndex.Create(dir, Dimension, new InvertedIndexOptions { MaxSegments = 0 }))
        {
            index.Upsert(Docs(1, 120, "a"));
            index.Commit();
            bySegment["seg_00000001.seg"] = Docs(1, 120, "a").Where(d => d.Id != "a7").ToList();
            index.Delete("a7");
            index.Commit();
        }
        using (var index = InvertedIndex.Open(dir, new InvertedIndexOptions { MaxSegments = 0, BlockSize = 16 }))
        {
            index.Upsert(Docs(2, 90, "b"));
            index.Commit();
            bySegment["seg_00000002.seg"] = Docs(2, 90, "b");
        }
        using (var index = InvertedIndex.Open(dir, new InvertedIndexOptions { MaxSegments = 0 }))
        {
            index.Upsert(Docs(3, 60, "c"));
            index.Commit();
            bySegment["seg_00000003.seg"] = Docs(3, 60, "c");
        }
        return bySegment;
    }

    [Fact]
    public void Every_file_kind_flipped_or_truncated_names_the_file_and_the_check()
    {
        using var dir = new TempDirectory();
        var bySegment = Build(dir.Path);
        var all = bySegment.Values.SelectMany(d => d).ToList();
        var files = Directory.GetFiles(dir.Path).Where(f => !f.EndsWith("LOCK", StringComparison.Ordinal)).ToArray();
        Assert.Contains(files, f => f.EndsWith(".del", StringComparison.Ordinal));
        var query = all[5].Vector;
        var expectedHits = BruteForceSearch.Search(all, query, 10);
        int cases = 0;
        foreach (string file in files)
        {
            byte[] original = File.ReadAllBytes(file);
            var damages = new List<(string What, byte[] Bytes)>();
            foreach (int at in new[] { 0, 9, 20, original.Length / 3, original.Length / 2, original.Length - 5, original.Length - 1 })
            {
                var flipped = (byte[])original.Clone();
                flipped[at] ^= 0x5A;
                damages.Add(($"byte {at} flipped", flipped));
            }
            damages.Add(("truncated to half", original[..(original.Length / 2)]));
            damages.Add(("truncated by one byte", original[..^1]));
            damages.Add(("grown by one byte", [.. original, 0]));
            damages.Add(("emptied", []));
            foreach (var (what, bytes) in damages)
            {
                File.WriteAllBytes(file, bytes);
                string name = Path.GetFileName(file);
                var e = Assert.Throws<InvalidDataException>(() => InvertedIndex.Open(dir.Path, new InvertedIndexOptions { ReadOnly = true }).Dispose());
                Assert.Contains(name, e.Message);
                Assert.Equal(name, Path.GetFileName(IndexCorruption.FileOf(e)));
                Assert.Contains(IndexCorruption.CheckOf(e), Checks);
                var report = InvertedIndex.Check(dir.Path);
                Assert.False(report.Healthy, $"{name} {what}");
                var problem = Assert.Single(report.Problems);
                Assert.Equal(name, problem.File);
                Assert.Equal(IndexCorruption.CheckOf(e), problem.Check);
                if (what.StartsWith("trunc", StringComparison.Ordinal) || what.StartsWith("grown", StringComparison.Ordinal) || what == "emptied")
                    Assert.Contains(problem.Check, new[] { "size", "header" });
                if (cases++ % 9 == 0) output.WriteLine($"{name} {what}: {problem.Check}: {problem.Message}");
            }
            File.WriteAllBytes(file, original);
        }
        Assert.True(InvertedIndex.Check(dir.Path).Healthy);
        using var ok = InvertedIndex.Open(dir.Path, new InvertedIndexOptions { ReadOnly = true });
        SearchAssert.Identical(expectedHits, ok.Search(query, 10), "restored");
    }

    [Fact]
    public void Repair_drops_a_damaged_segment_keeps_the_rest_and_lists_the_lost_ids()
    {
        using var dir = new TempDirectory();
        var bySegment = Build(dir.Path);
        string damaged = Path.Combine(dir.Path, "seg_00000002.seg");
        byte[] bytes = File.ReadAllBytes(damaged);
        bytes[bytes.Length / 2] ^= 0x01;   // one bit in the postings
        File.WriteAllBytes(damaged, bytes);

        var report = InvertedIndex.Repair(dir.Path);
        var lost = Assert.Single(report.Dropped);
        Assert.Equal("seg_00000002.seg", lost.File);
        Assert.Equal(90, lost.LiveDocuments);
        Assert.Equal(bySegment["seg_00000002.seg"].Select(d => d.Id).Order(), lost.Ids!.Order());
        Assert.Equal("crc", Assert.Single(report.Problems).Check);
        Assert.False(File.Exists(damaged));
        Assert.True(File.Exists(Path.Combine(report.DamagedFolder!, "seg_00000002.seg")));
        var lostIds = File.ReadAllLines(Path.Combine(report.DamagedFolder!, "lost-ids.txt")).Where(l => !l.StartsWith('#')).ToList();
        Assert.Equal(lost.Ids!.Order(), lostIds.Order());

        var kept = bySegment["seg_00000001.seg"].Concat(bySegment["seg_00000003.seg"]).ToList();
        Assert.Equal(kept.Count, report.LiveDocumentsKept);
        Assert.True(InvertedIndex.Check(dir.Path).Healthy);
        using var index = InvertedIndex.Open(dir.Path);
        PersistenceAssert.SameDocuments(kept, index);
        var q = kept[3].Vector;
        SearchAssert.Identical(BruteForceSearch.Search(kept, q, 10), index.Search(q, 10), "after repair");
        // Re-indexing the lost ids restores the index.
        index.Upsert(bySegment["seg_00000002.seg"].Where(d => lostIds.Contains(d.Id)).ToList());
        index.Commit();
        PersistenceAssert.SameDocuments(bySegment.Values.SelectMany(d => d), index);
    }

    [Fact]
    public void Repair_drops_a_segment_whose_deletions_are_damaged_rather_than_resurrect_deleted_documents()
    {
        using var dir = new TempDirectory();
        var bySegment = Build(dir.Path);
        string del = Directory.GetFiles(dir.Path, "*.del").Single();
        File.WriteAllBytes(del, File.ReadAllBytes(del)[..20]);
        var report = InvertedIndex.Repair(dir.Path);
        var lost = Assert.Single(report.Dropped);
        Assert.Equal("seg_00000001.seg", lost.File);
        Assert.Equal(119, lost.LiveDocuments);
        Assert.Contains("a7", lost.Ids!);   // every id of the segment, the deleted one included, to re-index from the source
        using var index = InvertedIndex.Open(dir.Path);
        PersistenceAssert.SameDocuments(bySegment["seg_00000002.seg"].Concat(bySegment["seg_00000003.seg"]), index);
        Assert.False(index.Contains("a7"));
    }

    [Fact]
    public void Repair_rebuilds_an_unreadable_manifest_from_the_intact_segments()
    {
        using var dir = new TempDirectory();
        var bySegment = Build(dir.Path);
        // Replace a document so that an id lives in two segments (the old copy tombstoned).
        var replacement = Docs(9, 1, "x")[0] with { Id = "b3" };
        using (var index = InvertedIndex.Open(dir.Path, new InvertedIndexOptions { MaxSegments = 0 }))
        {
            index.Upsert([replacement]);
            index.Commit();
        }
        var expected = bySegment.Values.SelectMany(d => d).Where(d => d.Id != "b3").Append(replacement).ToList();
        File.WriteAllText(Path.Combine(dir.Path, "MANIFEST"), "garbage");
        Assert.False(InvertedIndex.Check(dir.Path).Healthy);
        var report = InvertedIndex.Repair(dir.Path);
        Assert.True(report.ManifestRebuilt);
        Assert.Empty(report.Dropped);
        Assert.Equal("header", report.Problems[0].Check);
        using var reopened = InvertedIndex.Open(dir.Path);
        PersistenceAssert.SameDocuments(expected, reopened);
        Assert.True(InvertedIndex.Check(dir.Path).Healthy);
    }

    [Fact]
    public void Repair_is_refused_while_a_writer_holds_the_index()
    {
        using var dir = new TempDirectory();
        Build(dir.Path);
        using var writer = InvertedIndex.Open(dir.Path);
        var e = Assert.Throws<IOException>(() => InvertedIndex.Repair(dir.Path));
        Assert.Contains("open for writing by another process", e.Message);
    }

    [Fact]
    public async Task Cli_check_exits_non_zero_on_damage_and_repair_says_what_was_lost()
    {
        using var dir = new TempDirectory();
        Build(dir.Path);
        var (code, stdout, _) = await CliRunner.RunAsync("index", "--check", dir.Path);
        Assert.True(code == 0, stdout);
        Assert.Contains("ok:", stdout);
        Assert.Contains("269 live documents", stdout);

        string seg = Path.Combine(dir.Path, "seg_00000003.seg");
        File.WriteAllBytes(seg, File.ReadAllBytes(seg)[..1000]);
        (code, stdout, _) = await CliRunner.RunAsync("index", "--check", dir.Path);
        output.WriteLine(stdout);
        Assert.Equal(1, code);
        Assert.Contains("DAMAGED seg_00000003.seg: size check failed", stdout);

        (code, stdout, _) = await CliRunner.RunAsync("index", "--repair", dir.Path);
        output.WriteLine(stdout);
        Assert.Equal(0, code);
        Assert.Contains("LOST seg_00000003.seg: 60 live documents", stdout);
        Assert.Contains("kept 2 segments with 209 live documents", stdout);
        Assert.Contains("lost-ids.txt", stdout);

        (code, stdout, _) = await CliRunner.RunAsync("index", "--check", dir.Path);
        Assert.Equal(0, code);
        (code, stdout, _) = await CliRunner.RunAsync("index", "--check", dir.Path, "--repair");
        Assert.Equal(0, code);
        Assert.Contains("nothing damaged", stdout);
    }
}
