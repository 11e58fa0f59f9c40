using ILGPU;

namespace Splade.Cuda.Kernels;

/// <summary>
/// y = LayerNorm(x + residual) row by row (biased variance, as torch.nn.LayerNorm), one group of
/// threads (a power of two up to 32) per row; the threads stride over the columns, the mean and then the variance of the
/// deviations are reduced in shared memory (two passes, as the CPU kernel). y may alias x or residual.
/// </summary>
internal static class LayerNormKernel
{
    /// <summary>Grid: rows groups. x, residual, y: [rows, cols]; gamma, beta: [cols].</summary>
    public static void Forward(ArrayView<float> x, ArrayView<float> residual, int hasResidual, ArrayView<float> y,
        ArrayView<float> gamma, ArrayView<float> beta, int cols, float eps)
    {
        int row = Grid.IdxX, tid = Group.IdxX, groupSize = Group.DimX;
        long o = (long)row * cols;
        var red = SharedMemory.Allocate<float>(GroupReduce.MaxGroupSize);
        float sum = 0f;
        for (int c = tid; c < cols; c += groupSize)
        {
            float v = hasResidual != 0 ? x[o + c] + residual[o + c] : x[o + c];
            y[o + c] = v;
            sum += v;
        }
        float mean = GroupReduce.Sum(red, sum, tid) / cols;
        float sq = 0f;
        for (int c = tid; c < cols; c += groupSize)
        {
            float d = y[o + c] - mean;
            sq += d * d;
        }
        float variance = GroupReduce.Sum(red, sq, tid) / cols;
        float rstd = 1f / ILGPU.Algorithms.XMath.Sqrt(variance + eps);
        for (int c = tid; c < cols; c += groupSize)
            y[o + c] = (y[o + c] - mean) * rstd * gamma[c] + beta[c];
    }
}
