using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Splade.Tensors;

public static unsafe partial class Attention
{
    private const int MaxBlockedHeadDim = 128;
    private const int KeyBlock = 32; // keys per register block of the score loops (2 × Vector512); rows are padded to a multiple of it

    [ThreadStatic] private static float[]? t_scratch;

    /// <summary>
    /// Vectorised attention for head widths that are a multiple of 16. Per (sequence, head): K_h is
    /// transposed once into Kᵀ [d, keys] (keys padded to 32 with zeros), so a score row is
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
                int need = headDim * padded + 4 * padded;
                float[] buffer = t_scratch is { } b && b.Length >= need ? b : (t_scratch = new float[Math.Max(need, 64 * 1024)]);
                fixed (float* scratch = buffer)
                {
                    float* kt = scratch;                      // [headDim, padded]
                    float* scores = scratch + headDim * padded; // [4, padded]
                    int col = h * headDim;
                    float* kBase = (float*)ak + (long)start * ld + col;
                    for (int j = 0; j < len; j++)
                        for (int d = 0; d < headDim; d++) kt[d * padded + j] = kBase[(long)j * ld + d];
                    for (int d = 0; d < headDim; d++)
                        new Span<float>(kt + d * padded + len, padded - len).Clear();
                    float* maskRow = masked ? (float*)am + start : null;
                    float* vBase = (float*)av + (long)start * ld + col;
                    int i = 0;
                    for (; i + 4 <= len && headDim == 64; i += 4)
                    {
                        float* qi = (float*)aq + (long)(start + i) * ld + col;
                        ScoreRows4(qi, ld, kt, padded, scores);
                        for (int r = 0; r < 4; r++) ScaledSoftmax(scores + r * padded, len, padded, scale, maskRow);
                        ContextRows4(scores, padded, len, vBase, ld, (float*)ac + (long)(start + i) * ldc + col, ldc);
                    }
                    for (; i < len; i++)
                    {
                        float* qi = (float*)aq + (long)(start + i) * ld + col;
                        ScoreRow(qi, kt, headDim, padded, scores);
                        ScaledSoftmax(scores, len, padded, scale, maskRow);
                        ContextRow(scores, len, vBase, ld, headDim, (float*)ac + (long)(start + i) * ldc + col);
                    }
                }
            });
        }
    }

    /// <summary>
    /// row[j] = softmax_j(row[j]·scale + mask[j]) over [0, len), in place, in one routine: Vector256
    /// passes over the padded row (lanes from len on count as −∞ and end as 0) for the maximum,
    /// exp(x − max) with the single-precision <see cref="Activations.ExpNonPositive"/> (x − max ≤ 0),
    /// the sum, and the division. Every value depends only on its own row.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ScaledSoftmax(float* row, int len, int padded, float scale, float* mask)
    {
        if (mask != null)
        {
            for (int j = 0; j < len; j++) row[j] = row[j] * scale + mask[j];
            scale = 1f;
        }
        Vector256<float> vscale = Vector256.Create(scale), ninf = Vector256.Create(float.NegativeInfinity), vmax = ninf;
        Vector256<int> lane = Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7);
        for (int j = 0; j < padded; j += 8)
        {
            Vector256<float> x = Vector256.Load(row + j) * vscale;
            x = Vector256.ConditionalSelect(Vector256.LessThan(lane, Vector256.Create(len - j)).AsSingle(), x, ninf);
            x.Store(row + j);
            vmax = Vector256.Max(vmax, x);
        }
        float max = vmax[0];
        for (int i = 1; i < 8; i++) max = Math.Max(max, vmax[i]);
        Vector256<float> vm = Vector256.Create(max), sum = Vector256<float>.Zero;
        for (int j = 0; j < padded; j += 8)
        {
            Vector256<float> e = Activations.ExpNonPositive(Vector256.Load(row + j) - vm);
            e = Vector256.ConditionalSelect(Vector256.LessThan(lane, Vector256.Create(len - j)).AsSingle(), e, Vector256<float>.Zero);
            e.Store(row + j);
            sum += e;
        }
        Vector256<float> total = Vector256.Create(Vector256.Sum(sum));
        for (int j = 0; j < padded; j += 8) (Vector256.Load(row + j) / total).Store(row + j);
    }

    /// <summary>Four score rows at once (queries q, q + ld, …; head width 64): scores[r, j] = Σ_d q_r[d]·kt[d, j], d ascending.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ScoreRows4(float* q, int ld, float* kt, int padded, float* scores)
    {
        float* q1 = q + ld, q2 = q1 + ld, q3 = q2 + ld;
        for (int j0 = 0; j0 < padded; j0 += 32)
        {
            Vector512<float> a00 = default, a01 = default, a10 = default, a11 = default;
            Vector512<float> a20 = default, a21 = default, a30 = default, a31 = default;
            float* kp = kt + j0;
            for (int d = 0; d < 64; d++, kp += padded)
            {
                Vector512<float> k0 = Vector512.Load(kp), k1 = Vector512.Load(kp + 16);
                Vector512<float> b = Vector512.Create(q[d]);
                a00 = Vector512.FusedMultiplyAdd(b, k0, a00); a01 = Vector512.FusedMultiplyAdd(b, k1, a01);
                b = Vector512.Create(q1[d]);
                a10 = Vector512.FusedMultiplyAdd(b, k0, a10); a11 = Vector512.FusedMultiplyAdd(b, k1, a11);
                b = Vector512.Create(q2[d]);
                a20 = Vector512.FusedMultiplyAdd(b, k0, a20); a21 = Vector512.FusedMultiplyAdd(b, k1, a21);
                b = Vector512.Create(q3[d]);
                a30 = Vector512.FusedMultiplyAdd(b, k0, a30); a31 = Vector512.FusedMultiplyAdd(b, k1, a31);
            }
            a00.Store(scores + j0); a01.Store(scores + j0 + 16);
            a10.Store(scores + padded + j0); a11.Store(scores + padded + j0 + 16);
            a20.Store(scores + 2 * padded + j0); a21.Store(scores + 2 * padded + j0 + 16);
            a30.Store(scores + 3 * padded + j0); a31.Store(scores + 3 * padded + j0 + 16);
        }
    }

    /// <summary>Four context rows at once (head width 64): c_r[:] = Σ_j p_r[j]·v[j, :], j ascending.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ContextRows4(float* p, int ldp, int len, float* v, int ld, float* c, int ldc)
    {
        for (int d0 = 0; d0 < 64; d0 += 32)
        {
            Vector512<float> a00 = default, a01 = default, a10 = default, a11 = default;
            Vector512<float> a20 = default, a21 = default, a30 = default, a31 = default;
            float* vp = v + d0;
            for (int j = 0; j < len; j++, vp += ld)
            {
                Vector512<float> v0 = Vector512.Load(vp), v1 = Vector512.Load(vp + 16);
                Vector512<float> b = Vector512.Create(p[j]);
                a00 = Vector512.FusedMultiplyAdd(b, v0, a00); a01 = Vector512.FusedMultiplyAdd(b, v1, a01);
                b = Vector512.Create(p[ldp + j]);
                a10 = Vector512.FusedMultiplyAdd(b, v0, a10); a11 = Vector512.FusedMultiplyAdd(b, v1, a11);
                b = Vector512.Create(p[2 * ldp + j]);
                a20 = Vector512.FusedMultiplyAdd(b, v0, a20); a21 = Vector512.FusedMultiplyAdd(b, v1, a21);
                b = Vector512.Create(p[3 * ldp + j]);
                a30 = Vector512.FusedMultiplyAdd(b, v0, a30); a31 = Vector512.FusedMultiplyAdd(b, v1, a31);
            }
            a00.Store(c + d0); a01.Store(c + d0 + 16);
            a10.Store(c + ldc + d0); a11.Store(c + ldc + d0 + 16);
            a20.Store(c + 2 * ldc + d0); a21.Store(c + 2 * ldc + d0 + 16);
            a30.Store(c + 3 * ldc + d0); a31.Store(c + 3 * ldc + d0 + 16);
        }
    }

    /// <summary>scores[j] = Σ_d q[d]·kt[d, j] for j in [0, padded), d ascending.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ScoreRow(float* q, float* kt, int headDim, int padded, float* scores)
    {
        for (int j0 = 0; j0 < padded; j0 += KeyBlock)
        {
            Vector512<float> a0 = default, a1 = default;
            float* kp = kt + j0;
            for (int d = 0; d < headDim; d++, kp += padded)
            {
                Vector512<float> qd = Vector512.Create(q[d]);
                a0 = Vector512.FusedMultiplyAdd(qd, Vector512.Load(kp), a0);
                a1 = Vector512.FusedMultiplyAdd(qd, Vector512.Load(kp + 16), a1);
            }
            a0.Store(scores + j0); a1.Store(scores + j0 + 16);
        }
    }

    /// <summary>c[0..headDim) = Σ_j p[j]·v[j, :], j ascending.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
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
