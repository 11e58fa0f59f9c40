using System.Buffers;

namespace Splade.Training.Kernels;

/// <summary>
/// PyTorch Linear: y[n, out] = x[n, in] · Wᵀ + b with W [out, in].
/// Backward: dx = dy · W; dW += dyᵀ · x; db += Σ_n dy.
/// </summary>
internal static class Linear
{
    public static void Forward(float[] x, int n, int inF, float[] w, float[]? b, int outF, float[] y)
    {
        Gemm.MatMulTransB(x, 0, w, 0, y, 0, n, outF, inF, accumulate: false);
        if (b is null) return;
        TrainingParallel.For((n + 63) / 64, ch =>
        {
            int r1 = Math.Min(n, ch * 64 + 64);
            for (int r = ch * 64; r < r1; r++)
            {
                var yr = y.AsSpan(r * outF, outF);
                for (int o = 0; o < outF; o++) yr[o] += b[o];
            }
        });
    }

    /// <summary>
    /// <paramref name="dx"/> (null to skip) is overwritten or added to; <paramref name="dw"/> and <paramref name="db"/> accumulate.
    /// </summary>
    public static void Backward(float[] x, float[] dy, int n, int inF, int outF, float[] w,
        float[]? dx, bool accumulateDx, float[] dw, float[]? db)
    {
        var pool = ArrayPool<float>.Shared;
        if (dx is not null)
        {
            float[] wT = pool.Rent(inF * outF); // [in, out]
            Gemm.Transpose(w, 0, outF, inF, wT, 0);
            Gemm.MatMulTransB(dy, 0, wT, 0, dx, 0, n, inF, outF, accumulateDx);
            pool.Return(wT);
        }
        float[] dyT = pool.Rent(outF * n); // [out, n]
        float[] xT = pool.Rent(inF * n);   // [in, n]
        Gemm.Transpose(dy, 0, n, outF, dyT, 0);
        Gemm.Transpose(x, 0, n, inF, xT, 0);
        Gemm.MatMulTransB(dyT, 0, xT, 0, dw, 0, outF, inF, n, accumulate: true);
        if (db is not null)
            for (int o = 0; o < outF; o++)
            {
                double s = 0;
                int off = o * n;
                for (int r = 0; r < n; r++) s += dyT[off + r];
                db[o] += (float)s;
            }
        pool.Return(dyT);
        pool.Return(xT);
    }
}
