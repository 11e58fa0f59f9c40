using System.Runtime.Intrinsics;
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
        foreach (var t in tensors)
            if (!_state.ContainsKey(t.Name)) _state[t.Name] = (new float[t.Length], new float[t.Length]);
        // Work items of at most Chunk elements, so the word embeddings (most of the parameters) spread over the cores.
        var items = new List<(TrainableTensor T, int Start, int Length)>();
        foreach (var t in tensors)
            for (int start = 0; start < t.Length; start += Chunk) items.Add((t, start, Math.Min(Chunk, t.Length - start)));
        bool decayOn = WeightDecay != 0;
        Parallel.ForEach(items, item =>
        {
            var st = _state[item.T.Name];
            UpdateRange(item.T.Data.AsSpan(item.Start, item.Length), item.T.Grad.AsSpan(item.Start, item.Length),
                st.M.AsSpan(item.Start, item.Length), st.V.AsSpan(item.Start, item.Length),
                decayOn, decay, omb1, b2, omb2, bc2SqrtF, eps, stepSize);
        });
    }

    private const int Chunk = 1 << 16;

    /// <summary>
    /// The update of one range, element by element in float with the same operations in the same order in the
    /// vector and scalar paths (no fused multiply-add), so every element gets the same value either way.
    /// </summary>
    private static void UpdateRange(Span<float> p, ReadOnlySpan<float> g, Span<float> m, Span<float> v,
        bool decayOn, float decay, float omb1, float b2, float omb2, float bc2Sqrt, float eps, float stepSize)
    {
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var vDecay = Vector256.Create(decay);
            var vOmb1 = Vector256.Create(omb1);
            var vB2 = Vector256.Create(b2);
            var vOmb2 = Vector256.Create(omb2);
            var vBc2 = Vector256.Create(bc2Sqrt);
            var vEps = Vector256.Create(eps);
            var vStep = Vector256.Create(stepSize);
            ref float rp = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(p);
            ref float rg = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(g);
            ref float rm = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(m);
            ref float rv = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(v);
            for (; i + 8 <= p.Length; i += 8)
            {
                var gi = Vector256.LoadUnsafe(ref rg, (nuint)i);
                var pi = Vector256.LoadUnsafe(ref rp, (nuint)i);
                var mi = Vector256.LoadUnsafe(ref rm, (nuint)i);
                var vi = Vector256.LoadUnsafe(ref rv, (nuint)i);
                if (decayOn) pi *= vDecay;
                mi = mi + (gi - mi) * vOmb1;
                vi = vi * vB2 + vOmb2 * gi * gi;
                var denom = Vector256.Sqrt(vi) / vBc2 + vEps;
                pi -= vStep * (mi / denom);
                pi.StoreUnsafe(ref rp, (nuint)i);
                mi.StoreUnsafe(ref rm, (nuint)i);
                vi.StoreUnsafe(ref rv, (nuint)i);
            }
        }
        for (; i < p.Length; i++)
        {
            float gi = g[i];
            if (decayOn) p[i] *= decay;
            m[i] = m[i] + (gi - m[i]) * omb1;      // lerp, as torch's exp_avg.lerp_(grad, 1 − β1)
            v[i] = v[i] * b2 + omb2 * gi * gi;
            float denom = MathF.Sqrt(v[i]) / bc2Sqrt + eps;
            p[i] -= stepSize * (m[i] / denom);
        }
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
