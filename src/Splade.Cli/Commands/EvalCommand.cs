using Splade.Evaluation;

namespace Splade.Cli.Commands;

/// <summary>`splade eval`: retrieval metrics of a model on a BEIR folder.</summary>
internal sealed class EvalCommand : ICommand
{
    public string Name => "eval";

    public string Summary => "Evaluate retrieval (ndcg@10, mrr@10, map@100, ...) on a BEIR folder.";

    public string Usage => """
        Usage: splade eval --model <folder|owner/name|bm25> --data <BEIR folder> [--index DIR | --backend URL] --output metrics.json
          --data     folder with corpus.jsonl, queries.jsonl and qrels/<split>.tsv
          --split    qrels split (default test)
          --index    keep the corpus in an embedded index there (reused when it already holds the corpus);
                     without it, the corpus is scored in memory by brute force
          --backend URL  keep it in a PostgreSQL + pgvector table instead (--table NAME); same reuse, same outputs
          --csv FILE append a row to a CSV shaped like the reference evaluator's
          --run FILE write the ranked lists (top 100) as a TREC run
          --name     metric prefix
          --precision fp32 (default, exact), int8-decoder or int8 (faster approximations)
        Prints the metric table on stdout.
        """;

    public Task<int> RunAsync(CommandArgs args, CliContext context, CancellationToken cancellationToken)
    {
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
        args.ThrowOnUnused();
        if (!Directory.Exists(dataDir)) throw new CliException($"--data '{dataDir}' is not a folder.");
        var data = IrDataset.LoadBeir(dataDir, split);
        var encoder = EncoderFactory.Create(model, threads, precision);
        if (encoder is ICorpusFittedEncoder fitted && !location.TryLoadFitted(fitted))
        {
            fitted.Fit(data.Corpus.Select(d => d.FullText));
            location.SaveFitted(fitted);
        }
        var evaluator = new SparseInformationRetrievalEvaluator(data, name);
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
}
