using Splade.Training.Optim;

namespace Splade.Training;

/// <summary>Which ranking loss SpladeLoss wraps.</summary>
public enum RankingLossKind
{
    /// <summary>SparseMultipleNegativesRankingLoss (in-batch + hard negatives).</summary>
    MultipleNegativesRanking,
    /// <summary>SparseMarginMSELoss (needs teacher margins in <c>TrainingRow.Labels</c>).</summary>
    MarginMse,
}

/// <summary>Hyper-parameters of <see cref="SpladeTrainer"/>; defaults follow the SPLADE-BERT-Mini recipe.</summary>
public sealed class SpladeTrainingOptions
{
    /// <summary>Folder the final model, the best checkpoint and resumable checkpoints are written to.</summary>
    public required string OutputDir { get; init; }
    public int BatchSize { get; init; } = 16;
    public int GradientAccumulationSteps { get; init; } = 1;
    public int Epochs { get; init; } = 1;
    /// <summary>Stop after this many optimizer steps (null: epochs decide).</summary>
    public int? MaxSteps { get; init; }

    /// <summary>Also evaluate every this many optimizer steps (null: only at epoch ends); a better result becomes the best checkpoint.</summary>
    public int? EvalEverySteps { get; init; }

    /// <summary>Threads of the training kernels (null: one per processor). Results do not depend on it.</summary>
    public int? Threads { get; init; }
    public double LearningRate { get; init; } = 6e-5;
    public double Beta1 { get; init; } = 0.9;
    public double Beta2 { get; init; } = 0.999;
    public double AdamEps { get; init; } = 1e-8;
    public double WeightDecay { get; init; } = 0.0;
    public LearningRateScheduleKind Schedule { get; init; } = LearningRateScheduleKind.Cosine;
    /// <summary>Fraction of the steps with a linear learning-rate warm-up (⌈total·ratio⌉ steps).</summary>
    public double WarmupRatio { get; init; } = 0.025;
    /// <summary>Global gradient-norm clipping (null or ≤ 0: off).</summary>
    public double? MaxGradNorm { get; init; } = 1.0;
    public RankingLossKind Loss { get; init; } = RankingLossKind.MultipleNegativesRanking;
    /// <summary>Score multiplier of SparseMultipleNegativesRankingLoss.</summary>
    public double Scale { get; init; } = 1.0;
    public double DocumentRegularizerWeight { get; init; } = 0.003;
    public double QueryRegularizerWeight { get; init; } = 0.005;
    /// <summary>Quadratic warm-up of the regularizer weights (SpladeRegularizerWeightSchedulerCallback).</summary>
    public bool RegularizerWarmup { get; init; } = true;
    public double RegularizerWarmupRatio { get; init; } = 1.0 / 3.0;
    /// <summary>Seed of batch order, dropout and sampling.</summary>
    public int Seed { get; init; } = 42;
    /// <summary>Dropout as configured in config.json while training (off: deterministic forward).</summary>
    public bool Dropout { get; init; } = true;
    /// <summary>Token limit per text including [CLS]/[SEP] (null: the model's max_seq_length).</summary>
    public int? MaxSeqLength { get; init; }
    /// <summary>Save a resumable checkpoint every this many steps (null: at each epoch end only).</summary>
    public int? SaveEverySteps { get; init; }
    /// <summary>Report progress every this many optimizer steps.</summary>
    public int LogEverySteps { get; init; } = 1;
    /// <summary>
    /// Metric of the evaluator that picks the best checkpoint (greater is better), as transformers'
    /// <c>metric_for_best_model</c>; the first metric ending with this name is used (so a prefixed
    /// <c>nfcorpus_dot_ndcg@10</c> matches <c>dot_ndcg@10</c>).
    /// </summary>
    public string MetricForBestModel { get; init; } = "dot_ndcg@10";
    /// <summary>
    /// Evaluate the checkpoint as saved, loaded with <see cref="SparseEncoder.Load"/> (the inference engine users run,
    /// faster than the training network and proof that the saved folder reproduces the scores); false evaluates the
    /// training network directly (<see cref="SpladeTrainer.CreateEncoder"/>).
    /// </summary>
    public bool EvaluateSavedModel { get; init; } = true;
    /// <summary>Name written in the model card.</summary>
    public string ModelName { get; init; } = "splade-model";
}
