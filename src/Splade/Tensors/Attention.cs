using System.Numerics.Tensors;
using System.Runtime.Intrinsics;

namespace Splade.Tensors;

/// <summary>
/// Multi-head scaled dot-product attention over variable-length sequences stored back to back
/// (no padding rows): for sequence s and head h, scores = Q_h K_hᵀ · scale + mask, softmax over
/// keys, context_h = P·V_h. Rows of Q, K and V are strided (they usually live side by side in one
/// fused QKV buffer); head h occupies columns [h·d, (h+1)·d).
/// </summary>
public static unsafe partial class Attention
{
    /// <summary>Runs attention for every (sequence, head) pair.</summary>
    /// <param name="q">Queries, token t at <c>q[t·ld ..]</c>.</param>
    /// <param name="k">Keys, same layout as <paramref name="q"/>.</param>
    /// <param name="v">Values, same layout as <paramref name="q"/>.</param>
    /// <param name="ld">Row stride of Q, K and V.</param>
    /// <param name="starts">First token of each sequence.</param>
    /// <param name="lengths">Tokens of each sequence.</param>
    /// <param name="heads">Number of heads.</param>
    /// <param name="headDim">Width d of one head.</param>
    /// <param name="scale">Score scale, usually 1/√d.</param>
    /// <param name="keyMask">Additive mask per token (0 for real keys, float.MinValue for padded ones), or empty for none.</param>
    /// <param name="context">Output [tokens, heads·headDim].</param>
    /// <param name="ldc">Row stride of <paramref name="context"/>.</param>
    /// <param name="scratch">At least starts.Length · heads · maxLength floats (one score row per job).</param>
    /// <param name="pool">Threads; jobs are (sequence, head) pairs.</param>
    public static void Forward(ReadOnlySpan<float> q, ReadOnlySpan<float> k, ReadOnlySpan<float> v, int ld,
        ReadOnlySpan<int> starts, ReadOnlySpan<int> lengths, int heads, int headDim, float scale,
        ReadOnlySpan<float> keyMask, Span<float> context, int ldc, Span<float> scratch, ComputePool pool)
    {
        int sequences = starts.Length;
        int maxLength = 0;
        for (int s = 0; s < sequences; s++) maxLength = Math.Max(maxLength, lengths[s]);
        if (maxLength == 0) return;
        if (scratch.Length < sequences * heads * maxLength) throw new ArgumentException("Attention scratch is too small.", nameof(scratch));
        int[] segStarts = starts.ToArray(), segLengths = lengths.ToArray();
        bool masked = !keyMask.IsEmpty;
        if (Vector512.IsHardwareAccelerated && headDim % 16 == 0 && headDim <= MaxBlockedHeadDim)
        {
            ForwardBlocked(q, k, v, ld, segStarts, segLengths, heads, headDim, scale, keyMask, context, ldc, pool);
            return;
        }
        fixed (float* pq = q, pk = k, pv = v, pm = keyMask, pc = context, ps = scratch)
        {
            nint aq = (nint)pq, ak = (nint)pk, av = (nint)pv, am = (nint)pm, ac = (nint)pc, asc = (nint)ps;
            pool.For(sequences * heads, job =>
            {
                int s = job / heads, h = job % heads;
                int start = segStarts[s], len = segLengths[s];
                var scores = new Span<float>((float*)asc + (long)job * maxLength, len);
                int col = h * headDim;
                for (int i = 0; i < len; i++)
                {
                    var qi = new ReadOnlySpan<float>((float*)aq + (long)(start + i) * ld + col, headDim);
                    for (int j = 0; j < len; j++)
                    {
                        var kj = new ReadOnlySpan<float>((float*)ak + (long)(start + j) * ld + col, headDim);
                        float score = TensorPrimitives.Dot(qi, kj) * scale;
                        scores[j] = masked ? score + ((float*)am)[start + j] : score;
                    }
                    Softmax.Forward(scores);
                    var ci = new Span<float>((float*)ac + (long)(start + i) * ldc + col, headDim);
                    ci.Clear();
                    for (int j = 0; j < len; j++)
                    {
                        var vj = new ReadOnlySpan<float>((float*)av + (long)(start + j) * ld + col, headDim);
                        TensorPrimitives.MultiplyAdd(vj, scores[j], ci, ci);
                    }
                }
            });
        }
    }

    /// <summary>
    /// Plain twin over one padded sequence block: every token of [0, length) attends to every key,
    /// padded keys receiving <c>float.MinValue</c> as in Hugging Face BERT's extended attention mask.
    /// </summary>
    public static void Reference(ReadOnlySpan<float> q, ReadOnlySpan<float> k, ReadOnlySpan<float> v, int ld, int length,
        ReadOnlySpan<int> attentionMask, int heads, int headDim, Span<float> context, int ldc)
    {
        double scale = 1.0 / Math.Sqrt(headDim);
        var p = new double[length];
        for (int h = 0; h < heads; h++)
        {
            int col = h * headDim;
            for (int i = 0; i < length; i++)
            {
                double max = double.NegativeInfinity;
                for (int j = 0; j < length; j++)
                {
                    double dot = 0;
                    for (int d = 0; d < headDim; d++) dot += (double)q[i * ld + col + d] * k[j * ld + col + d];
                    p[j] = (float)(dot * scale) + (attentionMask[j] == 0 ? float.MinValue : 0f);
                    max = Math.Max(max, p[j]);
                }
                double sum = 0;
                for (int j = 0; j < length; j++) { p[j] = Math.Exp(p[j] - max); sum += p[j]; }
                for (int d = 0; d < headDim; d++)
                {
                    double acc = 0;
                    for (int j = 0; j < length; j++) acc += p[j] / sum * v[j * ld + col + d];
                    context[i * ldc + col + d] = (float)acc;
                }
            }
        }
    }
}
