using System.Buffers;
using System.Runtime.InteropServices;

namespace Splade.Training.Kernels;

/// <summary>
/// Multi-head self-attention core on packed sequences (no padding: each sequence attends only to itself,
/// which equals padded attention with a float32-min mask since exp of that underflows to exactly 0).
/// Forward per sequence s and head h: S = Q_h·K_hᵀ/√d, P = softmax_rows(S), P̃ = dropout(P), C_h = P̃·V_h.
/// Backward: dP̃ = dC_h·V_hᵀ, dV_h = P̃ᵀ·dC_h, dP = dP̃ ⊙ mask, dS = P ⊙ (dP − rowsum(P ⊙ dP)) / √d,
/// dQ_h = dS·K_h, dK_h = dSᵀ·Q_h.
/// </summary>
internal sealed class Attention
{
    private readonly int _hidden, _heads, _d;
    private readonly int[] _start, _len, _probOff;

    /// <summary>Total number of probability values cached (Σ_s heads·L_s²).</summary>
    public int ProbCount { get; }

    public Attention(int hidden, int heads, IReadOnlyList<int> seqLengths)
    {
        _hidden = hidden;
        _heads = heads;
        _d = hidden / heads;
        int n = seqLengths.Count;
        _start = new int[n];
        _len = new int[n];
        _probOff = new int[n];
        int tok = 0, p = 0;
        for (int s = 0; s < n; s++)
        {
            _start[s] = tok;
            _len[s] = seqLengths[s];
            _probOff[s] = p;
            tok += seqLengths[s];
            p += heads * seqLengths[s] * seqLengths[s];
        }
        ProbCount = p;
    }

    /// <summary>q, k, v, ctx: [N, hidden]; probs: [ProbCount] (softmax output, saved); dropMask: same size or null.</summary>
    public void Forward(float[] q, float[] k, float[] v, float[] probs, float[]? dropMask, float[] ctx)
    {
        float scale = 1f / MathF.Sqrt(_d);
        TrainingParallel.For(_len.Length * _heads, task =>
        {
            int s = task / _heads, h = task % _heads, L = _len[s], d = _d;
            if (L == 0) return;
            var pool = ArrayPool<float>.Shared;
            float[] qh = pool.Rent(L * d), kh = pool.Rent(L * d), vT = pool.Rent(L * d), row = pool.Rent(L);
            Gather(q, s, h, qh);
            Gather(k, s, h, kh);
            GatherTransposed(v, s, h, vT); // [d, L]
            int po = _probOff[s] + h * L * L;
            Gemm.Block(qh, 0, kh, 0, probs, po, L, d, 0, L, 0, L, accumulate: false);
            for (int i = 0; i < L; i++)
            {
                var pr = probs.AsSpan(po + i * L, L);
                float max = float.NegativeInfinity;
                for (int j = 0; j < L; j++) { pr[j] *= scale; if (pr[j] > max) max = pr[j]; }
                double sum = 0;
                for (int j = 0; j < L; j++) { float e = MathF.Exp(pr[j] - max); pr[j] = e; sum += e; }
                float inv = (float)(1.0 / sum);
                for (int j = 0; j < L; j++) pr[j] *= inv;
            }
            float[] pUse = probs;
            int pUseOff = po;
            float[]? dropped = null;
            if (dropMask is not null)
            {
                dropped = pool.Rent(L * L);
                for (int i = 0; i < L * L; i++) dropped[i] = probs[po + i] * dropMask[po + i];
                pUse = dropped;
                pUseOff = 0;
            }
            // C_h[i, c] = Σ_j P̃[i, j] V[j, c] = P̃ · (Vᵀ)ᵀ
            float[] ch = pool.Rent(L * d);
            Gemm.Block(pUse, pUseOff, vT, 0, ch, 0, d, L, 0, L, 0, d, accumulate: false);
            Scatter(ch, s, h, ctx);
            pool.Return(qh); pool.Return(kh); pool.Return(vT); pool.Return(row); pool.Return(ch);
            if (dropped is not null) pool.Return(dropped);
        });
    }

    /// <summary>Writes dq, dk, dv ([N, hidden], overwritten) from dctx.</summary>
    public void Backward(float[] q, float[] k, float[] v, float[] probs, float[]? dropMask, float[] dctx,
        float[] dq, float[] dk, float[] dv)
    {
        float scale = 1f / MathF.Sqrt(_d);
        TrainingParallel.For(_len.Length * _heads, task =>
        {
            int s = task / _heads, h = task % _heads, L = _len[s], d = _d;
            if (L == 0) return;
            var pool = ArrayPool<float>.Shared;
            float[] qh = pool.Rent(L * d), kh = pool.Rent(L * d), vh = pool.Rent(L * d), dch = pool.Rent(L * d);
            float[] dP = pool.Rent(L * L);
            float[] dqh = pool.Rent(L * d), dkh = pool.Rent(L * d), dvh = pool.Rent(L * d);
            Gather(q, s, h, qh); Gather(k, s, h, kh); Gather(v, s, h, vh); Gather(dctx, s, h, dch);
            int po = _probOff[s] + h * L * L;
            // dP̃ = dC · Vᵀ  [L, L]
            Gemm.Block(dch, 0, vh, 0, dP, 0, L, d, 0, L, 0, L, accumulate: false);
            // dV[j] = Σ_i P̃[i, j] dC[i]
            Array.Clear(dvh, 0, L * d);
            for (int i = 0; i < L; i++)
            {
                var dci = dch.AsSpan(i * d, d);
                for (int j = 0; j < L; j++)
                {
                    float p = probs[po + i * L + j];
                    if (dropMask is not null) p *= dropMask[po + i * L + j];
                    if (p != 0) Gemm.Axpy(p, dci, dvh.AsSpan(j * d, d));
                }
            }
            // Softmax backward, row by row.
            for (int i = 0; i < L; i++)
            {
                var dpr = dP.AsSpan(i * L, L);
                var pr = probs.AsSpan(po + i * L, L);
                if (dropMask is not null)
                {
                    var mr = dropMask.AsSpan(po + i * L, L);
                    for (int j = 0; j < L; j++) dpr[j] *= mr[j];
                }
                double dot = 0;
                for (int j = 0; j < L; j++) dot += (double)pr[j] * dpr[j];
                for (int j = 0; j < L; j++) dpr[j] = (float)(pr[j] * (dpr[j] - dot)) * scale;
            }
            // dQ = dS · K ; dK = dSᵀ · Q
            Array.Clear(dqh, 0, L * d);
            Array.Clear(dkh, 0, L * d);
            for (int i = 0; i < L; i++)
            {
                var dqi = dqh.AsSpan(i * d, d);
                var qi = qh.AsSpan(i * d, d);
                for (int j = 0; j < L; j++)
                {
                    float g = dP[i * L + j];
                    if (g == 0) continue;
                    Gemm.Axpy(g, kh.AsSpan(j * d, d), dqi);
                    Gemm.Axpy(g, qi, dkh.AsSpan(j * d, d));
                }
            }
            Scatter(dqh, s, h, dq); Scatter(dkh, s, h, dk); Scatter(dvh, s, h, dv);
            pool.Return(qh); pool.Return(kh); pool.Return(vh); pool.Return(dch); pool.Return(dP);
            pool.Return(dqh); pool.Return(dkh); pool.Return(dvh);
        });
    }

    private void Gather(float[] src, int s, int h, float[] dst)
    {
        int L = _len[s], d = _d;
        for (int i = 0; i < L; i++)
            src.AsSpan((_start[s] + i) * _hidden + h * d, d).CopyTo(dst.AsSpan(i * d, d));
    }

    private void GatherTransposed(float[] src, int s, int h, float[] dst)
    {
        int L = _len[s], d = _d;
        for (int i = 0; i < L; i++)
        {
            int o = (_start[s] + i) * _hidden + h * d;
            for (int c = 0; c < d; c++) dst[c * L + i] = src[o + c];
        }
    }

    private void Scatter(float[] src, int s, int h, float[] dst)
    {
        int L = _len[s], d = _d;
        for (int i = 0; i < L; i++)
            src.AsSpan(i * d, d).CopyTo(dst.AsSpan((_start[s] + i) * _hidden + h * d, d));
    }
}
