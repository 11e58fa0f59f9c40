using Splade.Training.Model;

namespace Splade.Training.Optim;

/// <summary>
/// AdamW exactly as <c>torch.optim.AdamW</c> (decoupled weight decay):
/// p ← p − lr·wd·p; m ← β1·m + (1−β1)·g; v ← β2·v + (1−β2)·g²;
/// p ← p − (lr / (1 − β1ᵗ)) · m / (√v / √(1 − β2ᵗ) + eps).
/// </summary>
public sealed class AdamW
{
    private readonly Dictionary<string, (float[] M, float[] V)> _state = new(StringComparer.Ordinal);

    public double Beta1 { get; }
    public double Beta2 { get; }
    public double Eps { get; }
    public double WeightDecay { get; }

    /// <summary>Number of steps taken (t of the bias corrections).</summary>
    public long Step { get; private set; }

    public AdamW(double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8, double weightDecay = 0.01)
    {
        if (beta1 is < 0 or >= 1 || beta2 is < 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(beta1), "betas must be in [0, 1).");
        if (eps < 0 || weightDecay < 0) throw new ArgumentOutOfRangeException(nameof(eps), "eps and weight decay must be ≥ 0.");
        Beta1 = beta1; Beta2 = beta2; Eps = eps; WeightDecay = weightDecay;
    }

    /// <summary>One update of every tensor with learning rate <paramref name="lr"/> using its gradient.</summary>
    public void Update(IReadOnlyList<TrainableTensor> tensors, double lr)
    {
        Step++;
        double bc1 = 1 - Math.Pow(Beta1, Step);
        double bc2Sqrt = Math.Sqrt(1 - Math.Pow(Beta2, Step));
        float stepSize = (float)(lr / bc1);
        float decay = (float)(1 - lr * WeightDecay);
        float b1 = (float)Beta1, b2 = (float)Beta2, omb1 = (float)(1 - Beta1), omb2 = (float)(1 - Beta2);
        float bc2SqrtF = (float)bc2Sqrt, eps = (float)Eps;
        Parallel.ForEach(tensors, t =>
        {
            if (!_state.TryGetValue(t.Name, out var st))
                lock (_state)
                    if (!_state.TryGetValue(t.Name, out st)) _state[t.Name] = st = (new float[t.Length], new float[t.Length]);
            float[] p = t.Data, g = t.Grad, m = st.M, v = st.V;
            for (int i = 0; i < p.Length; i++)
            {
                float gi = g[i];
                if (WeightDecay != 0) p[i] *= decay;
                m[i] = m[i] + (gi - m[i]) * omb1;      // lerp, as torch's exp_avg.lerp_(grad, 1 − β1)
                v[i] = v[i] * b2 + omb2 * gi * gi;
                float denom = MathF.Sqrt(v[i]) / bc2SqrtF + eps;
                p[i] -= stepSize * (m[i] / denom);
            }
        });
    }

    /// <summary>First and second moments of a tensor (null before its first update).</summary>
    public (float[] ExpAvg, float[] ExpAvgSq)? State(string name) => _state.TryGetValue(name, out var s) ? s : null;

    /// <summary>Restores state saved with <see cref="State"/> (resuming).</summary>
    public void Restore(long step, IReadOnlyDictionary<string, (float[] ExpAvg, float[] ExpAvgSq)> state)
    {
        Step = step;
        _state.Clear();
        foreach (var kv in state) _state[kv.Key] = kv.Value;
    }

    /// <summary>Names of tensors with state.</summary>
    public IEnumerable<string> StateNames => _state.Keys;
}
