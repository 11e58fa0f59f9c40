using System.Globalization;
using Splade.Evaluation;
using Splade.Search;
using Splade.Training.Data;

namespace Splade.Cli.Commands;

/// <summary>`splade mine`: hard negatives for judged queries, as sentence-transformers' mine_hard_negatives.</summary>
internal sealed class MineCommand : ICommand
{
    public string Name => "mine";

    public string Summary => "Mine hard negatives (BM25 or a SPLADE model) for judged queries: rows {query, positive, negative_1..N}.";

    public string Usage => """
        Usage: splade mine --model M|bm25 --corpus F --queries F --qrels F --negatives N [--range a:b] --output train.jsonl
          --model      a SPLADE model folder / Hub id, or bm25 (fitted on --corpus; bm25?k1=..&b=.. as in eval)
          --corpus     BEIR corpus.jsonl {"_id","title","text"} (document text: title + " " + text)
          --queries    BEIR queries.jsonl {"_id","text"}
          --qrels      BEIR qrels TSV (query-id, corpus-id, score); score >= 1 is a positive
          --negatives  negatives per row (1..64)
          --range a:b  take negatives from ranks a+1..b of the ranking with the positives removed
                       (default 0:100; a > 0 skips the best candidates, often unjudged relevant documents)
          --sampling   top (default: the best candidates of the range) or random (seeded draw in the range)
          --relative-margin r  keep a candidate only if its score <= (1 - r) x the positive's score
          --index DIR  index the corpus in an embedded index there (default: in memory, brute force)
          --seed N     seed of random sampling (default 42)   --threads N   --batch-size N (default 64)
        One row per (judged query, relevant document) pair, in query-id then document-id order; a pair without
        N candidates in the range is dropped and counted. Documents with empty text, or the text of a positive,
        are never negatives. Progress and a summary go to stderr.
        """;

    public Task<int> RunAsync(CommandArgs args, CliContext context, CancellationToken cancellationToken)
    {
        string model = args.Require("model");
        string corpusPath = args.Require("corpus");
        string queriesPath = args.Require("queries");
        string qrelsPath = args.Require("qrels");
        int negatives = args.GetInt("negatives", 1, 64) ?? throw new CliException("--negatives is required.");
        var (rangeMin, rangeMax) = ParseRange(args.Get("range") ?? "0:100");
        var sampling = (args.Get("sampling") ?? "top") switch
        {
            "top" => NegativeSampling.Top,
            "random" => NegativeSampling.Random,
            var other => throw new CliException($"--sampling: '{other}' is not top or random."),
        };
        double? margin = args.GetDouble("relative-margin");
        string? indexDir = args.Get("index");
        int seed = args.GetInt("seed") ?? 42;
        int? threads = args.GetInt("threads", 1, 1024);
        int batchSize = args.GetInt("batch-size", 1, 4096) ?? 64;
        string output = args.Require("output");
        args.ThrowOnUnused();
        if (rangeMax - rangeMin < negatives)
            throw new CliException($"--range {rangeMin}:{rangeMax} holds {rangeMax - rangeMin} candidates, fewer than --negatives {negatives}.");
        if (margin is double m && !(m >= 0 && m < 1)) throw new CliException($"--relative-margin must be in [0, 1), got {m}.");
        foreach (var (flag, path) in new[] { ("corpus", corpusPath), ("queries", queriesPath), ("qrels", qrelsPath) })
            if (!File.Exists(path)) throw new CliException($"--{flag} '{path}': file not found.");

        IrDataset data;
        try { data = IrDataset.Load(corpusPath, queriesPath, qrelsPath); }
        catch (InvalidDataException e) { throw new CliException(e.Message); }
        int judged = data.Qrels.Count(q => q.Value.Count > 0 && data.Queries.ContainsKey(q.Key));
        if (judged == 0) throw new CliException($"--qrels '{qrelsPath}' judges none of the queries of '{queriesPath}' relevant.");
        var ids = data.Corpus.Select(d => d.Id).ToHashSet(StringComparer.Ordinal);
        var judgedDocs = data.Qrels.Where(q => data.Queries.ContainsKey(q.Key)).SelectMany(q => q.Value.Keys).Distinct(StringComparer.Ordinal).ToArray();
        if (!judgedDocs.Any(ids.Contains))
            throw new CliException($"--qrels '{qrelsPath}' names no document of '{corpusPath}' (e.g. '{judgedDocs[0]}').");
        context.Stderr.WriteLine($"mine: {data.Corpus.Count} documents, {judged} judged queries, model {model}, ranks {rangeMin + 1}..{rangeMax}, {negatives} negatives ({sampling.ToString().ToLowerInvariant()})");

        var clock = System.Diagnostics.Stopwatch.StartNew();
        var encoder = EncoderFactory.Create(model, threads);
        if (encoder is ICorpusFittedEncoder fitted) fitted.Fit(data.Corpus.Select(d => d.FullText));
        using var index = indexDir is null ? null : InvertedIndex.OpenOrCreate(indexDir, encoder.Dimension);
        if (index is not null && index.Count > 0) throw new CliException($"--index '{indexDir}' already holds {index.Count} documents; give an empty folder.");
        var options = new HardNegativeMiningOptions
        {
            Negatives = negatives, RangeMin = rangeMin, RangeMax = rangeMax, Sampling = sampling, RelativeMargin = margin, Seed = seed, BatchSize = batchSize,
        };
        var progress = new ThrottledProgress(context.Stderr);
        var result = HardNegativeMiner.Mine(data, encoder, options, index, progress, cancellationToken);
        if (result.Rows.Count == 0) throw new CliException($"no (query, positive) pair found {negatives} negatives in ranks {rangeMin + 1}..{rangeMax}; nothing written.", 1);
        JsonlTrainingRows.Write(output, result.Rows);
        context.Stderr.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"mine: wrote {result.Rows.Count} rows to {output} ({result.Queries} queries, {result.SkippedPairs} pairs dropped for lack of candidates) in {clock.Elapsed.TotalSeconds:0.0} s; mean negative rank {result.MeanNegativeRank:0.0}, mean score positive {result.MeanPositiveScore:0.###} / negative {result.MeanNegativeScore:0.###}"));
        return Task.FromResult(0);
    }

    internal static (int Min, int Max) ParseRange(string spec)
    {
        var parts = spec.Split(':');
        if (parts.Length != 2
            || !int.TryParse(parts[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out int a)
            || !int.TryParse(parts[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out int b)
            || a < 0 || b <= a)
            throw new CliException($"--range must be a:b with 0 <= a < b (ranks a+1..b), got '{spec}'.");
        return (a, b);
    }

    /// <summary>Progress lines ("verb i/n ...") at most once a second, and always the one with i == n.</summary>
    private sealed class ThrottledProgress(TextWriter stderr) : IProgress<string>
    {
        private DateTime _last = DateTime.MinValue;

        public void Report(string value)
        {
            var words = value.Split(' ');
            var count = words.Length > 1 ? words[1].Split('/') : [];
            bool last = count.Length == 2 && count[0] == count[1];
            if (!last && DateTime.UtcNow - _last < TimeSpan.FromSeconds(1)) return;
            _last = DateTime.UtcNow;
            stderr.WriteLine("mine: " + value);
        }
    }
}
