namespace Splade.Training;

/// <summary>Progress report after an optimizer step.</summary>
public sealed record TrainingProgress(
    int Epoch, int Step, int TotalSteps, double Loss, double BaseLoss, double DocumentRegularizer, double QueryRegularizer,
    double LearningRate, double? GradNorm, double TokensPerSecond, double StepSeconds, long PeakWorkingSetBytes);

/// <summary>One finished epoch.</summary>
public sealed record EpochResult(int Epoch, int Step, double TrainingLoss, double? Ndcg10, bool IsBest);

/// <summary>Outcome of <see cref="SpladeTrainer.Train"/>.</summary>
public sealed record TrainingResult(IReadOnlyList<EpochResult> Epochs, int Steps, string FinalModelDir, string? BestCheckpointDir, double? BestNdcg10);
