using System.Numerics.Tensors;

namespace Splade.Tensors;

/// <summary>
/// The MLM decoder fused with SPLADE pooling, forward and backward, for training. With logits
/// z[t, j] = h_t·W_j + b_j over the tokens t of sequence s and f = log1p∘relu (or log1p∘log1p∘relu):
/// max pooling w[s, j] = max_t f(z[t, j]) = f(max(0, max_t z[t, j])) (f is monotone), computed by
/// <see cref="ScreenedColumnMax"/>, which also gives the first token holding the maximum. Its gradient,
/// like torch.max's, reaches only that token, and only where the maximum is positive (relu'(0) = 0):
/// with g = dw[s, j]·f'(z*), dW_j += g·h_t*, dh_t* += g·W_j, db_j += g, a sparse outer product over
/// the active columns; the [tokens × vocab] logits never exist. Sum pooling w[s, j] = Σ_t f(z[t, j])
/// has a dense gradient and runs on the packed GEMM in blocks of the vocabulary.
/// </summary>
public static class PooledDecoder
{
    private const int VocabBlock = 2048;
    private const int ColumnsPerJob = 256;

    /// <summary>
    /// Max pooling: maxLogit [S, V] = max(0, max_t z), argMax [S, V] (token within its sequence, −1 where
    /// maxLogit is 0) and pooled [S, V] = f(maxLogit). <paramref name="screen"/> is the screened copy of
    /// W and b (null where <see cref="QuantizedMatrix.IsSupported"/> is false: the logits are then
    /// computed densely in vocabulary blocks).
    /// </summary>
    public static void MaxForward(ReadOnlySpan<float> hidden, int k, ReadOnlySpan<int> starts, ReadOnlySpan<int> lengths,
        ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, int vocab, QuantizedMatrix? screen, ElementTransform activation,
        Span<float> maxLogit, Span<int> argMax, Span<float> pooled, ComputePool pool)
    {
        int segments = starts.Length;
        if (screen is not null) ScreenedColumnMax.Run(hidden, k, starts, lengths, screen, maxLogit, argMax, pool);
        else DenseMax(hidden, k, starts, lengths, weight, bias, vocab, maxLogit, argMax, pool);
        maxLogit[..(segments * vocab)].CopyTo(pooled);
        Activations.Apply(activation, pooled[..(segments * vocab)]);
    }

    /// <summary>
    /// Backward of <see cref="MaxForward"/>: dHidden [tokens, k], dWeight [V, k] and dBias [V] accumulate.
    /// Columns are split over jobs for dW and db (sequences added in order), sequences for dh (columns
    /// added in order), so the result does not depend on the thread count.
    /// </summary>
    public static unsafe void MaxBackward(ReadOnlySpan<float> hidden, int k, ReadOnlySpan<int> starts, ReadOnlySpan<int> lengths,
        ReadOnlySpan<float> weight, int vocab, ReadOnlySpan<float> maxLogit, ReadOnlySpan<int> argMax, ReadOnlySpan<float> dPooled,
        ElementTransform activation, Span<float> dHidden, Span<float> dWeight, Span<float> dBias, ComputePool pool)
    {
        int segments = starts.Length;
        float[] g = ActiveGradients(maxLogit, argMax, dPooled, activation, segments * vocab);
        int[] st = starts.ToArray();
        fixed (float* ph = hidden, pw = weight, pdh = dHidden, pdw = dWeight, pdb = dBias, pg = g)
        fixed (int* parg = argMax)
        {
            nint ah = (nint)ph, aw = (nint)pw, adh = (nint)pdh, adw = (nint)pdw, adb = (nint)pdb, ag = (nint)pg, aarg = (nint)parg;
            pool.For((vocab + ColumnsPerJob - 1) / ColumnsPerJob, job =>
            {
                int j1 = Math.Min(vocab, (job + 1) * ColumnsPerJob);
                for (int j = job * ColumnsPerJob; j < j1; j++)
                {
                    var dwj = new Span<float>((float*)adw + (long)j * k, k);
                    for (int s = 0; s < segments; s++)
                    {
                        float gv = ((float*)ag)[(long)s * vocab + j];
                        if (gv == 0) continue;
                        int t = st[s] + ((int*)aarg)[(long)s * vocab + j];
                        TensorPrimitives.MultiplyAdd(new ReadOnlySpan<float>((float*)ah + (long)t * k, k), gv, dwj, dwj);
                        ((float*)adb)[j] += gv;
                    }
                }
            });
            pool.For(segments, s =>
            {
                for (int j = 0; j < vocab; j++)
                {
                    float gv = ((float*)ag)[(long)s * vocab + j];
                    if (gv == 0) continue;
                    var dht = new Span<float>((float*)adh + (long)(st[s] + ((int*)aarg)[(long)s * vocab + j]) * k, k);
                    TensorPrimitives.MultiplyAdd(new ReadOnlySpan<float>((float*)aw + (long)j * k, k), gv, dht, dht);
                }
            });
        }
    }

    /// <summary>Plain twin of <see cref="MaxBackward"/>: one sequence, column and element after another.</summary>
    public static void MaxBackwardReference(ReadOnlySpan<float> hidden, int k, ReadOnlySpan<int> starts, ReadOnlySpan<float> weight, int vocab,
        ReadOnlySpan<float> maxLogit, ReadOnlySpan<int> argMax, ReadOnlySpan<float> dPooled, ElementTransform activation,
        Span<float> dHidden, Span<float> dWeight, Span<float> dBias)
    {
        for (int s = 0; s < starts.Length; s++)
            for (int j = 0; j < vocab; j++)
            {
                int i = s * vocab + j;
                if (argMax[i] < 0 || !(maxLogit[i] > 0)) continue;
                float g = (float)(dPooled[i] * ActivationsReference.Derivative(activation, maxLogit[i]));
                int t = starts[s] + argMax[i];
                for (int c = 0; c < k; c++)
                {
                    dWeight[j * k + c] += g * hidden[t * k + c];
                    dHidden[t * k + c] += g * weight[j * k + c];
                }
                dBias[j] += g;
            }
    }

    /// <summary>g = dw·f'(z*) where the column is active (positive maximum, a token recorded), else 0.</summary>
    private static float[] ActiveGradients(ReadOnlySpan<float> maxLogit, ReadOnlySpan<int> argMax, ReadOnlySpan<float> dPooled, ElementTransform activation, int count)
    {
        var g = new float[count];
        for (int i = 0; i < count; i++)
        {
            if (argMax[i] < 0 || dPooled[i] == 0 || !(maxLogit[i] > 0)) continue;
            g[i] = (float)(dPooled[i] * ActivationsReference.Derivative(activation, maxLogit[i]));
        }
        return g;
    }

    /// <summary>Exact column max without the integer screen: logits of one vocabulary block at a time on the packed GEMM.</summary>
    private static void DenseMax(ReadOnlySpan<float> hidden, int k, ReadOnlySpan<int> starts, ReadOnlySpan<int> lengths,
        ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, int vocab, Span<float> maxLogit, Span<int> argMax, ComputePool pool)
    {
        int segments = starts.Length, tokens = TokenCount(starts, lengths);
        maxLogit[..(segments * vocab)].Clear();
        argMax[..(segments * vocab)].Fill(-1);
        if (tokens == 0) return;
        float[] logits = new float[(long)tokens * Math.Min(VocabBlock, vocab)];
        for (int j0 = 0; j0 < vocab; j0 += VocabBlock)
        {
            int c = Math.Min(VocabBlock, vocab - j0);
            var block = PackedMatrix.Pack(weight.Slice(j0 * k, c * k), c, k, bias.IsEmpty ? bias : bias.Slice(j0, c));
            Gemm.Linear(hidden, tokens, k, block, logits, c, pool);
            for (int s = 0; s < segments; s++)
                for (int j = 0; j < c; j++)
                {
                    float best = 0;
                    int arg = -1;
                    for (int t = 0; t < lengths[s]; t++)
                    {
                        float z = logits[(starts[s] + t) * c + j];
                        if (z > best) { best = z; arg = t; }
                    }
                    maxLogit[s * vocab + j0 + j] = best;
                    argMax[s * vocab + j0 + j] = arg;
                }
        }
    }

    /// <summary>Sum pooling: pooled [S, V] = Σ_t f(h_t·W_j + b_j) in row order (<paramref name="packed"/> = Pack(W, b)).</summary>
    public static void SumForward(ReadOnlySpan<float> hidden, int k, ReadOnlySpan<int> starts, ReadOnlySpan<int> lengths, PackedMatrix packed,
        ElementTransform activation, Span<float> pooled, ComputePool pool) =>
        Gemm.LinearColumnReduce(hidden, k, starts, lengths, packed, ColumnReduction.Sum, activation, pooled, pool);

    /// <summary>
    /// Backward of <see cref="SumForward"/> (dense: every token's logit has a gradient): per vocabulary
    /// block, the logits again, dz = dw[s(t), j]·f'(z), then dh += dz·W_block, dW_block += dzᵀ·h, db += Σ_t dz.
    /// </summary>
    public static void SumBackward(ReadOnlySpan<float> hidden, int k, ReadOnlySpan<int> starts, ReadOnlySpan<int> lengths,
        ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, int vocab, ReadOnlySpan<float> dPooled, ElementTransform activation,
        Span<float> dHidden, Span<float> dWeight, Span<float> dBias, ComputePool pool)
    {
        int segments = starts.Length, tokens = TokenCount(starts, lengths);
        if (tokens == 0) return;
        var segmentOf = new int[tokens];
        for (int s = 0; s < segments; s++) for (int t = 0; t < lengths[s]; t++) segmentOf[starts[s] + t] = s;
        float[] dz = new float[(long)tokens * Math.Min(VocabBlock, vocab)];
        for (int j0 = 0; j0 < vocab; j0 += VocabBlock)
        {
            int c = Math.Min(VocabBlock, vocab - j0);
            ReadOnlySpan<float> wBlock = weight.Slice(j0 * k, c * k);
            var block = PackedMatrix.Pack(wBlock, c, k, bias.IsEmpty ? bias : bias.Slice(j0, c));
            Gemm.Linear(hidden, tokens, k, block, dz, c, pool);
            for (int t = 0; t < tokens; t++)
                for (int j = 0; j < c; j++)
                {
                    int i = t * c + j;
                    dz[i] = (float)(dPooled[segmentOf[t] * vocab + j0 + j] * ActivationsReference.Derivative(activation, dz[i]));
                }
            Gemm.BackwardInput(dz, tokens, c, PackedMatrix.PackTransposed(wBlock, c, k, k, pool), dHidden, k, accumulate: true, pool);
            Gemm.BackwardWeight(hidden, dz, tokens, k, c, dWeight.Slice(j0 * k, c * k), dBias.Slice(j0, c), pool);
        }
    }

    private static int TokenCount(ReadOnlySpan<int> starts, ReadOnlySpan<int> lengths)
    {
        int tokens = 0;
        for (int s = 0; s < starts.Length; s++) tokens = Math.Max(tokens, starts[s] + lengths[s]);
        return tokens;
    }
}
