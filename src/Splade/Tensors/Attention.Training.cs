using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Splade.Tensors;

/// <summary>
/// Attention for training: the forward keeps the softmax probabilities (and applies a dropout mask to
/// them), the backward turns dContext into dQ, dK and dV. Per sequence s and head h, with P = softmax(S),
/// S = Q_h·K_hᵀ·scale, P̃ = P ⊙ mask, C_h = P̃·V_h:
/// dV_h = P̃ᵀ·dC_h, dP = (dC_h·V_hᵀ) ⊙ mask, dS = softmax backward of dP, times scale,
/// dQ_h = dS·K_h, dK_h = dSᵀ·Q_h. Jobs are (sequence, head) pairs and each writes only its own rows
/// and head columns, every sum in a fixed order: results do not depend on the thread count.
/// Head widths that are a multiple of 16 run on the inference register blocks (Attention.TrainingBlocked.cs);
/// other widths on the plain loops below. Probabilities are stored per sequence, head-major: sequence s at Σ_{s' &lt; s} heads·L_{s'}², head h at
/// + h·L_s², row i of that block at + i·L_s.
/// </summary>
public static unsafe partial class Attention
{
    /// <summary>Number of probabilities <see cref="TrainingForward"/> stores: Σ_s heads·L_s².</summary>
    public static int ProbabilityCount(ReadOnlySpan<int> lengths, int heads)
    {
        long total = 0;
        foreach (int l in lengths) total += (long)heads * l * l;
        return checked((int)total);
    }

    private static int[] ProbabilityOffsets(ReadOnlySpan<int> lengths, int heads)
    {
        var off = new int[lengths.Length];
        int p = 0;
        for (int s = 0; s < lengths.Length; s++) { off[s] = p; p += heads * lengths[s] * lengths[s]; }
        return off;
    }

    /// <summary>
    /// Context = dropout(softmax(Q·Kᵀ·scale))·V for every (sequence, head); <paramref name="probabilities"/>
    /// receives P (before dropout). Q, K and V share the row stride <paramref name="ld"/>; the context has <paramref name="ldc"/>.
    /// <paramref name="dropMask"/> is empty (no dropout) or holds one factor per probability.
    /// </summary>
    public static void TrainingForward(ReadOnlySpan<float> q, ReadOnlySpan<float> k, ReadOnlySpan<float> v, int ld,
        ReadOnlySpan<int> starts, ReadOnlySpan<int> lengths, int heads, int headDim, float scale,
        Span<float> probabilities, ReadOnlySpan<float> dropMask, Span<float> context, int ldc, ComputePool pool)
    {
        int count = ProbabilityCount(lengths, heads);
        if (probabilities.Length < count) throw new ArgumentException($"Probabilities hold {probabilities.Length} values, expected {count}.", nameof(probabilities));
        bool masked = !dropMask.IsEmpty;
        if (masked && dropMask.Length < count) throw new ArgumentException($"Dropout mask holds {dropMask.Length} values, expected {count}.", nameof(dropMask));
        int[] st = starts.ToArray(), len = lengths.ToArray(), off = ProbabilityOffsets(lengths, heads);
        fixed (float* pq = q, pk = k, pv = v, pp = probabilities, pm = dropMask, pc = context)
        {
            if (UseBlocked(headDim))
            {
                TrainingForwardBlocked(pq, pk, pv, ld, st, len, off, heads, headDim, scale, pp, masked ? pm : null, pc, ldc, pool);
                return;
            }
            nint aq = (nint)pq, ak = (nint)pk, av = (nint)pv, ap = (nint)pp, am = (nint)pm, ac = (nint)pc;
            pool.For(st.Length * heads, job =>
            {
                int s = job / heads, h = job % heads, L = len[s];
                if (L == 0) return;
                int col = h * headDim;
                float* qb = (float*)aq + (long)st[s] * ld + col, kb = (float*)ak + (long)st[s] * ld + col, vb = (float*)av + (long)st[s] * ld + col;
                float* cb = (float*)ac + (long)st[s] * ldc + col;
                float* pBlock = (float*)ap + off[s] + (long)h * L * L, mBlock = masked ? (float*)am + off[s] + (long)h * L * L : null;
                float[] rented = System.Buffers.ArrayPool<float>.Shared.Rent(L);
                fixed (float* dropped = rented)
                    for (int i = 0; i < L; i++)
                    {
                        float* row = pBlock + (long)i * L;
                        for (int j = 0; j < L; j++) row[j] = Dot(qb + (long)i * ld, kb + (long)j * ld, headDim) * scale;
                        Softmax.Forward(new Span<float>(row, L));
                        float* use = row;
                        if (masked)
                        {
                            for (int j = 0; j < L; j++) dropped[j] = row[j] * mBlock[(long)i * L + j];
                            use = dropped;
                        }
                        float* ci = cb + (long)i * ldc;
                        new Span<float>(ci, headDim).Clear();
                        for (int j = 0; j < L; j++) Axpy(use[j], vb + (long)j * ld, ci, headDim);
                    }
                System.Buffers.ArrayPool<float>.Shared.Return(rented);
            });
        }
    }

    /// <summary>
    /// dQ, dK and dV (overwritten; stride <paramref name="ld"/>, like Q, K, V; dContext has <paramref name="lddc"/>) from dContext and
    /// the probabilities and mask of <see cref="TrainingForward"/>.
    /// </summary>
    public static void Backward(ReadOnlySpan<float> q, ReadOnlySpan<float> k, ReadOnlySpan<float> v, int ld,
        ReadOnlySpan<int> starts, ReadOnlySpan<int> lengths, int heads, int headDim, float scale,
        ReadOnlySpan<float> probabilities, ReadOnlySpan<float> dropMask, ReadOnlySpan<float> dContext, int lddc,
        Span<float> dq, Span<float> dk, Span<float> dv, ComputePool pool)
    {
        int count = ProbabilityCount(lengths, heads);
        if (probabilities.Length < count) throw new ArgumentException($"Probabilities hold {probabilities.Length} values, expected {count}.", nameof(probabilities));
        bool masked = !dropMask.IsEmpty;
        int[] st = starts.ToArray(), len = lengths.ToArray(), off = ProbabilityOffsets(lengths, heads);
        fixed (float* pq = q, pk = k, pv = v, pp = probabilities, pm = dropMask, pdc = dContext, pdq = dq, pdk = dk, pdv = dv)
        {
            if (UseBlocked(headDim))
            {
                BackwardBlocked(pq, pk, pv, ld, st, len, off, heads, headDim, scale, pp, masked ? pm : null, pdc, lddc, pdq, pdk, pdv, pool);
                return;
            }
            nint aq = (nint)pq, ak = (nint)pk, av = (nint)pv, ap = (nint)pp, am = (nint)pm, adc = (nint)pdc, adq = (nint)pdq, adk = (nint)pdk, adv = (nint)pdv;
            pool.For(st.Length * heads, job =>
            {
                int s = job / heads, h = job % heads, L = len[s];
                if (L == 0) return;
                long baseRow = (long)st[s] * ld + h * headDim;
                float* qb = (float*)aq + baseRow, kb = (float*)ak + baseRow, vb = (float*)av + baseRow;
                float* dcb = (float*)adc + (long)st[s] * lddc + h * headDim;
                float* dqb = (float*)adq + baseRow, dkb = (float*)adk + baseRow, dvb = (float*)adv + baseRow;
                float* pBlock = (float*)ap + off[s] + (long)h * L * L, mBlock = masked ? (float*)am + off[s] + (long)h * L * L : null;
                for (int j = 0; j < L; j++)
                {
                    new Span<float>(dkb + (long)j * ld, headDim).Clear();
                    new Span<float>(dvb + (long)j * ld, headDim).Clear();
                }
                float[] rented = System.Buffers.ArrayPool<float>.Shared.Rent(2 * L);
                fixed (float* scratch = rented)
                {
                    float* dp = scratch, ds = scratch + L;
                    for (int i = 0; i < L; i++)
                    {
                        float* p = pBlock + (long)i * L, dci = dcb + (long)i * lddc;
                        // dV_j += P̃[i, j]·dC_i; dP[i, j] = (dC_i·V_j)·mask[i, j]
                        for (int j = 0; j < L; j++)
                        {
                            float m = masked ? mBlock[(long)i * L + j] : 1f;
                            Axpy(p[j] * m, dci, dvb + (long)j * ld, headDim);
                            dp[j] = Dot(dci, vb + (long)j * ld, headDim) * m;
                        }
                        Softmax.Backward(new ReadOnlySpan<float>(p, L), new ReadOnlySpan<float>(dp, L), new Span<float>(ds, L));
                        float* dqi = dqb + (long)i * ld;
                        new Span<float>(dqi, headDim).Clear();
                        for (int j = 0; j < L; j++)
                        {
                            float g = ds[j] * scale;
                            Axpy(g, kb + (long)j * ld, dqi, headDim);
                            Axpy(g, qb + (long)i * ld, dkb + (long)j * ld, headDim);
                        }
                    }
                }
                System.Buffers.ArrayPool<float>.Shared.Return(rented);
            });
        }
    }

    /// <summary>Plain double-precision twin of <see cref="TrainingForward"/> followed by <see cref="Backward"/> (one thread); returns the context.</summary>
    public static void BackwardReference(ReadOnlySpan<float> q, ReadOnlySpan<float> k, ReadOnlySpan<float> v, int ld,
        ReadOnlySpan<int> starts, ReadOnlySpan<int> lengths, int heads, int headDim, double scale, ReadOnlySpan<float> dropMask,
        ReadOnlySpan<float> dContext, Span<float> context, Span<float> dq, Span<float> dk, Span<float> dv)
    {
        float[] qa = q.ToArray(), ka = k.ToArray(), va = v.ToArray(), mask = dropMask.ToArray(), dca = dContext.ToArray();
        int mo = 0;
        for (int s = 0; s < starts.Length; s++)
        {
            int L = lengths[s], t0 = starts[s];
            for (int h = 0; h < heads; h++, mo += L * L)
            {
                int c0 = h * headDim;
                double X(float[] a, int t, int d) => a[(t0 + t) * ld + c0 + d];
                var p = new double[L, L];
                for (int i = 0; i < L; i++)
                {
                    double max = double.NegativeInfinity;
                    for (int j = 0; j < L; j++)
                    {
                        double dot = 0;
                        for (int d = 0; d < headDim; d++) dot += X(qa, i, d) * X(ka, j, d);
                        p[i, j] = dot * scale;
                        max = Math.Max(max, p[i, j]);
                    }
                    double sum = 0;
                    for (int j = 0; j < L; j++) { p[i, j] = Math.Exp(p[i, j] - max); sum += p[i, j]; }
                    for (int j = 0; j < L; j++) p[i, j] /= sum;
                }
                int m0 = mo;
                double M(int i, int j) => mask.Length == 0 ? 1.0 : mask[m0 + i * L + j];
                for (int i = 0; i < L; i++)
                    for (int d = 0; d < headDim; d++)
                    {
                        double acc = 0;
                        for (int j = 0; j < L; j++) acc += p[i, j] * M(i, j) * X(va, j, d);
                        context[(t0 + i) * ld + c0 + d] = (float)acc;
                    }
                var dS = new double[L, L];
                for (int i = 0; i < L; i++)
                {
                    var dp = new double[L];
                    double dotPdp = 0;
                    for (int j = 0; j < L; j++)
                    {
                        double acc = 0;
                        for (int d = 0; d < headDim; d++) acc += X(dca, i, d) * X(va, j, d);
                        dp[j] = acc * M(i, j);
                        dotPdp += p[i, j] * dp[j];
                    }
                    for (int j = 0; j < L; j++) dS[i, j] = p[i, j] * (dp[j] - dotPdp) * scale;
                }
                for (int t = 0; t < L; t++)
                    for (int d = 0; d < headDim; d++)
                    {
                        double aq = 0, ak = 0, av = 0;
                        for (int u = 0; u < L; u++)
                        {
                            aq += dS[t, u] * X(ka, u, d);
                            ak += dS[u, t] * X(qa, u, d);
                            av += p[u, t] * M(u, t) * X(dca, u, d);
                        }
                        dq[(t0 + t) * ld + c0 + d] = (float)aq;
                        dk[(t0 + t) * ld + c0 + d] = (float)ak;
                        dv[(t0 + t) * ld + c0 + d] = (float)av;
                    }
            }
        }
    }

    /// <summary>Σ a[i]·b[i] in a fixed order: 16-wide FMA chains, then a scalar FMA tail.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Dot(float* a, float* b, int n)
    {
        int i = 0;
        float sum = 0;
        if (n >= 16)
        {
            Vector512<float> acc = Vector512<float>.Zero;
            for (; i + 16 <= n; i += 16) acc = Vector512.FusedMultiplyAdd(Vector512.Load(a + i), Vector512.Load(b + i), acc);
            sum = Vector512.Sum(acc);
        }
        for (; i < n; i++) sum = MathF.FusedMultiplyAdd(a[i], b[i], sum);
        return sum;
    }

    /// <summary>y[i] += α·x[i].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Axpy(float alpha, float* x, float* y, int n)
    {
        int i = 0;
        Vector512<float> a = Vector512.Create(alpha);
        for (; i + 16 <= n; i += 16) Vector512.FusedMultiplyAdd(a, Vector512.Load(x + i), Vector512.Load(y + i)).Store(y + i);
        for (; i < n; i++) y[i] = MathF.FusedMultiplyAdd(alpha, x[i], y[i]);
    }
}
