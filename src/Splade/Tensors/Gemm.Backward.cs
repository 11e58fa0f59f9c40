namespace Splade.Tensors;

/// <summary>
/// The two backward products of <see cref="Gemm.Linear(ReadOnlySpan{float}, int, int, PackedMatrix, Span{float}, int, ComputePool)"/>
/// on the same packed register-tile kernel. For Y[M, N] = X[M, K]·Wᵀ + b:
/// dX[M, K] = dY·W, run as a Linear with Wᵀ packed (<see cref="PackedMatrix.PackTransposed"/>);
/// dW[N, K] += dYᵀ·X, run as a Linear of dYᵀ [N, M] against Xᵀ packed, the reduction over the M rows
/// being one FMA chain per element in ascending row order; db[N] += Σ_rows dY in row order. Jobs split
/// output rows and columns only, so the result does not depend on the thread count.
/// </summary>
public static partial class Gemm
{

    /// <summary>dX[m, K] (stride <paramref name="lddx"/>) = dY[m, N]·W, or += when <paramref name="accumulate"/>; <paramref name="wTransposed"/> = PackTransposed(W[N, K]).</summary>
    public static void BackwardInput(ReadOnlySpan<float> dy, int m, int lddy, PackedMatrix wTransposed, Span<float> dx, int lddx, bool accumulate, ComputePool pool)
    {
        if (accumulate) LinearAccumulate(dy, m, lddy, wTransposed, dx, lddx, pool);
        else Linear(dy, m, lddy, wTransposed, dx, lddx, pool);
    }

    /// <summary>
    /// dW[n, k] += dY[m, n]ᵀ·X[m, k] and, unless <paramref name="dBias"/> is empty, dBias[n] += Σ_rows dY
    /// (X and dY dense, row strides k and n). With Vector512 the product runs on <see cref="WeightGradient"/>,
    /// which reads X and dY in place; otherwise on the Linear kernel with dY transposed and X packed
    /// (<see cref="BackwardWeightPacked"/>). Both compute each element as one FMA chain over the rows in
    /// ascending order, then add it to dW once, so they agree bit for bit.
    /// </summary>
    public static void BackwardWeight(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, int m, int k, int n, Span<float> dW, Span<float> dBias, ComputePool pool)
    {
        if (m == 0) return;
        CheckWeightOperands(x, dy, m, k, n, dW, dBias);
        if (System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated) WeightGradient.Accumulate(x, dy, m, k, n, dW, pool);
        else BackwardWeightPacked(x, dy, m, k, n, dW, pool);
        if (!dBias.IsEmpty) WeightGradient.AccumulateColumnSums(dy, m, n, dBias, pool);
    }

    /// <summary>dW[n, k] += dY[m, n]ᵀ·X[m, k] on the Linear kernel: dY transposed, X packed as a weight (any vector width).</summary>
    internal static void BackwardWeightPacked(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, int m, int k, int n, Span<float> dW, ComputePool pool)
    {
        float[] dyT = System.Buffers.ArrayPool<float>.Shared.Rent(m * n); // [n, m]
        try
        {
            Transpose(dy, m, n, dyT, pool);
            PackedMatrix xT = PackedMatrix.PackTransposed(x, m, k, k, pool); // N = k, K = m
            LinearAccumulate(dyT, n, m, xT, dW, k, pool);
        }
        finally
        {
            System.Buffers.ArrayPool<float>.Shared.Return(dyT);
        }
    }

    private static void CheckWeightOperands(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, int m, int k, int n, Span<float> dW, Span<float> dBias)
    {
        if (x.Length < (long)m * k) throw new ArgumentException($"X is smaller than [{m}, {k}].", nameof(x));
        if (dy.Length < (long)m * n) throw new ArgumentException($"dY is smaller than [{m}, {n}].", nameof(dy));
        if (dW.Length < (long)n * k) throw new ArgumentException($"dW is smaller than [{n}, {k}].", nameof(dW));
        if (!dBias.IsEmpty && dBias.Length < n) throw new ArgumentException($"dBias is smaller than [{n}].", nameof(dBias));
    }

    /// <summary>dst[cols, rows] = src[rows, cols]ᵀ in 32×32 blocks, split over column blocks.</summary>
    public static unsafe void Transpose(ReadOnlySpan<float> src, int rows, int cols, Span<float> dst, ComputePool pool)
    {
        if (src.Length < (long)rows * cols || dst.Length < (long)rows * cols) throw new ArgumentException($"Buffers are smaller than [{rows}, {cols}].");
        const int B = 32;
        int colBlocks = (cols + B - 1) / B;
        fixed (float* ps = src, pd = dst)
        {
            nint a = (nint)ps, d = (nint)pd;
            pool.For(colBlocks, cb =>
            {
                float* s = (float*)a, t = (float*)d;
                int c0 = cb * B, c1 = Math.Min(cols, c0 + B);
                for (int r0 = 0; r0 < rows; r0 += B)
                {
                    int r1 = Math.Min(rows, r0 + B);
                    for (int c = c0; c < c1; c++)
                        for (int r = r0; r < r1; r++)
                            t[(long)c * rows + r] = s[(long)r * cols + c];
                }
            });
        }
    }
}
