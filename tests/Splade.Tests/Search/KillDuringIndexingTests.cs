using System.Diagnostics;
using System.Globalization;
using System.Text;
using Splade.Search;
using Xunit.Abstractions;

namespace Splade.Tests.Search;

/// <summary>
/// Runs `splade index --vectors` in a child process, kills it (SIGKILL) while it writes, and checks
/// that the index reopens with exactly a committed prefix of the input, then that a rerun resumes.
/// </summary>
public sealed class KillDuringIndexingTests(ITestOutputHelper output)
{
    private const int Docs = 12000, CommitEvery = 400, Dimension = 2000;

    [Fact]
    public void KilledIndexerLeavesCommittedPrefixAndResumes()
    {
        string cli = Path.Combine(AppContext.BaseDirectory, "Splade.Cli.dll");
        if (!File.Exists(cli)) { output.WriteLine($"skipped: {cli} not built beside the tests"); return; }
        using var dir = new TempDirectory();
        var docs = new SyntheticSparseData(3, Dimension).Documents(Docs, 30);
        string vectors = dir.Sub("vectors.jsonl");
        using (var w = new StreamWriter(vectors, false, new UTF8Encoding(false)))
            foreach (var d in docs)
                w.Write($"{{\"id\":\"{d.Id}\",\"indices\":[{string.Join(',', d.Vector.Indices.ToArray())}],\"values\":[{string.Join(',', d.Vector.Values.ToArray().Select(v => v.ToString("R", CultureInfo.InvariantCulture)))}]}}\n");
        string indexDir = dir.Sub("index");
        var byId = docs.ToDictionary(d => d.Id);

        for (int round = 0; round < 3; round++)
        {
            using var p = Start(cli, vectors, indexDir);
            int commits = 0;
            var sw = Stopwatch.StartNew();
            while (commits < 2 + round && sw.Elapsed < TimeSpan.FromSeconds(60))
            {
                string? line = p.StandardError.ReadLine();
                if (line is null) break;
                if (line.StartsWith("committed", StringComparison.Ordinal)) commits++;
            }
            Thread.Sleep(7 * round);   // land the kill at different points of the next commit
            try { p.Kill(entireProcessTree: true); } catch (InvalidOperationException) { /* already exited */ }
            p.WaitForExit();

            using var index = InvertedIndex.Open(indexDir);
            long count = index.Count;
            output.WriteLine($"round {round}: killed after {commits} commits seen; {count} documents committed");
            Assert.True(count % CommitEvery == 0 || count == Docs, $"{count} is not a committed batch boundary");
            var stored = index.ExportDocuments().ToList();
            Assert.Equal(count, stored.Count);
            // A prefix of the input, each vector intact.
            var expectedIds = docs.Take((int)count).Select(d => d.Id).ToHashSet();
            foreach (var s in stored)
            {
                Assert.Contains(s.Id, expectedIds);
                Assert.Equal(byId[s.Id].Vector, s.Vector);
            }
        }

        using (var p = Start(cli, vectors, indexDir))
        {
            string err = p.StandardError.ReadToEnd();
            p.WaitForExit();
            Assert.True(p.ExitCode == 0, err);
            Assert.Contains("already indexed", err);
        }
        using var done = InvertedIndex.Open(indexDir);
        Assert.Equal(Docs, done.Count);
        var q = docs[17].Vector;
        SearchAssert.Identical(BruteForceSearch.Search(docs, q, 10), done.Search(q, 10), "after resume");
    }

    private static Process Start(string cli, string vectors, string indexDir)
    {
        var psi = new ProcessStartInfo(Environment.ProcessPath is { } host && Path.GetFileNameWithoutExtension(host) == "dotnet" ? host : "dotnet")
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (string a in new[] { cli, "index", "--vectors", vectors, "--index", indexDir, "--dimension", Dimension.ToString(CultureInfo.InvariantCulture), "--commit-every", CommitEvery.ToString(CultureInfo.InvariantCulture) })
            psi.ArgumentList.Add(a);
        return Process.Start(psi)!;
    }
}
