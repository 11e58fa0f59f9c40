using System.Diagnostics;
using Splade.Training.Checkpoint;
using Splade.Training.Data;
using Splade.Training.Losses;
using Splade.Training.Model;
using Splade.Training.Optim;

namespace Splade.Training;

/// <summary>
/// Trains a SPLADE model folder on (query, positive, negatives...) rows with SpladeLoss, AdamW, a warm-up +
/// decay learning-rate schedule, gradient accumulation and clipping, "no duplicates" batches, an
/// evaluation hook per epoch (best checkpoint kept) and resumable checkpoints.
/// </summary>
public sealed class SpladeTrainer
{
    private readonly string _modelDir;
    private readonly SpladeTrainingOptions _o;
    private readonly Func<string, int[]> _tokenize;
    private readonly Dictionary<string, int[]> _tokenCache = new(StringComparer.Ordinal);
    private readonly List<SafeTensorsFormat.RawTensor> _preserved;

    /// <summary>Configuration read from the model folder.</summary>
    public TrainingModelConfig Config { get; }

    /// <summary>The parameters being trained.</summary>
    public BertParameters Parameters { get; private set; }

    /// <summary>The network.</summary>
    public BertMlmSplade Model { get; private set; }

    /// <summary>Threads of the training kernels.</summary>
    public Splade.Tensors.ComputePool Pool { get; }

    /// <summary>The loss (its regularizer weights change during warm-up).</summary>
    public SpladeLoss Loss { get; }

    /// <summary>The optimizer.</summary>
    public AdamW Optimizer { get; }

    /// <param name="modelDir">A SPLADE model folder (config.json, model.safetensors, 1_SpladePooling/...).</param>
    /// <param name="options">Hyper-parameters and output folder.</param>
    /// <param name="tokenize">Text → token ids including [CLS] … [SEP]; longer results are truncated to max_seq_length keeping the final [SEP].</param>
    public SpladeTrainer(string modelDir, SpladeTrainingOptions options, Func<string, int[]> tokenize)
    {
        if (options.BatchSize < 1) throw new ArgumentOutOfRangeException(nameof(options), "BatchSize must be ≥ 1.");
        if (options.GradientAccumulationSteps < 1) throw new ArgumentOutOfRangeException(nameof(options), "GradientAccumulationSteps must be ≥ 1.");
        _modelDir = modelDir;
        _o = options;
        _tokenize = tokenize;
        Config = TrainingModelConfig.Load(modelDir);
        using (var source = new SafeTensorsTensorSource(Path.Combine(modelDir, "model.safetensors")))
        {
            _preserved = source.NonFloatTensors.ToList();
            Parameters = BertParameters.Load(Config, source);
        }
        Pool = new Splade.Tensors.ComputePool(options.Threads ?? Environment.ProcessorCount);
        Model = new BertMlmSplade(Parameters, options.Seed, Pool);
        IRankingLoss baseLoss = options.Loss == RankingLossKind.MarginMse ? new SparseMarginMseLoss() : new SparseMultipleNegativesRankingLoss(options.Scale);
        Loss = new SpladeLoss(baseLoss, options.DocumentRegularizerWeight, options.QueryRegularizerWeight);
        Optimizer = new AdamW(options.Beta1, options.Beta2, options.AdamEps, options.WeightDecay);
    }

    private int MaxLen => Math.Min(_o.MaxSeqLength ?? Config.MaxSeqLength, Config.MaxPositionEmbeddings);

    /// <summary>Token ids of a text, truncated to the sequence limit (cached).</summary>
    public int[] Tokenize(string text)
    {
        if (_tokenCache.TryGetValue(text, out var ids)) return ids;
        ids = _tokenize(text);
        int max = MaxLen;
        if (ids.Length > max) ids = [.. ids.AsSpan(0, max - 1), ids[^1]];
        _tokenCache[text] = ids;
        return ids;
    }

    /// <summary>An encoder over the current weights, for evaluators.</summary>
    public TrainingSparseEncoder CreateEncoder() => new(Model, Tokenize);

    /// <summary>
    /// Runs the training with an evaluator that returns one number per epoch (taken as the selection metric).
    /// </summary>
    public TrainingResult Train(IReadOnlyList<TrainingRow> rows, Func<ISparseTextEncoder, int, double>? evaluator,
        Action<TrainingProgress>? progress = null, string? resumeFrom = null, CancellationToken cancellationToken = default) =>
        Train(rows, evaluator is null ? null : (enc, epoch) => [new(_o.MetricForBestModel, evaluator(enc, epoch))], progress, resumeFrom, cancellationToken);

    /// <summary>
    /// Runs the training. <paramref name="evaluator"/> (encoder, epoch) → metrics is called after each epoch; the
    /// epoch with the highest <see cref="SpladeTrainingOptions.MetricForBestModel"/> is saved to <c>OutputDir/best</c>
    /// and becomes the final model. <paramref name="resumeFrom"/> continues from a checkpoint folder written by a previous run.
    /// </summary>
    public TrainingResult Train(IReadOnlyList<TrainingRow> rows, Func<ISparseTextEncoder, int, IReadOnlyList<KeyValuePair<string, double>>>? evaluator = null,
        Action<TrainingProgress>? progress = null, string? resumeFrom = null, CancellationToken cancellationToken = default)
    {
        if (rows.Count == 0) throw new ArgumentException("no training rows.", nameof(rows));
        int columns = rows[0].ColumnCount;
        for (int i = 0; i < rows.Count; i++)
            if (rows[i].ColumnCount != columns)
                throw new ArgumentException($"row {i} has {rows[i].ColumnCount} columns, row 0 has {columns}; every row needs the same negatives count.", nameof(rows));
        if (_o.Loss == RankingLossKind.MarginMse && rows.Any(r => r.Labels is null || r.Labels.Length != columns - 2))
            throw new ArgumentException($"SparseMarginMSELoss needs {columns - 2} teacher margin(s) ('label') on every row.", nameof(rows));

        Directory.CreateDirectory(_o.OutputDir);
        int batchesPerEpoch = NoDuplicatesBatchSampler.Batches(rows, _o.BatchSize, _o.Seed, 0).Count;
        int stepsPerEpoch = Math.Max(1, (batchesPerEpoch + _o.GradientAccumulationSteps - 1) / _o.GradientAccumulationSteps);
        int totalSteps = _o.MaxSteps ?? stepsPerEpoch * _o.Epochs;
        int lrWarmup = LearningRateSchedule.WarmupSteps(totalSteps, _o.WarmupRatio);
        int regWarmup = RegularizerWeightSchedule.WarmupSteps(totalSteps, _o.RegularizerWarmupRatio);

        int globalStep = 0, startEpoch = 0, skipBatches = 0;
        double? best = null;
        int? bestStep = null;
        var log = new List<SpladeCheckpoint.EpochLogEntry>();
        if (resumeFrom is not null)
        {
            resumeFrom = SpladeCheckpoint.ResolveResumable(resumeFrom);
            var state = SpladeCheckpoint.LoadTrainerState(resumeFrom);
            using (var src = new SafeTensorsTensorSource(Path.Combine(resumeFrom, "model.safetensors")))
                Parameters = BertParameters.Load(Config, src);
            Model = new BertMlmSplade(Parameters, _o.Seed, Pool);
            SpladeCheckpoint.LoadOptimizer(Optimizer, Parameters, resumeFrom);
            (globalStep, startEpoch, skipBatches, best, bestStep) = (state.GlobalStep, state.Epoch, state.BatchInEpoch, state.BestMetric, state.BestStep);
            log.AddRange(state.EpochLog);
        }
        string bestDir = Path.Combine(_o.OutputDir, "best");
        var epochs = log.Select(e => new EpochResult(e.Epoch, e.Step, e.TrainingLoss, e.Ndcg10, e.Step == bestStep, e.Metrics?.ToList())).ToList();
        var stats = TrainingDataStatistics.Compute(rows, Tokenize);

        int firstStep = globalStep;
        var trainingClock = Stopwatch.StartNew();
        for (int epoch = startEpoch; epoch < _o.Epochs && globalStep < totalSteps; epoch++)
        {
            var batches = NoDuplicatesBatchSampler.Batches(rows, _o.BatchSize, _o.Seed, epoch);
            double lossSum = 0;
            int lossCount = 0;
            for (int b = epoch == startEpoch ? skipBatches : 0; b < batches.Count && globalStep < totalSteps; b += _o.GradientAccumulationSteps)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var sw = Stopwatch.StartNew();
                if (_o.RegularizerWarmup)
                {
                    Loss.DocumentRegularizerWeight = RegularizerWeightSchedule.Weight(_o.DocumentRegularizerWeight, globalStep, regWarmup);
                    Loss.QueryRegularizerWeight = RegularizerWeightSchedule.Weight(_o.QueryRegularizerWeight, globalStep, regWarmup);
                }
                Model.Training = _o.Dropout;
                Model.ReseedDropout(unchecked(_o.Seed * 1_000_003 + globalStep));
                Parameters.ZeroGrad();
                int micro = Math.Min(_o.GradientAccumulationSteps, batches.Count - b);
                LossParts sum = default;
                long tokens = 0;
                for (int m = 0; m < micro; m++)
                {
                    var parts = MicroStep(rows, batches[b + m], columns, 1.0 / micro, out int tok);
                    tokens += tok;
                    sum = new LossParts(sum.Total + parts.Total / micro, sum.Base + parts.Base / micro,
                        sum.DocumentRegularizer + parts.DocumentRegularizer / micro, sum.QueryRegularizer + parts.QueryRegularizer / micro);
                }
                double? norm = _o.MaxGradNorm is > 0 ? GradientClipping.ClipGlobalNorm(Parameters.All, _o.MaxGradNorm.Value) : null;
                double lr = _o.LearningRate * LearningRateSchedule.Multiplier(_o.Schedule, globalStep, lrWarmup, totalSteps);
                Optimizer.Update(Parameters.All, lr);
                globalStep++;
                lossSum += sum.Total;
                lossCount++;
                double secs = sw.Elapsed.TotalSeconds;
                // Remaining steps at the mean step time of this run so far (evaluations and saves included).
                double eta = trainingClock.Elapsed.TotalSeconds / (globalStep - firstStep) * (totalSteps - globalStep);
                if (progress is not null && (globalStep % Math.Max(1, _o.LogEverySteps) == 0 || globalStep == totalSteps))
                    progress(new TrainingProgress(epoch, globalStep, totalSteps, sum.Total, sum.Base, sum.DocumentRegularizer, sum.QueryRegularizer,
                        lr, norm, tokens / Math.Max(secs, 1e-9), secs, Process.GetCurrentProcess().PeakWorkingSet64, eta));
                if (evaluator is not null && _o.EvalEverySteps is > 0 && globalStep % _o.EvalEverySteps.Value == 0 && globalStep < totalSteps
                    && b + micro < batches.Count)
                {
                    // A mid-epoch evaluation (the epoch's own evaluation follows at its end).
                    double value = SelectionMetric(evaluator(CreateEncoder(), epoch));
                    if (best is null || value > best)
                    {
                        best = value;
                        bestStep = globalStep;
                        SaveResumable(bestDir, new(globalStep, epoch, b + micro, best, bestStep, log));
                    }
                }
                if (_o.SaveEverySteps is > 0 && globalStep % _o.SaveEverySteps.Value == 0)
                    SaveResumable(Path.Combine(_o.OutputDir, "checkpoint-last"),
                        new(globalStep, epoch, b + micro, best, bestStep, log));
            }

            double trainLoss = lossCount > 0 ? lossSum / lossCount : double.NaN;
            double? ndcg = null;
            IReadOnlyList<KeyValuePair<string, double>>? metrics = null;
            bool isBest = false;
            string lastDir = Path.Combine(_o.OutputDir, "checkpoint-last");
            // Saved before the evaluation, so that the evaluation can read the checkpoint as users will load it.
            SaveResumable(lastDir, new(globalStep, epoch + 1, 0, best, bestStep, log));
            if (evaluator is not null)
            {
                metrics = evaluator(_o.EvaluateSavedModel ? LoadSaved(lastDir) : CreateEncoder(), epoch);
                ndcg = SelectionMetric(metrics);
                if (best is null || ndcg > best)
                {
                    best = ndcg;
                    bestStep = globalStep;
                    isBest = true;
                }
            }
            log.Add(new(epoch, globalStep, trainLoss, ndcg, metrics?.ToDictionary(m => m.Key, m => m.Value)));
            epochs.Add(new EpochResult(epoch, globalStep, trainLoss, ndcg, isBest, metrics));
            epochs = epochs.Select(e => e with { IsBest = bestStep is int bs && e.Step == bs }).ToList();
            var stateNow = new SpladeCheckpoint.TrainerState(globalStep, epoch + 1, 0, best, bestStep, log);
            SpladeCheckpoint.SaveTrainerState(stateNow, lastDir);
            if (isBest) SaveResumable(bestDir, stateNow);
        }

        // Final model: the best epoch when an evaluator ran, else the last weights.
        string finalDir = _o.OutputDir;
        if (best is not null && Directory.Exists(bestDir))
        {
            BertParameters bestParams;
            using (var src = new SafeTensorsTensorSource(Path.Combine(bestDir, "model.safetensors")))
                bestParams = BertParameters.Load(Config, src);
            SpladeCheckpoint.SaveModel(_modelDir, bestParams, finalDir, _preserved);
        }
        else
        {
            SpladeCheckpoint.SaveModel(_modelDir, Parameters, finalDir, _preserved);
        }
        var bestEpoch = epochs.FirstOrDefault(e => e.IsBest);
        var card = new ModelCard.Info(_o, Config, Parameters.ParameterCount, Loss, stats, epochs, globalStep)
        {
            Metrics = bestEpoch?.Metrics,
        };
        ModelCard.Write(Path.Combine(finalDir, "README.md"), card);
        return new TrainingResult(epochs, globalStep, finalDir, best is null ? null : bestDir, best, card);
    }

    /// <summary>The checkpoint in <paramref name="dir"/> loaded by the inference library, with the training sequence limit.</summary>
    private SparseEncoder LoadSaved(string dir) =>
        SparseEncoder.Load(dir, new SparseEncoderOptions { Threads = Pool.Threads, MaxSeqLength = MaxLen });

    /// <summary>The value of <see cref="SpladeTrainingOptions.MetricForBestModel"/> among <paramref name="metrics"/>.</summary>
    private double SelectionMetric(IReadOnlyList<KeyValuePair<string, double>> metrics)
    {
        string wanted = _o.MetricForBestModel;
        foreach (var (k, v) in metrics)
            if (k == wanted || k.EndsWith("_" + wanted, StringComparison.Ordinal)) return v;
        throw new InvalidOperationException($"the evaluator returned no metric named '{wanted}' (got {string.Join(", ", metrics.Select(m => m.Key))}).");
    }

    private LossParts MicroStep(IReadOnlyList<TrainingRow> rows, int[] batch, int columns, double gradScale, out int tokens)
    {
        int B = batch.Length;
        var seqs = new List<int[]>(B * columns);
        for (int c = 0; c < columns; c++)
            foreach (int r in batch)
            {
                var row = rows[r];
                string text = c == 0 ? row.Query : c == 1 ? row.Positive : row.Negatives[c - 2];
                seqs.Add(Tokenize(text));
            }
        float[]? labels = null;
        if (_o.Loss == RankingLossKind.MarginMse)
            labels = batch.SelectMany(r => rows[r].Labels!).ToArray();
        var pooled = Model.Forward(seqs);
        tokens = Model.LastTokenCount;
        var grad = new float[pooled.Length];
        var parts = Loss.ForwardBackward(new SparseBatch(pooled, B, columns, Config.VocabSize), labels, grad, gradScale);
        Model.Backward(grad);
        return parts;
    }

    /// <summary>Writes model, optimizer state and trainer state to <paramref name="dir"/>.</summary>
    private void SaveResumable(string dir, SpladeCheckpoint.TrainerState state) =>
        SpladeCheckpoint.ReplaceFolder(dir, d =>
        {
            SpladeCheckpoint.SaveModel(_modelDir, Parameters, d, _preserved);
            SpladeCheckpoint.SaveOptimizer(Optimizer, Parameters, d);
            SpladeCheckpoint.SaveTrainerState(state, d);
        });
}
