using Splade.Evaluation;
using Splade.Search;

namespace Splade.Cli.Commands;

/// <summary>`splade eval`: retrieval metrics of a model on a BEIR folder.</summary>
internal sealed class EvalCommand : ICommand
{
    public string Name => "eval";

    public string Summary => "Evaluate retrieval (ndcg@10, mrr@10, map@100, ...) on a BEIR folder.";

    public string Usage => """
        Usage: splade eval --model <folder|owner/name|bm25> --data <BEIR folder> [--index DIR | --backend URL] --output metrics.json
               splade eval --fuse RUN --fuse RUN [--fuse ...] --data <BEIR folder> --output metrics.json
          --data     folder with corpus.jsonl, queries.jsonl and qrels/<split>.tsv
          --split    qrels split (default test)
          --index    keep the corpus in an embedded index there (reused when it already holds the corpus);
                     without it, the corpus is scored in memory by brute force
          --backend URL  keep it in a PostgreSQL + pgvector table instead (--table NAME); same reuse, same outputs
          --csv FILE append a row to a CSV shaped like the reference evaluator's
          --run FILE write the ranked lists (top 100) as a TREC run
          --name     metric prefix
          --precision fp32 (default, exact), int8-decoder or int8 (faster approximations)
          --device   cpu (default), cuda, cuda:N (NVIDIA GPU, fp32) or ilgpu-cpu
          --recall-at K  also report precision@K and recall@K (repeatable, e.g. --recall-at 100);
                     documents retrieved per query: the largest cut-off (at least 100)
          --fuse RUN reciprocal rank fusion of TREC runs (e.g. two --run outputs) instead of a model
          --rrf-k K  the k of RRF, score = sum 1/(k + rank) (default 60)
        Prints the metric table on stdout.
        """;

    public Task<int> RunAsync(CommandArgs args, CliContext context, CancellationToken cancellationToken)
    {
        var fuse = args.GetAll("fuse");
        if (fuse.Count > 0) return Task.FromResult(RunFusion(args, fuse, context));
        string model = args.Require("model");
        string dataDir = args.Require("data");
        string output = args.Require("output");
        string split = args.Get("split") ?? "test";
        var location = SearchLocation.Parse(args, required: false);
        string? csv = args.Get("csv");
        string? runPath = args.Get("run");
        string name = args.Get("name") ?? "";
        int? threads = args.GetInt("threads", 1);
        var precision = PrecisionOption.Get(args);
        string device = DeviceOption.Get(args);
        var recallAt = RecallAt(args);
        args.ThrowOnUnused();
        if (!Directory.Exists(dataDir)) throw new CliException($"--data '{dataDir}' is not a folder.");
        var data = IrDataset.LoadBeir(dataDir, split);
        var encoder = EncoderFactory.Create(model, threads, precision, device);
        if (encoder is ICorpusFittedEncoder fitted && !location.TryLoadFitted(fitted))
        {
            fitted.Fit(data.Corpus.Select(d => d.FullText));
            location.SaveFitted(fitted);
        }
        var evaluator = Evaluator(data, name, recallAt);
        var progress = new Progress<string>(m => context.Stderr.WriteLine(m));
        EvaluationResult result;
        if (location.IsNone) result = evaluator.Evaluate(encoder, null, progress: progress, cancellationToken: cancellationToken);
        else
        {
            using var backend = location.Open(encoder.Dimension, create: true);
            backend.RecordModel(model, precision);
            bool complete = backend.HoldsExactly(data.Corpus);
            long[]? df = complete && backend.Index.Count > 0 ? backend.DocumentFrequencies(cancellationToken) : null;
            double? corpusActive = df is null ? null : (double)df.Sum() / backend.Index.Count;
            result = evaluator.Evaluate(encoder, backend.Index, complete, corpusActive, progress, cancellationToken, df);
        }
        File.WriteAllText(output, result.ToJson());
        if (csv is not null) result.AppendCsv(csv);
        if (runPath is not null)
            using (var w = new StreamWriter(runPath, append: false)) result.WriteTrecRun(w, model.Replace(' ', '_'));
        context.Stdout.Write(result.FormatTable());
        return Task.FromResult(0);
    }

    private static int[] RecallAt(CommandArgs args) => args.GetAll("recall-at").Select(v =>
        int.TryParse(v, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out int k) && k >= 1 && k <= 100_000
            ? k : throw new CliException($"--recall-at: '{v}' is not a cut-off between 1 and 100000.")).ToArray();

    private static SparseInformationRetrievalEvaluator Evaluator(IrDataset data, string name, int[] recallAt)
    {
        var defaults = new SparseInformationRetrievalEvaluator(data, name);
        return recallAt.Length == 0 ? defaults : new SparseInformationRetrievalEvaluator(data, name)
        {
            PrecisionRecallAtK = defaults.PrecisionRecallAtK.Concat(recallAt).Distinct().Order().ToArray(),
        };
    }

    /// <summary>--fuse: RRF of ranked lists read from TREC runs, scored like a model's run.</summary>
    private static int RunFusion(CommandArgs args, IReadOnlyList<string> runPaths, CliContext context)
    {
        string dataDir = args.Require("data");
        string output = args.Require("output");
        string split = args.Get("split") ?? "test";
        string? csv = args.Get("csv");
        string? runOut = args.Get("run");
        string name = args.Get("name") ?? "";
        int rrfK = args.GetInt("rrf-k", 0) ?? 60;
        var recallAt = RecallAt(args);
        if (args.Has("model")) throw new CliException("--fuse evaluates runs; it takes no --model.");
        args.ThrowOnUnused();
        if (runPaths.Count < 2) throw new CliException($"--fuse needs at least two runs, got {runPaths.Count}.");
        if (!Directory.Exists(dataDir)) throw new CliException($"--data '{dataDir}' is not a folder.");
        var data = IrDataset.LoadBeir(dataDir, split);
        var runs = new List<IReadOnlyDictionary<string, IReadOnlyList<SearchHit>>>();
        foreach (string path in runPaths)
        {
            if (!File.Exists(path)) throw new CliException($"--fuse '{path}': file not found.");
            try { runs.Add(TrecFiles.ReadRun(path)); }
            catch (InvalidDataException e) { throw new CliException(e.Message); }
        }
        var evaluator = Evaluator(data, name, recallAt);
        var qids = runs.SelectMany(r => r.Keys).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal);
        var fused = new Dictionary<string, IReadOnlyList<SearchHit>>(StringComparer.Ordinal);
        foreach (string q in qids)
            fused[q] = ReciprocalRankFusion.Fuse(runs.Select(r => r.TryGetValue(q, out var hits) ? hits : []).ToArray(), rrfK, evaluator.MaxK);
        var result = evaluator.EvaluateRun(fused, 0);
        File.WriteAllText(output, result.ToJson());
        if (csv is not null) result.AppendCsv(csv);
        if (runOut is not null)
            using (var w = new StreamWriter(runOut, append: false)) result.WriteTrecRun(w, "rrf");
        context.Stderr.WriteLine($"fused {runPaths.Count} runs (RRF k={rrfK}) over {fused.Count} queries");
        context.Stdout.Write(result.FormatTable());
        return 0;
    }
}
