using System.Runtime.Intrinsics;

namespace Splade.Tensors;

public static unsafe partial class Attention
{
    [ThreadStatic] private static float[]? t_trainingScratch;

    private static bool UseBlocked(int headDim) =>
        Vector512.IsHardwareAccelerated && headDim % 16 == 0 && headDim <= MaxBlockedHeadDim;

    /// <summary>
    /// The training forward on the inference register blocks (<see cref="ScoreRows4"/>, <see cref="ScaledSoftmax"/>,
    /// <see cref="ContextRows4"/>): per (sequence, head) Kᵀ [d, padded] once; each score row is softmaxed in
    /// the padded scratch, copied out as P, multiplied by its dropout row and used for the context rows.
    /// </summary>
    private static void TrainingForwardBlocked(float* q, float* k, float* v, int ld, int[] starts, int[] lengths, int[] offsets,
        int heads, int headDim, float scale, float* probabilities, float* dropMask, float* context, int ldc, ComputePool pool)
    {
        nint aq = (nint)q, ak = (nint)k, av = (nint)v, ap = (nint)probabilities, am = (nint)dropMask, ac = (nint)context;
        pool.For(starts.Length * heads, job =>
        {
            int s = job / heads, h = job % heads, L = lengths[s];
            if (L == 0) return;
            int padded = (L + KeyBlock - 1) / KeyBlock * KeyBlock;
            int need = headDim * padded + 4 * padded;
            float[] buffer = t_trainingScratch is { } b && b.Length >= need ? b : (t_trainingScratch = new float[Math.Max(need, 64 * 1024)]);
            int col = h * headDim;
            long row0 = (long)starts[s];
            float* qb = (float*)aq + row0 * ld + col, kb = (float*)ak + row0 * ld + col, vb = (float*)av + row0 * ld + col;
            float* cb = (float*)ac + row0 * ldc + col;
            float* pBlock = (float*)ap + offsets[s] + (long)h * L * L;
            float* mBlock = am == 0 ? null : (float*)am + offsets[s] + (long)h * L * L;
            fixed (float* scratch = buffer)
            {
                float* kt = scratch;                          // [headDim, padded]
                float* scores = scratch + headDim * padded;   // [4, padded]
                TransposeHead(kb, ld, L, headDim, padded, kt);
                int i = 0;
                for (; i + 4 <= L && headDim == 64; i += 4)
                {
                    ScoreRows4(qb + (long)i * ld, ld, kt, padded, scores);
                    for (int r = 0; r < 4; r++) SoftmaxKeepDrop(scores + r * padded, L, padded, scale, pBlock + (long)(i + r) * L, mBlock == null ? null : mBlock + (long)(i + r) * L);
                    ContextRows4(scores, padded, L, vb, ld, cb + (long)i * ldc, ldc);
                }
                for (; i < L; i++)
                {
                    ScoreRow(qb + (long)i * ld, kt, headDim, padded, scores);
                    SoftmaxKeepDrop(scores, L, padded, scale, pBlock + (long)i * L, mBlock == null ? null : mBlock + (long)i * L);
                    ContextRow(scores, L, vb, ld, headDim, cb + (long)i * ldc);
                }
            }
        });
    }

    /// <summary>Softmax of one padded score row in place, P copied to <paramref name="p"/> [L], then the row times its dropout factors.</summary>
    private static void SoftmaxKeepDrop(float* row, int L, int padded, float scale, float* p, float* mask)
    {
        ScaledSoftmax(row, L, padded, scale, null);
        new ReadOnlySpan<float>(row, L).CopyTo(new Span<float>(p, L));
        if (mask != null) System.Numerics.Tensors.TensorPrimitives.Multiply(new ReadOnlySpan<float>(row, L), new ReadOnlySpan<float>(mask, L), new Span<float>(row, L));
    }

    /// <summary>dst[d, j] = src[j, d] for j &lt; rows, zeros for j in [rows, padded) ([headDim, padded]).</summary>
    private static void TransposeHead(float* src, int ld, int rows, int headDim, int padded, float* dst)
    {
        for (int j = 0; j < rows; j++)
            for (int d = 0; d < headDim; d++) dst[d * padded + j] = src[(long)j * ld + d];
        for (int d = 0; d < headDim; d++)
            new Span<float>(dst + d * padded + rows, padded - rows).Clear();
    }

    /// <summary>
    /// The training backward on the same register blocks. Per (sequence, head), all [L, padded] row-major in scratch:
    /// dP = dC·Vᵀ (score blocks on Vᵀ), times the dropout mask; dS = softmax backward, times scale;
    /// dQ = dS·K, dK = dSᵀ·Q, dV = P̃ᵀ·dC (context blocks on dS, dSᵀ and P̃ᵀ). Every output row is a fixed-order
    /// sum over the sequence's tokens: results do not depend on the thread count.
    /// </summary>
    private static void BackwardBlocked(float* q, float* k, float* v, int ld, int[] starts, int[] lengths, int[] offsets,
        int heads, int headDim, float scale, float* probabilities, float* dropMask, float* dContext, int lddc,
        float* dq, float* dk, float* dv, ComputePool pool)
    {
        nint aq = (nint)q, ak = (nint)k, av = (nint)v, ap = (nint)probabilities, am = (nint)dropMask, adc = (nint)dContext;
        nint adq = (nint)dq, adk = (nint)dk, adv = (nint)dv;
        pool.For(starts.Length * heads, job =>
        {
            int s = job / heads, h = job % heads, L = lengths[s];
            if (L == 0) return;
            int padded = (L + KeyBlock - 1) / KeyBlock * KeyBlock;
            int need = headDim * padded + 3 * L * padded;
            float[] buffer = t_trainingScratch is { } b && b.Length >= need ? b : (t_trainingScratch = new float[Math.Max(need, 64 * 1024)]);
            long baseRow = (long)starts[s] * ld + h * headDim;
            float* qb = (float*)aq + baseRow, kb = (float*)ak + baseRow, vb = (float*)av + baseRow;
            float* dqb = (float*)adq + baseRow, dkb = (float*)adk + baseRow, dvb = (float*)adv + baseRow;
            float* dcb = (float*)adc + (long)starts[s] * lddc + h * headDim;
            float* pBlock = (float*)ap + offsets[s] + (long)h * L * L;
            float* mBlock = am == 0 ? null : (float*)am + offsets[s] + (long)h * L * L;
            fixed (float* scratch = buffer)
            {
                float* vt = scratch;                          // [headDim, padded]
                float* ds = vt + headDim * padded;            // [L, padded]: dP, then dS
                float* dst = ds + L * padded;                 // [L, padded]: dSᵀ
                float* pt = dst + L * padded;                 // [L, padded]: P̃ᵀ
                TransposeHead(vb, ld, L, headDim, padded, vt);
                int i = 0;
                for (; i + 4 <= L && headDim == 64; i += 4) ScoreRows4(dcb + (long)i * lddc, lddc, vt, padded, ds + (long)i * padded);
                for (; i < L; i++) ScoreRow(dcb + (long)i * lddc, vt, headDim, padded, ds + (long)i * padded);
                for (i = 0; i < L; i++)
                {
                    float* dsi = ds + (long)i * padded, pi = pBlock + (long)i * L;
                    var dsRow = new Span<float>(dsi, L);
                    if (mBlock != null) System.Numerics.Tensors.TensorPrimitives.Multiply(dsRow, new ReadOnlySpan<float>(mBlock + (long)i * L, L), dsRow);
                    Softmax.Backward(new ReadOnlySpan<float>(pi, L), dsRow, dsRow);
                    System.Numerics.Tensors.TensorPrimitives.Multiply(dsRow, scale, dsRow);
                    float* mi = mBlock == null ? null : mBlock + (long)i * L;
                    for (int j = 0; j < L; j++)
                    {
                        dst[(long)j * padded + i] = dsi[j];
                        pt[(long)j * padded + i] = mi == null ? pi[j] : pi[j] * mi[j];
                    }
                }
                i = 0;
                for (; i + 4 <= L && headDim == 64; i += 4)
                {
                    ContextRows4(ds + (long)i * padded, padded, L, kb, ld, dqb + (long)i * ld, ld);
                    ContextRows4(dst + (long)i * padded, padded, L, qb, ld, dkb + (long)i * ld, ld);
                    ContextRows4(pt + (long)i * padded, padded, L, dcb, lddc, dvb + (long)i * ld, ld);
                }
                for (; i < L; i++)
                {
                    ContextRow(ds + (long)i * padded, L, kb, ld, headDim, dqb + (long)i * ld);
                    ContextRow(dst + (long)i * padded, L, qb, ld, headDim, dkb + (long)i * ld);
                    ContextRow(pt + (long)i * padded, L, dcb, lddc, headDim, dvb + (long)i * ld);
                }
            }
        });
    }
}
