using Splade.Search;
using Xunit.Abstractions;

namespace Splade.Tests.Search;

/// <summary>
/// A full disk during a commit or merge (ENOSPC injected through the write seam of the durable-I/O
/// layer at every few kilobytes of the commit): the commit fails with a typed error naming the file,
/// the last commit stays readable and complete, the partial files are removed, and the same commit
/// succeeds once there is space again.
/// </summary>
public sealed class DiskFullTests(ITestOutputHelper output)
{
    private const int Dimension = 2000;

    private static List<IndexedDocument> Docs(int seed, int count, string prefix) =>
        new SyntheticSparseData(seed, Dimension).Documents(count, 30, prefix).Select(d => d with { Text = $"text of {d.Id}" }).ToList();

    /// <summary>A disk with <see cref="Free"/> bytes left: writes beyond it fail with ENOSPC, as the kernel reports it.</summary>
    private sealed class Quota
    {
        public long Free = long.MaxValue;
        public int Failures;

        public void BeforeWrite(string path, int bytes)
        {
            if (bytes <= Free) { Free -= bytes; return; }
            Failures++;
            throw new IOException($"No space left on device : '{path}'", 28);
        }
    }

    [Fact]
    public void Full_disk_during_commit_keeps_the_last_commit_and_the_retry_completes()
    {
        var first = Docs(1, 300, "a");
        var second = Docs(2, 200, "b");
        int failedAt = 0;
        long total = BytesOfCommit(first, second);
        // Free space running out at every point of the commit: the deletion file, the segment, the manifest (the last bytes).
        foreach (long free in new long[] { 0, 100, total / 4, total / 2, total * 9 / 10, total - 200, total - 1, total })
        {
            using var dir = new TempDirectory();
            var quota = new Quota();
            using (var setup = InvertedIndex.Create(dir.Path, Dimension, new InvertedIndexOptions { MaxSegments = 0 }))
            {
                setup.Upsert(first);
                setup.Commit();
            }
            var filesBefore = Directory.GetFiles(dir.Path).Select(Path.GetFileName).Order().ToArray();
            using var index = InvertedIndex.Open(dir.Path, new InvertedIndexOptions { MaxSegments = 0, WriteHook = quota.BeforeWrite });
            index.Upsert(second);
            Assert.True(index.Delete("a5"));
            quota.Free = free;
            IndexWriteException? error = null;
            try { index.Commit(); }
            catch (IndexWriteException e) { error = e; }
            if (error is null)
            {
                output.WriteLine($"{free} bytes free: the commit fitted");
                continue;
            }
            failedAt++;
            output.WriteLine($"{free} bytes free: {error.Message}");
            Assert.True(error.DiskFull);
            Assert.StartsWith(dir.Path, error.FilePath);
            Assert.Contains(error.FilePath, error.Message);
            Assert.Equal(1, error.CommittedGeneration);
            Assert.Contains("still holds commit 1", error.Message);
            // Nothing committed lost and nothing half-written left behind.
            Assert.Equal(filesBefore, Directory.GetFiles(dir.Path).Select(Path.GetFileName).Order().ToArray());
            using (var reader = InvertedIndex.Open(dir.Path, new InvertedIndexOptions { ReadOnly = true }))
                PersistenceAssert.SameDocuments(first, reader);
            Assert.Equal(first.Count, index.Count);
            Assert.True(index.Contains("b0") && !index.Contains("a5"));   // still pending

            quota.Free = long.MaxValue;   // space again: the same commit goes through
            index.Commit();
            var expected = first.Where(d => d.Id != "a5").Concat(second).ToList();
            PersistenceAssert.SameDocuments(expected, index);
            using var reopened = InvertedIndex.Open(dir.Path, new InvertedIndexOptions { ReadOnly = true });
            PersistenceAssert.SameDocuments(expected, reopened);
        }
        Assert.Equal(7, failedAt);   // all but the last quota, which holds the commit exactly
    }

    private static long BytesOfCommit(List<IndexedDocument> first, List<IndexedDocument> second)
    {
        using var dir = new TempDirectory();
        using (var setup = InvertedIndex.Create(dir.Path, Dimension, new InvertedIndexOptions { MaxSegments = 0 }))
        {
            setup.Upsert(first);
            setup.Commit();
        }
        var quota = new Quota { Free = long.MaxValue / 2 };
        using var index = InvertedIndex.Open(dir.Path, new InvertedIndexOptions { MaxSegments = 0, WriteHook = quota.BeforeWrite });
        index.Upsert(second);
        index.Delete("a5");
        index.Commit();
        return long.MaxValue / 2 - quota.Free;
    }

    [Fact]
    public void Full_disk_during_merge_abandons_it_and_an_automatic_merge_does_not_fail_the_commit()
    {
        using var dir = new TempDirectory();
        var quota = new Quota();
        var all = new List<IndexedDocument>();
        using var index = InvertedIndex.Create(dir.Path, Dimension, new InvertedIndexOptions { MaxSegments = 3, WriteHook = quota.BeforeWrite });
        for (int i = 0; i < 3; i++)
        {
            var batch = Docs(10 + i, 100, $"m{i}_");
            all.AddRange(batch);
            index.Upsert(batch);
            index.Commit();
        }
        Assert.Equal(3, index.SegmentCount);
        var last = Docs(20, 100, "m3_");
        all.AddRange(last);
        index.Upsert(last);
        // Room for the new segment and manifest, not for the merged segment.
        quota.Free = 120_000;
        index.Commit();
        Assert.NotNull(index.MergeError);
        Assert.True(index.MergeError!.DiskFull);
        output.WriteLine(index.MergeError.Message);
        Assert.Equal(4, index.SegmentCount);   // committed, not merged
        PersistenceAssert.SameDocuments(all, index);
        Assert.Throws<IndexWriteException>(() => index.Merge());
        Assert.DoesNotContain(Directory.GetFiles(dir.Path), f => f.EndsWith(".tmp", StringComparison.Ordinal));
        quota.Free = long.MaxValue;
        index.Merge();
        Assert.Equal(1, index.SegmentCount);
        using var reopened = InvertedIndex.Open(dir.Path, new InvertedIndexOptions { ReadOnly = true });
        PersistenceAssert.SameDocuments(all, reopened);
    }
}

internal static class PersistenceAssert
{
    /// <summary>Exactly these documents (vectors and texts) are live.</summary>
    public static void SameDocuments(IEnumerable<IndexedDocument> expected, InvertedIndex index)
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
}
