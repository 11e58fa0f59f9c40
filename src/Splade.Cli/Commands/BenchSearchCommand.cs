using System.Diagnostics;
using System.Globalization;
using Splade.Search;
using Splade.Sparse;

namespace Splade.Cli.Commands;

/// <summary>`splade bench-search`: build indexes of synthetic SPLADE-like vectors and time every search algorithm side by side.</summary>
internal sealed class BenchSearchCommand : ICommand
{
    public string Name => "bench-search";

    public string Summary => "Measure index build and top-k search (exhaustive, MaxScore, block-max, approximate) on synthetic SPLADE-like or real vectors.";

    public string Usage => """
        Usage: splade bench-search [--docs N[,N...]] [--queries Q] [--top-k K] [--doc-nnz 150] [--query-nnz 30]
                                   [--seed S] [--threads T] [--alpha A[,A...]] [--block-size B] [--index DIR] [--commit-every N]
                                   [--qps-seconds S] [--seismic SPEC[;SPEC...]]
          For each size N: generates N documents and Q queries (terms ~ 1/(rank+40) over a random permutation of
          30522 ids, weights uniform in (0, 2.5)), builds an index (in DIR/N or a temporary folder), checks that every
          exact algorithm returns the exhaustive result (an index already in DIR/N is reused, its build not timed) (ids and scores), and prints build docs/s, bytes per posting,
          single-thread p50/p99 latency, the p50 ratio to the exhaustive baseline, QPS on T threads (default 2)
          and, for the approximate mode at each alpha (default 0.9,0.8,0.7), recall@K against the exact top-K.
          --block-size B: documents per block of the block-max structures (default 64; 0 writes none).
          --qps-seconds S: how long each QPS measurement repeats the queries (default 1.5; 0 = one pass).
          --seismic: Seismic parameter sets, each a comma-separated list of lambda=, block=, mass=, terms=, order=impact|docs,
          cut=, heap= (defaults 4000, 16, 0.5, 48, impact, 10, 1), e.g. "lambda=2000,cut=8;lambda=4000,heap=0.9"; their
          in-memory structures are built before the timing (build time and bytes per posting printed).
          Ends with a markdown table of all sizes.
        Real vectors instead of synthetic ones:
          --vectors F        documents: JSON lines {"id", "indices", "values"} as `splade encode` writes them
                             (ids: the "id" field, else the line number); --docs N[,N...] then takes the first N
                             (default: all of them)
          --query-vectors F  queries in the same format (required with --vectors); --queries Q takes the first Q
                             (default: all of them)
          --dimension D      vector dimension (default 30522)
          --query-mass M[,M...]  also the approximate mode with the query cut to its heaviest terms holding M of
                             its weight (candidates rescored with the whole query), one row per M
          --query-mass-alpha A   the alpha of those rows (default 1: exact bounds on the cut query)
          --reorder R        none (default: the file's order) or top-terms: documents sorted by their largest-weight
                             term, then their second (stable), before indexing, so that block-max blocks hold
                             documents that share their strongest terms
        Every row also reports the postings a search touched (scattered from lists or blocks, plus one per
        probe of a candidate's remaining lists), mean per query; for Seismic, the documents it scored.
        """;

    private sealed record Row(int Docs, string Algorithm, double P50, double P99, double Ratio, double Qps, string Quality, double BlocksScored, double Postings);

    public Task<int> RunAsync(CommandArgs args, CliContext context, CancellationToken cancellationToken)
    {
        var sizes = ParseList(args.Get("docs") ?? "100000", "docs", s => int.Parse(s, CultureInfo.InvariantCulture));
        int queryCount = args.GetInt("queries", 1) ?? 200;
        int k = args.GetInt("top-k", 1) ?? 10;
        int docNnz = args.GetInt("doc-nnz", 1) ?? 150;
        int queryNnz = args.GetInt("query-nnz", 1) ?? 30;
        int seed = args.GetInt("seed") ?? 42;
        int threads = args.GetInt("threads", 1) ?? 2;
        int blockSize = args.GetInt("block-size", 0) ?? 64;
        var alphas = ParseList(args.Get("alpha") ?? "0.9,0.8,0.7", "alpha", s => float.Parse(s, CultureInfo.InvariantCulture));
        int? commitEvery = args.GetInt("commit-every", 1);
        double qpsSeconds = args.GetInt("qps-seconds", 0) ?? 1.5;
        string? root = args.Get("index");
        var seismic = (args.Get("seismic") ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(ParseSeismic).ToList();
        string? vectorsPath = args.Get("vectors");
        string? queryVectorsPath = args.Get("query-vectors");
        int dimension = args.GetInt("dimension", 1) ?? 30522;
        bool sizesGiven = args.Has("docs"), queriesGiven = args.Has("queries");
        string reorder = args.Get("reorder") ?? "none";
        var masses = args.Has("query-mass") ? ParseList(args.Get("query-mass")!, "query-mass", s => float.Parse(s, CultureInfo.InvariantCulture)) : [];
        if (masses.Any(m => !(m > 0f && m <= 1f))) throw new CliException("--query-mass: every value must be in (0, 1].");
        float massAlpha = args.Has("query-mass-alpha") ? float.Parse(args.Get("query-mass-alpha")!, CultureInfo.InvariantCulture) : 1f;
        if (!(massAlpha > 0f && massAlpha <= 1f)) throw new CliException("--query-mass-alpha: must be in (0, 1].");
        if (reorder is not ("none" or "top-terms")) throw new CliException($"--reorder: expected none or top-terms, got '{reorder}'.");
        if (reorder != "none" && args.Get("vectors") is null) throw new CliException("--reorder applies to real vectors (--vectors).");
        args.ThrowOnUnused();
        List<IndexedDocument>? realDocs = null;
        List<SparseVector>? realQueries = null;
        if (vectorsPath is not null || queryVectorsPath is not null)
        {
            if (vectorsPath is null || queryVectorsPath is null) throw new CliException("--vectors and --query-vectors go together.");
            realDocs = ReadVectors(vectorsPath, dimension, context).Select(v => new IndexedDocument(v.Id, v.Vector)).ToList();
            realQueries = ReadVectors(queryVectorsPath, dimension, context).Select(v => v.Vector).ToList();
            if (realDocs.Count == 0) throw new CliException($"--vectors '{vectorsPath}' holds no vectors.");
            if (realQueries.Count == 0) throw new CliException($"--query-vectors '{queryVectorsPath}' holds no vectors.");
            var duplicate = realDocs.GroupBy(d => d.Id, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
            if (duplicate is not null) throw new CliException($"--vectors '{vectorsPath}': id '{duplicate.Key}' appears {duplicate.Count()} times.");
            if (!sizesGiven) sizes = [realDocs.Count];
            if (sizes.Any(n => n > realDocs.Count)) throw new CliException($"--docs: {sizes.Max()} exceeds the {realDocs.Count} vectors of '{vectorsPath}'.");
            if (queriesGiven && queryCount > realQueries.Count) throw new CliException($"--queries: {queryCount} exceeds the {realQueries.Count} vectors of '{queryVectorsPath}'.");
            if (!queriesGiven) queryCount = realQueries.Count;
            realQueries = realQueries.Take(queryCount).ToList();
            docNnz = (int)Math.Round(realDocs.Average(d => d.Vector.Count));
            queryNnz = (int)Math.Round(realQueries.Average(q => q.Count));
            context.Stderr.WriteLine($"vectors: {realDocs.Count} documents (mean {realDocs.Average(d => d.Vector.Count):F1} non-zeros) from {vectorsPath}, {realQueries.Count} queries (mean {realQueries.Average(q => q.Count):F1}) from {queryVectorsPath}");
        }
        if (sizes.Any(n => n < 1)) throw new CliException("--docs: every size must be positive.");
        if (alphas.Any(a => !(a > 0f && a <= 1f))) throw new CliException("--alpha: every value must be in (0, 1].");
        if (blockSize > 256) throw new CliException("--block-size: at most 256.");
        var w = context.Stdout;

        var rows = new List<Row>();
        var builds = new List<(int Docs, double DocsPerSecond, double BytesPerPosting, long Bytes)>();
        bool allExact = true;
        foreach (int docs in sizes)
        {
            string dir = root is null ? Path.Combine(Path.GetTempPath(), $"splade-bench-{Guid.NewGuid():N}") : Path.Combine(root, docs.ToString(CultureInfo.InvariantCulture));
            bool reuse = InvertedIndex.Exists(dir);
            try
            {
                var gen = new SyntheticSparseData(seed);
                var queries = realQueries ?? gen.Fork(seed + 1).Queries(queryCount, queryNnz);
                var ordered = realDocs is null ? null : reorder == "top-terms" ? ReorderByTopTerms(realDocs.Take(docs)) : realDocs;
                Func<int, int, List<IndexedDocument>> batches = ordered is not null
                    ? (start, count) => ordered.GetRange(start, count)
                    : (start, count) =>
                    {
                        var batch = gen.Documents(count, docNnz, idPrefix: "d");
                        for (int i = 0; i < batch.Count; i++) batch[i] = batch[i] with { Id = "d" + (start + i).ToString(CultureInfo.InvariantCulture) };
                        return batch;
                    };
                // An index left in DIR/N by an earlier run with the same settings is reused (build not re-measured).
                double docsPerSecond = reuse ? double.NaN
                    : Build(dir, realDocs is null ? gen.Dimension : dimension, batches, docs, commitEvery ?? docs, blockSize, context, cancellationToken).DocsPerSecond;
                using var reader = InvertedIndex.Open(dir, new InvertedIndexOptions { ReadOnly = true });
                double bytesPerPosting = (double)reader.SegmentBytes / reader.PostingCount;
                builds.Add((docs, docsPerSecond, bytesPerPosting, reader.SegmentBytes));
                w.WriteLine($"## {docs} documents: build {docsPerSecond:F0} docs/s, {reader.PostingCount} postings, {reader.SegmentBytes} bytes = {bytesPerPosting:F2} bytes/posting");

                var exact = queries.Select(q => reader.Search(q, k, SearchAlgorithm.Exhaustive)).ToList();
                var (ex50, ex99) = Latency(reader, queries, k, SearchOptions.For(SearchAlgorithm.Exhaustive), out _, out double exPostings);
                rows.Add(new Row(docs, "exhaustive", ex50, ex99, 1, Qps(reader, queries, k, SearchOptions.For(SearchAlgorithm.Exhaustive), threads, qpsSeconds), "exact", double.NaN, exPostings));
                foreach (var algorithm in new[] { SearchAlgorithm.MaxScore, SearchAlgorithm.BlockMax })
                {
                    var options = SearchOptions.For(algorithm);
                    int differ = queries.Select((q, i) => Same(reader.Search(q, k, options), exact[i]) ? 0 : 1).Sum();
                    allExact &= differ == 0;
                    var (p50, p99) = Latency(reader, queries, k, options, out double blocks, out double postings);
                    rows.Add(new Row(docs, algorithm == SearchAlgorithm.MaxScore ? "maxscore" : "blockmax", p50, p99, ex50 / p50,
                        Qps(reader, queries, k, options, threads, qpsSeconds), differ == 0 ? "exact (0 differ)" : $"{differ} DIFFER", algorithm == SearchAlgorithm.BlockMax ? blocks : double.NaN, postings));
                }
                foreach (float alpha in alphas)
                {
                    var options = new SearchOptions { Algorithm = SearchAlgorithm.Approximate, Alpha = alpha };
                    double recall = queries.Select((q, i) => Recall(reader.Search(q, k, options), exact[i])).Average();
                    var (p50, p99) = Latency(reader, queries, k, options, out _, out double postings);
                    rows.Add(new Row(docs, $"approximate α={alpha.ToString(CultureInfo.InvariantCulture)}", p50, p99, ex50 / p50,
                        Qps(reader, queries, k, options, threads, qpsSeconds), $"recall@{k} {recall:F4}", double.NaN, postings));
                }
                foreach (float mass in masses)
                {
                    var options = new SearchOptions { Algorithm = SearchAlgorithm.Approximate, Alpha = massAlpha, QueryMass = mass };
                    double recall = queries.Select((q, i) => Recall(reader.Search(q, k, options), exact[i])).Average();
                    var (p50, p99) = Latency(reader, queries, k, options, out _, out double postings);
                    string label = massAlpha < 1f ? $"approximate mass={mass.ToString(CultureInfo.InvariantCulture)} α={massAlpha.ToString(CultureInfo.InvariantCulture)}" : $"approximate mass={mass.ToString(CultureInfo.InvariantCulture)}";
                    rows.Add(new Row(docs, label, p50, p99, ex50 / p50,
                        Qps(reader, queries, k, options, threads, qpsSeconds), $"recall@{k} {recall:F4}", double.NaN, postings));
                }
                foreach (var (spec, so) in seismic)
                {
                    var sw = Stopwatch.StartNew();
                    long bytes = reader.PrepareSeismic(so);
                    w.WriteLine($"seismic {spec}: structures built in {sw.Elapsed.TotalSeconds:F2} s ({reader.Count / sw.Elapsed.TotalSeconds:F0} docs/s), {bytes} bytes = {(double)bytes / reader.PostingCount:F2} bytes/posting");
                    var options = new SearchOptions { Algorithm = SearchAlgorithm.Seismic, Seismic = so };
                    double recall = queries.Select((q, i) => Recall(reader.Search(q, k, options), exact[i])).Average();
                    var (p50, p99) = Latency(reader, queries, k, options, out double scored, out _);
                    rows.Add(new Row(docs, $"seismic {spec}", p50, p99, ex50 / p50, Qps(reader, queries, k, options, threads, qpsSeconds), $"recall@{k} {recall:F4}", scored, double.NaN));
                }
                foreach (var r in rows.Where(r => r.Docs == docs))
                    w.WriteLine($"{r.Algorithm,-18} p50 {r.P50,8:F3} ms  p99 {r.P99,8:F3} ms  x{r.Ratio,6:F2}  QPS({threads}t) {r.Qps,8:F0}  postings {r.Postings,10:F0}  {r.Quality}");
            }
            finally
            {
                if (root is null) try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
            }
        }

        w.WriteLine();
        w.WriteLine(realDocs is null
            ? $"Synthetic SPLADE-like data: doc nnz {docNnz}, query nnz {queryNnz}, {queryCount} queries, top-{k}, seed {seed}, block size {blockSize}; latency on 1 thread, QPS on {threads} threads."
            : $"Real vectors: {vectorsPath} (mean doc nnz {docNnz}), {queryVectorsPath} ({queryCount} queries, mean nnz {queryNnz}), top-{k}, block size {blockSize}, document order {reorder}; latency on 1 thread, QPS on {threads} threads.");
        w.WriteLine();
        w.WriteLine("| docs | build docs/s | bytes/posting |");
        w.WriteLine("|---:|---:|---:|");
        foreach (var b in builds) w.WriteLine($"| {b.Docs} | {b.DocsPerSecond:F0} | {b.BytesPerPosting:F2} |");
        w.WriteLine();
        w.WriteLine($"| docs | algorithm | p50 ms | p99 ms | p50 speed-up vs exhaustive | QPS {threads} threads | result | postings touched, mean | blocks (docs for seismic) scored, mean |");
        w.WriteLine("|---:|---|---:|---:|---:|---:|---|---:|---:|");
        foreach (var r in rows)
            w.WriteLine($"| {r.Docs} | {r.Algorithm} | {r.P50:F3} | {r.P99:F3} | {r.Ratio:F2}x | {r.Qps:F0} | {r.Quality} | {(double.IsNaN(r.Postings) ? "" : r.Postings.ToString("F0", CultureInfo.InvariantCulture))} | {(double.IsNaN(r.BlocksScored) ? "" : r.BlocksScored.ToString("F0", CultureInfo.InvariantCulture))} |");
        return Task.FromResult(allExact ? 0 : 1);
    }

    /// <summary>Documents sorted (stably) by the id of their largest-weight term, then of their second (ties by lower id; none sorts first).</summary>
    internal static List<IndexedDocument> ReorderByTopTerms(IEnumerable<IndexedDocument> docs)
    {
        static (int First, int Second) Key(SparseVector v)
        {
            int first = -1, second = -1;
            float a = float.NegativeInfinity, b = float.NegativeInfinity;
            var idx = v.Indices; var val = v.Values;
            for (int i = 0; i < idx.Length; i++)
            {
                float x = val[i];
                if (x > a) { second = first; b = a; first = idx[i]; a = x; }
                else if (x > b) { second = idx[i]; b = x; }
            }
            return (first, second);
        }
        return docs.Select((d, i) => (Doc: d, Key: Key(d.Vector), Position: i))
            .OrderBy(t => t.Key.First).ThenBy(t => t.Key.Second).ThenBy(t => t.Position)
            .Select(t => t.Doc).ToList();
    }

    /// <summary>Reads vectors as `splade encode` writes them; a record without "id" is named by its line number.</summary>
    private static List<(string Id, SparseVector Vector)> ReadVectors(string path, int dimension, CliContext context)
    {
        if (!File.Exists(path)) throw new CliException($"'{path}': file not found.");
        using var input = new Io.InputLines(path, context);
        return Io.VectorRecords.Read(input, dimension).Select(r => (r.Id is { } id
            ? (id.ValueKind == System.Text.Json.JsonValueKind.String ? id.GetString()! : id.GetRawText())
            : r.LineNumber.ToString(CultureInfo.InvariantCulture), r.Vector)).ToList();
    }

    /// <param name="batches">(start, count) → the documents start..start+count-1.</param>
    private static (double DocsPerSecond, TimeSpan Build) Build(string dir, int dimension, Func<int, int, List<IndexedDocument>> batches, int docs, int commitEvery, int blockSize,
        CliContext context, CancellationToken cancellationToken)
    {
        var build = TimeSpan.Zero;
        var sw = new Stopwatch();
        using var index = InvertedIndex.Create(dir, dimension, new InvertedIndexOptions { MaxSegments = 0, BlockSize = blockSize });
        for (int done = 0; done < docs; done += commitEvery)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int count = Math.Min(commitEvery, docs - done);
            var batch = batches(done, count);
            sw.Restart();
            index.Upsert(batch);
            index.Commit();
            build += sw.Elapsed;
            context.Stderr.WriteLine($"indexed {done + count}/{docs}");
        }
        if (index.SegmentCount > 1)
        {
            sw.Restart();
            index.Merge();
            build += sw.Elapsed;
        }
        return (docs / build.TotalSeconds, build);
    }

    private static bool Same(IReadOnlyList<SearchHit> a, IReadOnlyList<SearchHit> b) =>
        a.Count == b.Count && a.Zip(b).All(p => p.First.Id == p.Second.Id && BitConverter.SingleToInt32Bits(p.First.Score) == BitConverter.SingleToInt32Bits(p.Second.Score));

    /// <summary>|approximate ∩ exact| / |exact| (1 when the exact list is empty).</summary>
    private static double Recall(IReadOnlyList<SearchHit> approximate, IReadOnlyList<SearchHit> exact)
    {
        if (exact.Count == 0) return 1;
        var ids = new HashSet<string>(approximate.Select(h => h.Id), StringComparer.Ordinal);
        return exact.Count(h => ids.Contains(h.Id)) / (double)exact.Count;
    }

    private static (double P50, double P99) Latency(InvertedIndex index, List<SparseVector> queries, int k, SearchOptions options, out double meanBlocks, out double meanPostings)
    {
        foreach (var q in queries.Take(20)) index.Search(q, k, options);   // warm-up (JIT, page cache)
        var times = new List<double>();
        long blocks = 0, postings = 0;
        foreach (var q in queries)
        {
            long t0 = Stopwatch.GetTimestamp();
            index.Search(q, k, options);
            times.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
            blocks += options.Algorithm == SearchAlgorithm.Seismic ? InvertedIndex.LastDocsScored : InvertedIndex.LastBlocksScored;
            postings += InvertedIndex.LastPostingsTouched;
        }
        meanBlocks = (double)blocks / queries.Count;
        meanPostings = (double)postings / queries.Count;
        times.Sort();
        return (times[(int)(0.5 * (times.Count - 1))], times[(int)Math.Ceiling(0.99 * (times.Count - 1))]);
    }

    private static double Qps(InvertedIndex index, List<SparseVector> queries, int k, SearchOptions options, int threads, double seconds)
    {
        var sw = Stopwatch.StartNew();
        int rounds = 0;
        while (sw.Elapsed.TotalSeconds < seconds || rounds == 0)
        {
            index.SearchBatch(queries, k, options, threads);
            rounds++;
        }
        return rounds * queries.Count / sw.Elapsed.TotalSeconds;
    }

    private static (string Spec, SeismicOptions Options) ParseSeismic(string spec)
    {
        var o = new SeismicOptions();
        foreach (var part in spec.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var kv = part.Split('=', 2);
            if (kv.Length != 2) throw new CliException($"--seismic: expected name=value, got '{part}'.");
            try
            {
                var c = CultureInfo.InvariantCulture;
                o = kv[0] switch
                {
                    "lambda" => o with { PostingsPerTerm = int.Parse(kv[1], c) },
                    "block" => o with { BlockSize = int.Parse(kv[1], c) },
                    "mass" => o with { SummaryMass = float.Parse(kv[1], c) },
                    "terms" => o with { SummaryTerms = int.Parse(kv[1], c) },
                    "order" => o with { Blocking = kv[1] == "docs" ? SeismicBlocking.DocumentOrder : kv[1] == "impact" ? SeismicBlocking.Impact : throw new FormatException() },
                    "cut" => o with { QueryCut = int.Parse(kv[1], c) },
                    "heap" => o with { HeapFactor = float.Parse(kv[1], c) },
                    _ => throw new CliException($"--seismic: unknown parameter '{kv[0]}' (lambda, block, mass, terms, order, cut, heap)."),
                };
            }
            catch (FormatException)
            {
                throw new CliException($"--seismic: bad value in '{part}'.");
            }
        }
        try { o.Validate(); }
        catch (ArgumentOutOfRangeException e) { throw new CliException($"--seismic '{spec}': {e.Message}"); }
        return (spec, o);
    }

    private static List<T> ParseList<T>(string text, string option, Func<string, T> parse)
    {
        try
        {
            return text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(parse).ToList();
        }
        catch (FormatException)
        {
            throw new CliException($"--{option}: expected a comma-separated list, got '{text}'.");
        }
    }
}
