using System.Diagnostics;
using System.Globalization;
using Splade.Search;

namespace Splade.Cli.Commands;

/// <summary>`splade bench-search`: build an index of synthetic SPLADE-like vectors and time exact top-k search.</summary>
internal sealed class BenchSearchCommand : ICommand
{
    public string Name => "bench-search";

    public string Summary => "Measure index build and exact top-k search on synthetic SPLADE-like vectors.";

    public string Usage => """
        Usage: splade bench-search [--docs N] [--queries Q] [--top-k K] [--doc-nnz 150] [--query-nnz 30]
                                   [--seed S] [--threads T] [--index DIR] [--commit-every N]
          Generates N documents and Q queries (terms ~ 1/(rank+40) over a random permutation of 30522 ids,
          weights uniform in (0, 2.5)), builds an index (in DIR or a temporary folder), checks that pruned
          and exhaustive results are identical, and prints build docs/s, bytes per posting, single-thread
          p50/p99 latency of MaxScore vs the exhaustive baseline, and multi-threaded QPS.
        """;

    public Task<int> RunAsync(CommandArgs args, CliContext context, CancellationToken cancellationToken)
    {
        int docs = args.GetInt("docs", 1) ?? 100_000;
        int queryCount = args.GetInt("queries", 1) ?? 200;
        int k = args.GetInt("top-k", 1) ?? 10;
        int docNnz = args.GetInt("doc-nnz", 1) ?? 150;
        int queryNnz = args.GetInt("query-nnz", 1) ?? 30;
        int seed = args.GetInt("seed") ?? 42;
        int threads = args.GetInt("threads", 1) ?? Environment.ProcessorCount;
        int commitEvery = args.GetInt("commit-every", 1) ?? docs;
        string? dir = args.Get("index");
        args.ThrowOnUnused();
        var w = context.Stdout;

        bool temporary = dir is null;
        dir ??= Path.Combine(Path.GetTempPath(), $"splade-bench-{Guid.NewGuid():N}");
        if (InvertedIndex.Exists(dir)) throw new CliException($"--index {dir} already holds an index; give an empty folder.");
        try
        {
            var gen = new SyntheticSparseData(seed);
            var queries = gen.Fork(seed + 1).Queries(queryCount, queryNnz);
            var sw = Stopwatch.StartNew();
            var genTime = TimeSpan.Zero;
            var buildTime = TimeSpan.Zero;
            using (var index = InvertedIndex.Create(dir, gen.Dimension, new InvertedIndexOptions { MaxSegments = 0 }))
            {
                for (int done = 0; done < docs; done += commitEvery)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    sw.Restart();
                    var batch = gen.Documents(Math.Min(commitEvery, docs - done), docNnz);
                    batch = batch.Select((d, i) => d with { Id = "d" + (done + i).ToString(CultureInfo.InvariantCulture) }).ToList();
                    genTime += sw.Elapsed;
                    sw.Restart();
                    index.Upsert(batch);
                    index.Commit();
                    buildTime += sw.Elapsed;
                    context.Stderr.WriteLine($"indexed {done + batch.Count}/{docs}");
                }
                if (index.SegmentCount > 1)
                {
                    sw.Restart();
                    index.Merge();
                    w.WriteLine($"merge to 1 segment: {sw.Elapsed.TotalSeconds:F2} s");
                }
            }
            w.WriteLine($"documents: {docs}, doc nnz {docNnz}, queries {queryCount} x nnz {queryNnz}, top-{k}, seed {seed}");
            w.WriteLine($"generation: {genTime.TotalSeconds:F2} s; build (upsert + commit, fsync): {buildTime.TotalSeconds:F2} s = {docs / buildTime.TotalSeconds:F0} docs/s");

            sw.Restart();
            using var reader = InvertedIndex.Open(dir, new InvertedIndexOptions { ReadOnly = true });
            w.WriteLine($"open with CRC verification: {sw.Elapsed.TotalMilliseconds:F0} ms");
            w.WriteLine($"postings: {reader.PostingCount}, segment bytes: {reader.SegmentBytes}, bytes/posting: {(double)reader.SegmentBytes / reader.PostingCount:F2}");

            // Warm-up and equality check.
            int mismatches = 0;
            foreach (var q in queries)
            {
                var a = reader.Search(q, k, SearchAlgorithm.MaxScore);
                var b = reader.Search(q, k, SearchAlgorithm.Exhaustive);
                if (a.Count != b.Count || a.Zip(b).Any(p => p.First.Id != p.Second.Id || p.First.Score != p.Second.Score)) mismatches++;
            }
            w.WriteLine($"pruned vs exhaustive: {mismatches} of {queries.Count} queries differ");

            var (ex50, ex99) = Latency(reader, queries, k, SearchAlgorithm.Exhaustive);
            var (ms50, ms99) = Latency(reader, queries, k, SearchAlgorithm.MaxScore);
            w.WriteLine($"single thread exhaustive: p50 {ex50:F3} ms, p99 {ex99:F3} ms");
            w.WriteLine($"single thread maxscore:   p50 {ms50:F3} ms, p99 {ms99:F3} ms  (p50 speed-up {ex50 / ms50:F2}x, p99 {ex99 / ms99:F2}x)");
            foreach (var algorithm in new[] { SearchAlgorithm.MaxScore, SearchAlgorithm.Exhaustive })
            {
                sw.Restart();
                int rounds = 0;
                while (sw.Elapsed.TotalSeconds < 2 || rounds == 0)
                {
                    reader.SearchBatch(queries, k, algorithm, threads, cancellationToken);
                    rounds++;
                }
                w.WriteLine($"{algorithm} QPS on {threads} threads: {rounds * queries.Count / sw.Elapsed.TotalSeconds:F0}");
            }
            return Task.FromResult(mismatches == 0 ? 0 : 1);
        }
        finally
        {
            if (temporary) try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
        }
    }

    private static (double P50, double P99) Latency(InvertedIndex index, List<Splade.Sparse.SparseVector> queries, int k, SearchAlgorithm algorithm)
    {
        var times = new List<double>();
        foreach (var q in queries)
        {
            long t0 = Stopwatch.GetTimestamp();
            index.Search(q, k, algorithm);
            times.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
        }
        times.Sort();
        return (times[(int)(0.5 * (times.Count - 1))], times[(int)Math.Ceiling(0.99 * (times.Count - 1))]);
    }
}
