using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Splade.Evaluation;
using Splade.Hub;
using Splade.Training;
using Splade.Training.Optim;

namespace Splade.Cli.Commands;

/// <summary>`splade train`: fine-tunes a SPLADE model with SpladeLoss, evaluating each epoch and keeping the best.</summary>
internal sealed class TrainCommand : ICommand
{
    public string Name => "train";

    public string Summary => "Fine-tune a SPLADE model (SpladeLoss, AdamW), evaluate each epoch, keep the best; optionally push to the Hub.";

    public string Usage => """
        Usage: splade train --model <folder|owner/name> --train <data.jsonl|BEIR folder> [--train ...] --output DIR [options]
          --train         JSON lines {"query","positive","negative"|"negatives"|"negative_1".."negative_n"[,"label"]},
                          or a BEIR folder (one row per judged query/relevant document pair, random negatives);
                          may be repeated
          --train-split   qrels split of BEIR --train folders (default: train when present, else test)
          --negatives N   random negatives per row for BEIR folders (default 1)
          --holdout F     keep this fraction of each BEIR folder's judged queries out of training and evaluate on them
          --eval DIR      BEIR folder evaluated after each epoch (--eval-split, default test)
          Hyper-parameters (defaults: the SPLADE-BERT-Mini recipe):
          --epochs 6 --batch-size 16 --grad-accum 8 --lr 6e-5 --warmup-ratio 0.025 --weight-decay 0
          --scheduler cosine|linear|constant|constant-with-warmup   --max-grad-norm 1 (0: off)
          --query-reg 0.005 --doc-reg 0.003 --loss mnrl|margin-mse --scale 1 --no-dropout
          --max-seq-length N --max-steps N --seed 42 --threads N
          --metric dot_ndcg@10   metric that picks the best epoch
          --save-steps N  also save a resumable checkpoint every N steps (always at each epoch end)
          --eval-steps N  also evaluate (--eval/--holdout) every N steps; a better result becomes the best checkpoint
          --log-steps N   progress line every N steps (default 1)
          --resume DIR    continue from a checkpoint (DIR/checkpoint-last or a folder holding trainer_state.json)
          --push-to-hub owner/name [--private] [--hub-branch main]   upload the final model (token: HF_TOKEN)
          Model card (README.md): --card-base-model TEXT, --card-dataset TEXT and --card-note TEXT (both repeatable)
        Writes DIR: the final (best) model with a README.md model card, best/, checkpoint-last/, eval/.
        Progress goes to stderr; the final metrics table to stdout.
        """;

    public async Task<int> RunAsync(CommandArgs args, CliContext context, CancellationToken cancellationToken)
    {
        string model = args.Require("model");
        var trainSources = args.GetAll("train");
        string output = args.Require("output");
        string? trainSplit = args.Get("train-split");
        int negatives = args.GetInt("negatives", 0, 64) ?? 1;
        double holdout = args.GetDouble("holdout") ?? 0;
        string? evalDir = args.Get("eval");
        string evalSplit = args.Get("eval-split") ?? "test";
        int? threads = args.GetInt("threads", 1, 1024);
        string? resume = args.Get("resume");
        string? pushTo = args.Get("push-to-hub");
        bool isPrivate = args.Flag("private");
        string hubBranch = args.Get("hub-branch") ?? "main";
        int logSteps = args.GetInt("log-steps", 1) ?? 1;
        string? cardBaseModel = args.Get("card-base-model");
        var cardDatasets = args.GetAll("card-dataset");
        var cardNotes = args.GetAll("card-note");
        var options = ReadOptions(args, output);
        int? maxSeqArg = options.MaxSeqLength;
        args.ThrowOnUnused();
        if (trainSources.Count == 0) throw new CliException("--train is required.");
        if (pushTo is not null && !ModelReference.TryParse(pushTo, out _)) throw new CliException($"--push-to-hub '{pushTo}' is not a Hub id (owner/name).");
        resume = ResolveResume(resume);

        int threadCount = threads ?? Environment.ProcessorCount;
        var source = ModelLoading.Load(model, threadCount, context.Stderr);
        int maxSeq = maxSeqArg is int m ? Math.Min(m, source.MaxSeqLength) : source.MaxSeqLength;
        options = ReadOptions(args, output, maxSeq);
        var inputs = TrainingInputs.Load(trainSources, trainSplit, holdout, negatives, options.Seed, evalDir, evalSplit);
        foreach (string line in inputs.Summary) context.Stderr.WriteLine($"data: {line}");
        context.Stderr.WriteLine($"data: {inputs.Rows.Count} rows of {inputs.Rows[0].ColumnCount} columns; max_seq_length {maxSeq}");

        // The model's own tokenizer with the encoder's truncation, so training sees what inference will see.
        var trainer = new SpladeTrainer(source.ModelPath, options,
            text => source.Tokenizer.Encode(text, maxSeq, addSpecialTokens: true).Ids);
        context.Stderr.WriteLine($"model: {source.ModelPath} ({trainer.Parameters.ParameterCount:N0} parameters), {trainer.Pool.Threads} threads");

        var evaluator = inputs.Evaluation is null ? null : new SparseInformationRetrievalEvaluator(inputs.Evaluation);
        string evalFolder = Path.Combine(output, "eval");
        int lastStep = 0;
        var steps = new List<TrainingProgress>();
        var clock = Stopwatch.StartNew();
        Func<ISparseTextEncoder, int, IReadOnlyList<KeyValuePair<string, double>>>? evaluate = evaluator is null ? null : (encoder, epoch) =>
        {
            var sw = Stopwatch.StartNew();
            var result = evaluator.Evaluate(encoder, cancellationToken: cancellationToken);
            Directory.CreateDirectory(evalFolder);
            result.AppendCsv(Path.Combine(evalFolder, "Information-Retrieval_evaluation_results.csv"), epoch + 1, lastStep);
            context.Stderr.WriteLine($"eval {(epoch < 0 ? "before training" : $"epoch {epoch + 1}")} (step {lastStep}, {sw.Elapsed.TotalSeconds:F1} s): "
                + string.Join(", ", result.Metrics.Where(k => k.Key is "dot_ndcg@10" or "dot_mrr@10" or "dot_map@100" or "dot_recall@10" or "query_active_dims" or "corpus_active_dims")
                    .Select(k => $"{k.Key} {k.Value:0.####}")));
            return result.Metrics;
        };
        void Progress(TrainingProgress p)
        {
            lastStep = p.Step;
            steps.Add(p);
            if (p.Step % logSteps == 0 || p.Step == p.TotalSteps)
                context.Stderr.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"step {p.Step}/{p.TotalSteps} epoch {p.Epoch + 1} loss {p.Loss:0.0000} (rank {p.BaseLoss:0.0000} doc_reg {p.DocumentRegularizer:0.0000} query_reg {p.QueryRegularizer:0.0000}) lr {p.LearningRate:0.###e+0} grad_norm {(p.GradNorm is double g ? g.ToString("0.###", CultureInfo.InvariantCulture) : "-")} {p.TokensPerSecond:0} tok/s {p.StepSeconds:0.00} s/step eta {FormatEta(p.EtaSeconds)} peak {p.PeakWorkingSetBytes / 1e6:0} MB"));
        }

        IReadOnlyList<KeyValuePair<string, double>>? baseline = null;
        if (evaluator is not null && resume is null)
        {
            // The starting point, so that the log shows what training changed (sentence-transformers evaluates before training too).
            var start = SparseEncoder.Load(source.ModelPath, new SparseEncoderOptions { Threads = threadCount, MaxSeqLength = maxSeq });
            baseline = evaluate!(start, -1);
        }
        var result = trainer.Train(inputs.Rows, evaluate, Progress, resume, cancellationToken);
        double seconds = clock.Elapsed.TotalSeconds;
        if (maxSeqArg is not null) SetMaxSeqLength(output, maxSeq);
        if (steps.Count > 0)
            context.Stderr.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"trained {steps.Count} steps in {seconds:0.0} s: {steps.Average(s => s.TokensPerSecond):0} tok/s, {steps.Average(s => s.StepSeconds):0.000} s/step (mean), peak working set {steps.Max(s => s.PeakWorkingSetBytes) / 1e6:0} MB"));

        // The saved folder must load as an ordinary model and score what the best epoch scored.
        var card = result.Card! with
        {
            TrainingSeconds = seconds, EvaluationDataset = inputs.EvaluationName, BaselineMetrics = baseline,
            BaseModel = cardBaseModel, TrainingDatasets = cardDatasets, Notes = cardNotes,
        };
        if (evaluator is not null)
        {
            var reloaded = SparseEncoder.Load(output, new SparseEncoderOptions { Threads = threadCount });
            var final = evaluator.Evaluate(reloaded, cancellationToken: cancellationToken);
            File.WriteAllText(Path.Combine(evalFolder, "final_metrics.json"), final.ToJson());
            var best = result.Epochs.FirstOrDefault(e => e.IsBest)?.Metrics;
            double maxDiff = best is null ? double.NaN : final.Metrics.Where(k => best.Any(b => b.Key == k.Key))
                .Max(k => Math.Abs(k.Value - best.First(b => b.Key == k.Key).Value));
            context.Stderr.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"reloaded {output} with SparseEncoder.Load: {options.MetricForBestModel} {final[options.MetricForBestModel]:0.####} (best epoch {result.BestNdcg10:0.####}; largest metric difference {maxDiff:0.######})"));
            card = card with
            {
                Metrics = final.Metrics,
                MetricsNote = string.Create(CultureInfo.InvariantCulture,
                    $"Metrics of the saved model reloaded with `SparseEncoder.Load` (largest difference to the best epoch's evaluation during training: {maxDiff:0.######})."),
            };
            context.Stdout.Write(final.FormatTable());
        }
        ModelCard.Write(Path.Combine(output, "README.md"), card);

        if (pushTo is not null)
        {
            using var uploader = new HubUploader(HubOptionsFactory());
            var commit = await uploader.UploadFolderAsync(pushTo, output, new HubUploadOptions
            {
                Revision = hubBranch, Private = isPrivate, CommitMessage = $"Upload {options.ModelName} trained with Splade.NET",
            }, new Progress<string>(context.Stderr.WriteLine), cancellationToken).ConfigureAwait(false);
            context.Stderr.WriteLine($"pushed to {pushTo}: {commit.CommitUrl}");
        }
        return 0;
    }

    /// <summary>Hub settings for --push-to-hub (tests point it at a local fake Hub).</summary>
    internal static Func<HubOptions> HubOptionsFactory { get; set; } = () => HubOptions.FromEnvironment();

    /// <summary>Remaining time as 1h02m / 3m05s / 12s.</summary>
    internal static string FormatEta(double? seconds)
    {
        if (seconds is not double s || !double.IsFinite(s)) return "-";
        var t = TimeSpan.FromSeconds(Math.Max(0, Math.Round(s)));
        return t.TotalHours >= 1 ? $"{(int)t.TotalHours}h{t.Minutes:00}m" : t.TotalMinutes >= 1 ? $"{t.Minutes}m{t.Seconds:00}s" : $"{t.Seconds}s";
    }

    private static SpladeTrainingOptions ReadOptions(CommandArgs args, string output, int? maxSeqLength = null)
    {
        var loss = (args.Get("loss") ?? "mnrl") switch
        {
            "mnrl" => RankingLossKind.MultipleNegativesRanking,
            "margin-mse" => RankingLossKind.MarginMse,
            var other => throw new CliException($"--loss: '{other}' is not mnrl or margin-mse."),
        };
        var schedule = (args.Get("scheduler") ?? "cosine") switch
        {
            "cosine" => LearningRateScheduleKind.Cosine,
            "linear" => LearningRateScheduleKind.Linear,
            "constant" => LearningRateScheduleKind.Constant,
            "constant-with-warmup" => LearningRateScheduleKind.ConstantWithWarmup,
            var other => throw new CliException($"--scheduler: '{other}' is not cosine, linear, constant or constant-with-warmup."),
        };
        double lr = args.GetDouble("lr") ?? 6e-5;
        if (lr <= 0) throw new CliException($"--lr must be positive, got {lr}.");
        double warmup = args.GetDouble("warmup-ratio") ?? 0.025;
        if (warmup is < 0 or > 1) throw new CliException($"--warmup-ratio must be in [0, 1], got {warmup}.");
        double? clip = args.GetDouble("max-grad-norm") ?? 1.0;
        return new SpladeTrainingOptions
        {
            OutputDir = output,
            Epochs = args.GetInt("epochs", 1) ?? 6,
            BatchSize = args.GetInt("batch-size", 1) ?? 16,
            GradientAccumulationSteps = args.GetInt("grad-accum", 1) ?? 8,
            LearningRate = lr,
            WarmupRatio = warmup,
            WeightDecay = args.GetDouble("weight-decay") ?? 0,
            Schedule = schedule,
            MaxGradNorm = clip > 0 ? clip : null,
            QueryRegularizerWeight = args.GetDouble("query-reg") ?? 0.005,
            DocumentRegularizerWeight = args.GetDouble("doc-reg") ?? 0.003,
            Loss = loss,
            Scale = args.GetDouble("scale") ?? 1.0,
            Dropout = !args.Flag("no-dropout"),
            MaxSeqLength = maxSeqLength ?? args.GetInt("max-seq-length", 2),
            MaxSteps = args.GetInt("max-steps", 1),
            Threads = args.GetInt("threads", 1, 1024),
            Seed = args.GetInt("seed") ?? 42,
            SaveEverySteps = args.GetInt("save-steps", 1),
            EvalEverySteps = args.GetInt("eval-steps", 1),
            MetricForBestModel = args.Get("metric") ?? "dot_ndcg@10",
            ModelName = args.Get("push-to-hub") ?? Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(output))),
        };
    }

    /// <summary>A checkpoint folder (holding trainer_state.json), or an output folder whose checkpoint-last is one.</summary>
    private static string? ResolveResume(string? resume)
    {
        if (resume is null) return null;
        if (File.Exists(Path.Combine(resume, "trainer_state.json"))) return resume;
        string last = Path.Combine(resume, "checkpoint-last");
        if (File.Exists(Path.Combine(last, "trainer_state.json"))) return last;
        throw new CliException($"--resume '{resume}' holds no trainer_state.json (nor does its checkpoint-last/).");
    }

    /// <summary>Records the sequence limit used in training in sentence_bert_config.json, as sentence-transformers saves it.</summary>
    private static void SetMaxSeqLength(string folder, int maxSeq)
    {
        string path = Path.Combine(folder, "sentence_bert_config.json");
        var json = File.Exists(path) ? JsonNode.Parse(File.ReadAllText(path)) as JsonObject ?? new JsonObject() : new JsonObject();
        json["max_seq_length"] = maxSeq;
        File.WriteAllText(path, json.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }) + "\n");
    }
}
