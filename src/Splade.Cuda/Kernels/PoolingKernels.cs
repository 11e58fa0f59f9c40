using ILGPU;
using ILGPU.Algorithms;

namespace Splade.Cuda.Kernels;

/// <summary>
/// SPLADE pooling straight from a chunk of decoder logits held on the device, and the compaction of the pooled rows
/// into their non-zeros (only those go back to the host).
/// </summary>
internal static class PoolingKernels
{
    /// <summary>
    /// One thread per (sequence of the chunk, vocabulary column j), looping over the sequence's tokens: reads
    /// logits[t, j] across adjacent j (coalesced), no atomics. Max: f(max_t(logit + bias)) (f is monotone, as the CPU);
    /// sum: Σ_t f(logit + bias). n = sequences·vocab, grid-stride. logits [chunkTokens, vocab]; seqStart/seqLength index the
    /// chunk's rows; pooled [batch, vocab] is written at row firstSequence + s.
    /// </summary>
    public static void Pool(int n, ArrayView<float> logits, ArrayView<float> bias, ArrayView<int> seqStart, ArrayView<int> seqLength,
        ArrayView<float> pooled, int vocab, int firstSequence, int chunkFirstToken, int isMax, int code)
    {
        for (int i = Stride.First; i < n; i += Stride.Step)
            PoolOne(i, logits, bias, seqStart, seqLength, pooled, vocab, firstSequence, chunkFirstToken, isMax, code);
    }

    private static void PoolOne(int i, ArrayView<float> logits, ArrayView<float> bias, ArrayView<int> seqStart, ArrayView<int> seqLength,
        ArrayView<float> pooled, int vocab, int firstSequence, int chunkFirstToken, int isMax, int code)
    {
        int s = i / vocab, j = i - s * vocab;
        int seq = firstSequence + s;
        int t0 = seqStart[seq] - chunkFirstToken, len = seqLength[seq];
        float b = bias[j];
        float acc;
        if (isMax != 0)
        {
            float m = float.NegativeInfinity;
            for (int t = 0; t < len; t++) m = XMath.Max(m, logits[(long)(t0 + t) * vocab + j] + b);
            acc = len == 0 ? 0f : DeviceMath.Apply(code, m);
        }
        else
        {
            acc = 0f;
            for (int t = 0; t < len; t++) acc += DeviceMath.Apply(code, logits[(long)(t0 + t) * vocab + j] + b);
        }
        pooled[(long)seq * vocab + j] = acc;
    }

    /// <summary>Columns per compaction block.</summary>
    public const int Block = 256;

    /// <summary>counts[r, b] = non-zeros of pooled row r, columns [b·Block, (b+1)·Block). n = rows·blocks, grid-stride.</summary>
    public static void CountNonZero(int n, ArrayView<float> pooled, ArrayView<int> counts, int vocab, int blocks)
    {
        for (int i = Stride.First; i < n; i += Stride.Step)
        {
            int r = i / blocks, b = i - r * blocks;
            int c0 = b * Block, c1 = XMath.Min(vocab, c0 + Block);
            int count = 0;
            for (int c = c0; c < c1; c++) if (pooled[(long)r * vocab + c] != 0f) count++;
            counts[i] = count;
        }
    }

    /// <summary>Writes the non-zeros of each block at offsets[r, b] (an exclusive prefix sum of the counts), ascending column order.</summary>
    public static void Compact(int n, ArrayView<float> pooled, ArrayView<int> offsets, ArrayView<int> indices, ArrayView<float> values, int vocab, int blocks)
    {
        for (int i = Stride.First; i < n; i += Stride.Step)
        {
            int r = i / blocks, b = i - r * blocks;
            int c0 = b * Block, c1 = XMath.Min(vocab, c0 + Block);
            int o = offsets[i];
            for (int c = c0; c < c1; c++)
            {
                float v = pooled[(long)r * vocab + c];
                if (v != 0f) { indices[o] = c; values[o] = v; o++; }
            }
        }
    }
}
