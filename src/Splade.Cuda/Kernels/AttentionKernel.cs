using ILGPU;
using ILGPU.Algorithms;

namespace Splade.Cuda.Kernels;

/// <summary>
/// Multi-head scaled dot-product attention over sequences stored back to back (no padding rows, so the attention mask
/// is the sequence bounds: a query sees exactly the keys of its own sequence, as padded keys get −∞ in BERT).
/// One group of threads (a power of two up to 32: a warp on the GPU) per (query token, head): the threads split the keys for the scores
/// (kept in dynamic shared memory, one float per key), reduce the max and the sum of the softmax, then split the
/// head's columns for context = Σ_j p_j·V_j.
/// </summary>
internal static class AttentionKernel
{
    /// <summary>
    /// Grid: tokens·heads groups; dynamic shared memory: maxLength floats. qkv [tokens, 3·hidden] (Q | K | V per row);
    /// context [tokens, hidden]; tokenStart/tokenLength [tokens]: the sequence of each token.
    /// </summary>
    public static void Forward(ArrayView<float> qkv, ArrayView<float> context, ArrayView<int> tokenStart, ArrayView<int> tokenLength,
        int heads, int headDim, float scale)
    {
        int g = Grid.IdxX, tid = Group.IdxX, groupSize = Group.DimX;
        int i = g / heads, h = g - i * heads;
        int hidden = heads * headDim, ld = 3 * hidden;
        int start = tokenStart[i], len = tokenLength[i], col = h * headDim;
        var scores = SharedMemory.GetDynamic<float>();
        var red = SharedMemory.Allocate<float>(GroupReduce.MaxGroupSize);
        long qo = (long)i * ld + col;

        float localMax = float.NegativeInfinity;
        for (int j = tid; j < len; j += groupSize)
        {
            long ko = (long)(start + j) * ld + hidden + col;
            float dot = 0f;
            for (int e = 0; e < headDim; e++) dot += qkv[qo + e] * qkv[ko + e];
            float s = dot * scale;
            scores[j] = s;
            localMax = XMath.Max(localMax, s);
        }
        float max = GroupReduce.Max(red, localMax, tid);
        float localSum = 0f;
        for (int j = tid; j < len; j += groupSize)
        {
            float p = XMath.Exp(scores[j] - max);
            scores[j] = p;
            localSum += p;
        }
        float sum = GroupReduce.Sum(red, localSum, tid);
        float inv = 1f / sum;
        for (int e = tid; e < headDim; e += groupSize)
        {
            float acc = 0f;
            for (int j = 0; j < len; j++) acc += scores[j] * qkv[(long)(start + j) * ld + 2 * hidden + col + e];
            context[(long)i * hidden + col + e] = acc * inv;
        }
    }
}
