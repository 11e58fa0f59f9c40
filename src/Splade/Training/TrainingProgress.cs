namespace Splade.Training;

/// <summary>Progress report after an optimizer step.</summary>
public sealed record TrainingProgress(
    int Epoch, int Step, int TotalSteps, double Loss, double BaseLoss, double DocumentRegularizer, double QueryRegularizer,
    double LearningRate, double? GradNorm, double TokensPerSecond, double StepSeconds, long PeakWorkingSetBytes, double? EtaSeconds = null);

/// <summary>One finished epoch.</summary>
/// <param name="Epoch">0-based epoch.</param>
/// <param name="Step">Optimizer steps done at its end.</param>
/// <param name="TrainingLoss">Mean loss of its steps.</param>
/// <param name="Ndcg10">Value of the metric that picks the best checkpoint (<see cref="SpladeTrainingOptions.MetricForBestModel"/>,
/// dot_ndcg@10 by default); null without evaluation.</param>
/// <param name="IsBest">True for the epoch whose weights became the final model.</param>
/// <param name="Metrics">Every metric the evaluator returned, in its order.</param>
public sealed record EpochResult(int Epoch, int Step, double TrainingLoss, double? Ndcg10, bool IsBest,
    IReadOnlyList<KeyValuePair<string, double>>? Metrics = null);

/// <summary>Outcome of <see cref="SpladeTrainer.Train(IReadOnlyList{Data.TrainingRow}, Func{ISparseTextEncoder, int, IReadOnlyList{KeyValuePair{string, double}}}?, Action{TrainingProgress}?, string?, CancellationToken)"/>.</summary>
/// <param name="Epochs">Per-epoch log (including epochs of a resumed run).</param>
/// <param name="Steps">Optimizer steps done.</param>
/// <param name="FinalModelDir">Folder holding the final model (the output folder).</param>
/// <param name="BestCheckpointDir">The best epoch's checkpoint, when an evaluator ran.</param>
/// <param name="BestNdcg10">Best value of the selection metric.</param>
/// <param name="Card">What the model card was rendered from (callers may add metrics and render it again).</param>
public sealed record TrainingResult(IReadOnlyList<EpochResult> Epochs, int Steps, string FinalModelDir, string? BestCheckpointDir, double? BestNdcg10,
    ModelCard.Info? Card = null);
