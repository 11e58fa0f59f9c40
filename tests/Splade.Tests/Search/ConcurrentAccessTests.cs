using System.Diagnostics;
using System.Globalization;
using System.Text;
using Splade.Search;
using Splade.Sparse;
using Xunit.Abstractions;

namespace Splade.Tests.Search;

/// <summary>
/// Several processes on one index folder: a second writer is refused with a clear message, readers
/// opening beside a writer process (commits and automatic merges) always see one whole commit, a
/// merge runs under searches, and hundreds of open/close cycles leak no file handle or mapping.
/// </summary>
public sealed class ConcurrentAccessTests(ITestOutputHelper output)
{
    private const int Dimension = 2000;
    private static readonly string Cli = Path.Combine(AppContext.BaseDirectory, "Splade.Cli.dll");

    private static string WriteVectors(string path, IReadOnlyList<IndexedDocument> docs)
    {
        using var w = new StreamWriter(path, false, new UTF8Encoding(false));
        foreach (var d in docs)
            w.Write($"{{\"id\":\"{d.Id}\",\"indices\":[{string.Join(',', d.Vector.Indices.ToArray())}],\"values\":[{string.Join(',', d.Vector.Values.ToArray().Select(v => v.ToString("R", CultureInfo.InvariantCulture)))}]}}\n");
        return path;
    }

    private static Process StartIndexer(string vectors, string indexDir, int commitEvery)
    {
        var psi = new ProcessStartInfo(Environment.ProcessPath is { } host && Path.GetFileNameWithoutExtension(host) == "dotnet" ? host : "dotnet")
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (string a in new[] { Cli, "index", "--vectors", vectors, "--index", indexDir, "--dimension", Dimension.ToString(CultureInfo.InvariantCulture), "--commit-every", commitEvery.ToString(CultureInfo.InvariantCulture), "--no-text" })
            psi.ArgumentList.Add(a);
        return Process.Start(psi)!;
    }

    [Fact]
    public void A_second_writer_process_is_refused_with_a_clear_message()
    {
        if (!File.Exists(Cli)) { output.WriteLine($"SKIPPED: {Cli} not built beside the tests"); return; }
        using var dir = new TempDirectory();
        var docs = new SyntheticSparseData(1, Dimension).Documents(50, 20);
        string vectors = WriteVectors(dir.Sub("v.jsonl"), docs);
        string indexDir = dir.Sub("index");
        using (var writer = InvertedIndex.Create(indexDir, Dimension))
        {
            Assert.Throws<IOException>(() => InvertedIndex.Open(indexDir).Dispose());   // in this process too
            using var p = StartIndexer(vectors, indexDir, 10);
            string err = p.StandardError.ReadToEnd();
            p.WaitForExit();
            output.WriteLine(err);
            Assert.NotEqual(0, p.ExitCode);
            Assert.Contains($"Index '{indexDir}' is open for writing by another process", err);
            Assert.Equal(0, writer.Count);
        }
        using (var p = StartIndexer(vectors, indexDir, 10))
        {
            string err = p.StandardError.ReadToEnd();
            p.WaitForExit();
            Assert.True(p.ExitCode == 0, err);
        }
        using var done = InvertedIndex.Open(indexDir, new InvertedIndexOptions { ReadOnly = true });
        Assert.Equal(50, done.Count);
    }

    [Fact]
    public async Task Readers_beside_a_writer_process_see_whole_commits()
    {
        if (!File.Exists(Cli)) { output.WriteLine($"SKIPPED: {Cli} not built beside the tests"); return; }
        const int Count = 3000, CommitEvery = 60;   // 50 commits: automatic merges at 16 segments
        using var dir = new TempDirectory();
        var docs = new SyntheticSparseData(2, Dimension).Documents(Count, 20);
        string vectors = WriteVectors(dir.Sub("v.jsonl"), docs);
        string indexDir = dir.Sub("index");
        using (var create = InvertedIndex.Create(indexDir, Dimension)) { }
        var query = docs[1].Vector;
        using var p = StartIndexer(vectors, indexDir, CommitEvery);
        int opens = 0, searched = 0;
        var seenCounts = new HashSet<long>();
        var failures = new List<string>();
        void Read(int seed)
        {
            while (!p.HasExited)
            {
                using var reader = InvertedIndex.Open(indexDir, new InvertedIndexOptions { ReadOnly = true });
                long n = reader.Count;
                lock (seenCounts) { seenCounts.Add(n); opens++; }
                if (n % CommitEvery != 0 && n != Count) lock (failures) failures.Add($"count {n} is not a commit boundary");
                // One whole commit: exactly the first n documents, and search agrees with brute force over them.
                if ((opens + seed) % 4 == 0)
                {
                    var prefix = docs.Take((int)n).ToList();
                    var ids = reader.ExportDocuments().Select(d => d.Id).ToHashSet();
                    if (!ids.SetEquals(prefix.Select(d => d.Id))) lock (failures) failures.Add($"generation {reader.Generation}: ids are not the first {n}");
                    var expected = BruteForceSearch.Search(prefix, query, 5);
                    var actual = reader.Search(query, 5);
                    if (!expected.Select(h => h.Id).SequenceEqual(actual.Select(h => h.Id))) lock (failures) failures.Add($"generation {reader.Generation}: search differs");
                    Interlocked.Increment(ref searched);
                }
            }
        }
        var readers = new[] { Task.Run(() => Read(0)), Task.Run(() => Read(1)) };
        await Task.WhenAll(readers);
        await p.WaitForExitAsync();
        Assert.True(p.ExitCode == 0, p.StandardError.ReadToEnd());
        output.WriteLine($"{opens} opens, {searched} checked against brute force, {seenCounts.Count} distinct commits seen");
        Assert.Empty(failures);
        Assert.True(seenCounts.Count >= 3, $"only {seenCounts.Count} commits seen");
        using var done = InvertedIndex.Open(indexDir, new InvertedIndexOptions { ReadOnly = true });
        Assert.Equal(Count, done.Count);
        Assert.True(done.SegmentCount <= 16);
    }

    [Fact]
    public async Task Readers_see_one_whole_commit_while_a_writer_replaces_and_deletes_and_merges()
    {
        using var dir = new TempDirectory();
        var data = new SyntheticSparseData(3, Dimension);
        const int Batch = 20, Rounds = 60;
        using var writer = InvertedIndex.Create(dir.Path, Dimension, new InvertedIndexOptions { MaxSegments = 4 });
        writer.Upsert(data.Documents(Batch, 20, "r0_"));
        writer.Commit();
        using var done = new CancellationTokenSource();
        var failures = new List<string>();
        int reads = 0;
        var query = data.Documents(1, 20, "q")[0].Vector;
        void Read()
        {
            while (!done.IsCancellationRequested)
            {
                using var reader = InvertedIndex.Open(dir.Path, new InvertedIndexOptions { ReadOnly = true });
                var ids = reader.ExportDocuments().Select(d => d.Id).ToList();
                var rounds = ids.Select(i => i[..i.IndexOf('_')]).Distinct().ToList();
                // Each commit deletes the previous round and adds the next: exactly one round is live.
                if (ids.Count != Batch || rounds.Count != 1) lock (failures) failures.Add($"generation {reader.Generation}: {ids.Count} live of rounds {string.Join(",", rounds)}");
                var hits = reader.Search(query, 5);
                if (hits.Any(h => !h.Id.StartsWith(rounds[0] + "_", StringComparison.Ordinal))) lock (failures) failures.Add("search saw another commit");
                Interlocked.Increment(ref reads);
            }
        }
        var readers = new[] { Task.Run(Read), Task.Run(Read) };
        for (int r = 1; r <= Rounds; r++)
        {
            for (int i = 0; i < Batch; i++) writer.Delete($"r{r - 1}_{i}");
            writer.Upsert(data.Documents(Batch, 20, $"r{r}_"));
            writer.Commit();   // automatic merges above 4 segments
            // Searches on the writer's own instance during a background merge see the committed state.
            if (r % 10 == 0)
            {
                var merge = writer.MergeInBackground();
                var before = writer.Search(query, 5);
                Assert.All(before, h => Assert.StartsWith($"r{r}_", h.Id));
                await merge;
                SearchAssert.Identical(before, writer.Search(query, 5), "after the merge");
            }
        }
        done.Cancel();
        await Task.WhenAll(readers);
        output.WriteLine($"{reads} reader opens during {Rounds} commits");
        Assert.Empty(failures);
        Assert.True(reads > 0);
    }

    [Fact]
    public void Hundreds_of_open_close_cycles_leak_no_handles_or_mappings()
    {
        if (!OperatingSystem.IsLinux()) { output.WriteLine("SKIPPED: counts /proc/self/fd and /proc/self/maps"); return; }
        using var dir = new TempDirectory();
        var docs = new SyntheticSparseData(4, Dimension).Documents(300, 20);
        using (var index = InvertedIndex.Create(dir.Path, Dimension, new InvertedIndexOptions { MaxSegments = 0 }))
            for (int i = 0; i < 3; i++)
            {
                index.Upsert(docs.Skip(100 * i).Take(100).ToList());
                index.Commit();
            }
        // Only descriptors on this index's files: other tests running in parallel open and close their own.
        int Fds() => Directory.GetFiles("/proc/self/fd").Count(fd =>
        {
            try { return new FileInfo(fd).LinkTarget is string target && target.StartsWith(dir.Path, StringComparison.Ordinal); }
            catch (IOException) { return false; } // closed between the listing and the read
            catch (UnauthorizedAccessException) { return false; }
        });
        int Maps() => File.ReadLines("/proc/self/maps").Count(l => l.Contains(dir.Path, StringComparison.Ordinal));
        var query = docs[0].Vector;
        // Warm up (JIT, thread pool), then measure.
        for (int i = 0; i < 5; i++) using (var r = InvertedIndex.Open(dir.Path, new InvertedIndexOptions { ReadOnly = true })) r.Search(query, 3);
        int fds = Fds();
        Assert.Equal(0, Maps());
        for (int i = 0; i < 300; i++)
        {
            bool write = i % 3 == 0;
            using var index = InvertedIndex.Open(dir.Path, new InvertedIndexOptions { ReadOnly = !write });
            Assert.Equal(docs[0].Id, index.Search(query, 3)[0].Id);
            if (i == 150) { Assert.True(Maps() >= 3); Assert.True(Fds() >= 1); } // the segments are mapped (and the lock or files open) while open
        }
        int fdsAfter = Fds(), mapsAfter = Maps();
        output.WriteLine($"file descriptors {fds} -> {fdsAfter}; mappings of index files after 300 cycles: {mapsAfter}");
        Assert.Equal(0, mapsAfter);
        Assert.True(fdsAfter <= fds, $"{fdsAfter - fds} file descriptors on index files leaked");
    }
}
