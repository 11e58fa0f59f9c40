using Splade.Training.Model;

namespace Splade.Training.Optim;

/// <summary>Learning-rate schedule kinds (transformers' names).</summary>
public enum LearningRateScheduleKind { Constant, ConstantWithWarmup, Linear, Cosine }

/// <summary>Learning-rate multipliers as transformers' <c>get_*_schedule_with_warmup</c> (LambdaLR of the step index).</summary>
public static class LearningRateSchedule
{
    /// <summary>Warm-up steps from a ratio as transformers' TrainingArguments: ⌈total·ratio⌉.</summary>
    public static int WarmupSteps(int totalSteps, double warmupRatio) => (int)Math.Ceiling(totalSteps * warmupRatio);

    /// <summary>
    /// Multiplier of the base lr at optimizer step <paramref name="step"/> (0-based, the value used for that step).
    /// Cosine: step/warmup during warm-up, then max(0, ½(1 + cos(π·progress))) with
    /// progress = (step − warmup)/(total − warmup). Linear: max(0, (total − step)/(total − warmup)).
    /// </summary>
    public static double Multiplier(LearningRateScheduleKind kind, int step, int warmupSteps, int totalSteps)
    {
        if (kind == LearningRateScheduleKind.Constant) return 1.0;
        if (step < warmupSteps) return (double)step / Math.Max(1, warmupSteps);
        switch (kind)
        {
            case LearningRateScheduleKind.ConstantWithWarmup:
                return 1.0;
            case LearningRateScheduleKind.Linear:
                return Math.Max(0.0, (double)(totalSteps - step) / Math.Max(1, totalSteps - warmupSteps));
            default:
                double progress = (double)(step - warmupSteps) / Math.Max(1, totalSteps - warmupSteps);
                return Math.Max(0.0, 0.5 * (1.0 + Math.Cos(Math.PI * 0.5 * 2.0 * progress)));
        }
    }
}

/// <summary>
/// Warm-up of the SPLADE regularizer weights as sentence-transformers' SpladeRegularizerWeightSchedulerCallback:
/// warmup = max(1, ⌊total·ratio⌋) (ratio 1/3 by default); at global step s (optimizer steps done),
/// w(s) = w_max·(s/warmup)² (quadratic) or w_max·s/warmup (linear) while s &lt; warmup, else w_max.
/// </summary>
public static class RegularizerWeightSchedule
{
    public static int WarmupSteps(int totalSteps, double warmupRatio) => Math.Max(1, (int)(totalSteps * warmupRatio));

    public static double Weight(double maxWeight, int step, int warmupSteps, bool quadratic = true)
    {
        if (step >= warmupSteps) return maxWeight;
        double r = (double)step / Math.Max(1, warmupSteps);
        return quadratic ? maxWeight * r * r : maxWeight * r;
    }
}

/// <summary>Global gradient-norm clipping as <c>torch.nn.utils.clip_grad_norm_</c>.</summary>
public static class GradientClipping
{
    /// <summary>
    /// Total L2 norm of all gradients; when above <paramref name="maxNorm"/> every gradient is multiplied by
    /// maxNorm/(norm + 1e-6). Returns the norm before clipping.
    /// </summary>
    public static double ClipGlobalNorm(IReadOnlyList<TrainableTensor> tensors, double maxNorm)
    {
        // Fixed chunks, each a sum of squares in double over four lanes, the chunks then added in order:
        // the norm does not depend on how many threads ran.
        const int Chunk = 1 << 16;
        var items = new List<(float[] G, int Start, int Length)>();
        foreach (var t in tensors)
            for (int start = 0; start < t.Grad.Length; start += Chunk) items.Add((t.Grad, start, Math.Min(Chunk, t.Grad.Length - start)));
        var partial = new double[items.Count];
        Parallel.For(0, items.Count, i => partial[i] = SumOfSquares(items[i].G.AsSpan(items[i].Start, items[i].Length)));
        double sq = 0;
        foreach (double x in partial) sq += x;
        double norm = Math.Sqrt(sq);
        double coef = maxNorm / (norm + 1e-6);
        if (coef < 1)
        {
            float c = (float)coef;
            Parallel.For(0, items.Count, i =>
            {
                var g = items[i].G.AsSpan(items[i].Start, items[i].Length);
                System.Numerics.Tensors.TensorPrimitives.Multiply(g, c, g);
            });
        }
        return norm;
    }

    private static double SumOfSquares(ReadOnlySpan<float> x)
    {
        double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        int i = 0;
        for (; i + 4 <= x.Length; i += 4)
        {
            s0 += (double)x[i] * x[i];
            s1 += (double)x[i + 1] * x[i + 1];
            s2 += (double)x[i + 2] * x[i + 2];
            s3 += (double)x[i + 3] * x[i + 3];
        }
        for (; i < x.Length; i++) s0 += (double)x[i] * x[i];
        return (s0 + s1) + (s2 + s3);
    }
}
