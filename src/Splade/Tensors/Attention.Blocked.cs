using System.Runtime.Intrinsics;

namespace Splade.Tensors;

public static unsafe partial class Attention
{
    private const int MaxBlockedHeadDim = 128;
    private const int KeyBlock = 64; // keys per register block of the score loop (4 × Vector512)

    [ThreadStatic] private static float[]? t_scratch;

    /// <summary>
    /// Vectorised attention for head widths that are a multiple of 16. Per (sequence, head): K_h is
    /// transposed once into Kᵀ [d, keys] (keys padded to 64 with zeros), so a score row is
    /// Σ_d q[d]·Kᵀ[d, :] with the keys in vector lanes; the context row is Σ_j p[j]·V[j, :] with the
    /// head dimension in lanes. Every score and context value is a fixed-order sum that depends only
    /// on its own sequence, so batching and threading do not change results.
    /// </summary>
    private static void ForwardBlocked(ReadOnlySpan<float> q, ReadOnlySpan<float> k, ReadOnlySpan<float> v, int ld,
        int[] starts, int[] lengths, int heads, int headDim, float scale, ReadOnlySpan<float> keyMask, Span<float> context, int ldc, ComputePool pool)
    {
        bool masked = !keyMask.IsEmpty;
        fixed (float* pq = q, pk = k, pv = v, pm = keyMask, pc = context)
        {
            nint aq = (nint)pq, ak = (nint)pk, av = (nint)pv, am = (nint)pm, ac = (nint)pc;
            pool.For(starts.Length * heads, job =>
            {
                int s = job / heads, h = job % heads;
                int start = starts[s], len = lengths[s];
                if (len == 0) return;
                int padded = (len + KeyBlock - 1) / KeyBlock * KeyBlock;
                int need = headDim * padded + padded;
                float[] buffer = t_scratch is { } b && b.Length >= need ? b : (t_scratch = new float[Math.Max(need, 64 * 1024)]);
                fixed (float* scratch = buffer)
                {
                    float* kt = scratch;                      // [headDim, padded]
                    float* scores = scratch + headDim * padded; // [padded]
                    int col = h * headDim;
                    float* kBase = (float*)ak + (long)start * ld + col;
                    for (int j = 0; j < len; j++)
                        for (int d = 0; d < headDim; d++) kt[d * padded + j] = kBase[(long)j * ld + d];
                    for (int d = 0; d < headDim; d++)
                        new Span<float>(kt + d * padded + len, padded - len).Clear();
                    float* maskRow = masked ? (float*)am + start : null;
                    for (int i = 0; i < len; i++)
                    {
                        float* qi = (float*)aq + (long)(start + i) * ld + col;
                        ScoreRow(qi, kt, headDim, padded, scores);
                        var row = new Span<float>(scores, len);
                        if (masked)
                            for (int j = 0; j < len; j++) row[j] = row[j] * scale + maskRow[j];
                        else
                            System.Numerics.Tensors.TensorPrimitives.Multiply(row, scale, row);
                        Softmax.Forward(row);
                        ContextRow(scores, len, (float*)av + (long)start * ld + col, ld, headDim, (float*)ac + (long)(start + i) * ldc + col);
                    }
                }
            });
        }
    }

    /// <summary>scores[j] = Σ_d q[d]·kt[d, j] for j in [0, padded), d ascending.</summary>
    private static void ScoreRow(float* q, float* kt, int headDim, int padded, float* scores)
    {
        for (int j0 = 0; j0 < padded; j0 += KeyBlock)
        {
            Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
            float* kp = kt + j0;
            for (int d = 0; d < headDim; d++, kp += padded)
            {
                Vector512<float> qd = Vector512.Create(q[d]);
                a0 = Vector512.FusedMultiplyAdd(qd, Vector512.Load(kp), a0);
                a1 = Vector512.FusedMultiplyAdd(qd, Vector512.Load(kp + 16), a1);
                a2 = Vector512.FusedMultiplyAdd(qd, Vector512.Load(kp + 32), a2);
                a3 = Vector512.FusedMultiplyAdd(qd, Vector512.Load(kp + 48), a3);
            }
            a0.Store(scores + j0); a1.Store(scores + j0 + 16); a2.Store(scores + j0 + 32); a3.Store(scores + j0 + 48);
        }
    }

    /// <summary>c[0..headDim) = Σ_j p[j]·v[j, :], j ascending.</summary>
    private static void ContextRow(float* p, int len, float* v, int ld, int headDim, float* c)
    {
        for (int d0 = 0; d0 < headDim; d0 += 64)
        {
            int width = Math.Min(64, headDim - d0);
            Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
            float* vp = v + d0;
            if (width == 64)
            {
                for (int j = 0; j < len; j++, vp += ld)
                {
                    Vector512<float> pj = Vector512.Create(p[j]);
                    a0 = Vector512.FusedMultiplyAdd(pj, Vector512.Load(vp), a0);
                    a1 = Vector512.FusedMultiplyAdd(pj, Vector512.Load(vp + 16), a1);
                    a2 = Vector512.FusedMultiplyAdd(pj, Vector512.Load(vp + 32), a2);
                    a3 = Vector512.FusedMultiplyAdd(pj, Vector512.Load(vp + 48), a3);
                }
                a0.Store(c + d0); a1.Store(c + d0 + 16); a2.Store(c + d0 + 32); a3.Store(c + d0 + 48);
            }
            else
            {
                for (int j = 0; j < len; j++, vp += ld)
                {
                    Vector512<float> pj = Vector512.Create(p[j]);
                    a0 = Vector512.FusedMultiplyAdd(pj, Vector512.Load(vp), a0);
                    if (width > 16) a1 = Vector512.FusedMultiplyAdd(pj, Vector512.Load(vp + 16), a1);
                    if (width > 32) a2 = Vector512.FusedMultiplyAdd(pj, Vector512.Load(vp + 32), a2);
                }
                a0.Store(c + d0);
                if (width > 16) a1.Store(c + d0 + 16);
                if (width > 32) a2.Store(c + d0 + 32);
            }
        }
    }
}
