using System.Numerics.Tensors;
using System.Runtime.Intrinsics;

namespace Splade.Tensors;

/// <summary>
/// LayerNorm for training. <see cref="TrainingForward"/> is <see cref="Forward"/> (same float operations,
/// rows split over threads) that also keeps each row's mean and 1/σ. <see cref="Backward"/>, with
/// x̂ = (x − mean)·rstd and g = dy ⊙ γ: dx = rstd·(g − mean(g) − x̂·mean(g ⊙ x̂)); dγ += Σ_rows dy ⊙ x̂;
/// dβ += Σ_rows dy. Row sums run in double; the parameter sums are split over column blocks, each
/// adding the rows in order, so nothing depends on the thread count.
/// </summary>
public static partial class LayerNorm
{
    private const int RowsPerJob = 32;
    private const int ColumnsPerJob = 32;

    /// <summary>y = LayerNorm(x) row by row, with mean [rows] and rstd [rows] saved; y must not alias x.</summary>
    public static void TrainingForward(ReadOnlySpan<float> x, int rows, int cols, ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta, float eps,
        Span<float> y, Span<float> mean, Span<float> rstd, ComputePool pool)
    {
        if (gamma.Length != cols || beta.Length != cols) throw new ArgumentException($"gamma/beta must have {cols} values.");
        if (x.Length < rows * cols || y.Length < rows * cols || mean.Length < rows || rstd.Length < rows) throw new ArgumentException($"Buffers are smaller than [{rows}, {cols}].");
        unsafe
        {
            fixed (float* px = x, py = y, pm = mean, pr = rstd, pg = gamma, pb = beta)
            {
                nint ax = (nint)px, ay = (nint)py, am = (nint)pm, ar = (nint)pr, ag = (nint)pg, ab = (nint)pb;
                pool.For((rows + RowsPerJob - 1) / RowsPerJob, job =>
                {
                    int r1 = Math.Min(rows, (job + 1) * RowsPerJob);
                    var g = new ReadOnlySpan<float>((float*)ag, cols);
                    var b = new ReadOnlySpan<float>((float*)ab, cols);
                    for (int r = job * RowsPerJob; r < r1; r++)
                    {
                        var xr = new ReadOnlySpan<float>((float*)ax + (long)r * cols, cols);
                        var yr = new Span<float>((float*)ay + (long)r * cols, cols);
                        float m = TensorPrimitives.Sum(xr) / cols;
                        TensorPrimitives.Subtract(xr, m, yr);
                        float variance = TensorPrimitives.SumOfSquares(yr) / cols;
                        float rs = 1f / MathF.Sqrt(variance + eps);
                        TensorPrimitives.Multiply(yr, rs, yr);
                        TensorPrimitives.FusedMultiplyAdd(yr, g, b, yr);
                        ((float*)am)[r] = m;
                        ((float*)ar)[r] = rs;
                    }
                });
            }
        }
    }

    /// <summary>
    /// dx [rows, cols] (overwritten, or added to when <paramref name="accumulate"/>) from dy and the saved
    /// mean/rstd of x; dGamma and dBeta [cols] accumulate. dx may alias dy only when not accumulating.
    /// </summary>
    public static void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> mean, ReadOnlySpan<float> rstd, ReadOnlySpan<float> gamma,
        ReadOnlySpan<float> dy, int rows, int cols, Span<float> dx, bool accumulate, Span<float> dGamma, Span<float> dBeta, ComputePool pool)
    {
        if (x.Length < rows * cols || dy.Length < rows * cols || dx.Length < rows * cols) throw new ArgumentException($"Buffers are smaller than [{rows}, {cols}].");
        if (gamma.Length != cols || dGamma.Length != cols || dBeta.Length != cols) throw new ArgumentException($"gamma and its gradients must have {cols} values.");
        unsafe
        {
            fixed (float* px = x, pm = mean, pr = rstd, pg = gamma, pdy = dy, pdx = dx, pdg = dGamma, pdb = dBeta)
            {
                nint ax = (nint)px, am = (nint)pm, ar = (nint)pr, ag = (nint)pg, ady = (nint)pdy, adx = (nint)pdx, adg = (nint)pdg, adb = (nint)pdb;
                // Parameter gradients first (dx may overwrite dy).
                pool.For((cols + ColumnsPerJob - 1) / ColumnsPerJob, job =>
                {
                    int c0 = job * ColumnsPerJob, c1 = Math.Min(cols, c0 + ColumnsPerJob);
                    ParameterSums((float*)ax, (float*)ady, (float*)am, (float*)ar, rows, cols, c0, c1, (float*)adg, (float*)adb);
                });
                pool.For((rows + RowsPerJob - 1) / RowsPerJob, job =>
                {
                    int r1 = Math.Min(rows, (job + 1) * RowsPerJob);
                    for (int r = job * RowsPerJob; r < r1; r++)
                        RowBackward((float*)ax + (long)r * cols, (float*)ady + (long)r * cols, (float*)adx + (long)r * cols, (float*)ag,
                            ((float*)am)[r], ((float*)ar)[r], cols, accumulate);
                });
            }
        }
    }

    /// <summary>
    /// dγ[c] += Σ_r dy[r, c]·x̂[r, c], dβ[c] += Σ_r dy[r, c] for c in [c0, c1), rows in order, in double
    /// (four columns per Vector256&lt;double&gt; lane group; the scalar tail does the same operations).
    /// </summary>
    private static unsafe void ParameterSums(float* x, float* dy, float* mean, float* rstd, int rows, int cols, int c0, int c1, float* dGamma, float* dBeta)
    {
        Span<double> sg = stackalloc double[ColumnsPerJob], sb = stackalloc double[ColumnsPerJob];
        sg.Clear(); sb.Clear();
        int width = c1 - c0, vecWidth = Vector256.IsHardwareAccelerated ? width & ~3 : 0;
        fixed (double* psg = sg, psb = sb)
        {
            for (int r = 0; r < rows; r++)
            {
                double m = mean[r], rs = rstd[r];
                float* xr = x + (long)r * cols + c0, dyr = dy + (long)r * cols + c0;
                var vm = Vector256.Create(m);
                var vrs = Vector256.Create(rs);
                for (int c = 0; c < vecWidth; c += 4)
                {
                    Vector256<double> d = Widen4(dyr + c), xh = (Widen4(xr + c) - vm) * vrs;
                    (Vector256.Load(psg + c) + d * xh).Store(psg + c);
                    (Vector256.Load(psb + c) + d).Store(psb + c);
                }
                for (int c = vecWidth; c < width; c++)
                {
                    psg[c] += dyr[c] * ((xr[c] - m) * rs);
                    psb[c] += dyr[c];
                }
            }
        }
        for (int c = 0; c < width; c++)
        {
            dGamma[c0 + c] += (float)sg[c];
            dBeta[c0 + c] += (float)sb[c];
        }
    }

    /// <summary>One row of dx = rstd·(g − mean(g) − x̂·mean(g ⊙ x̂)), g = dy ⊙ γ, in double; four lanes, then their sum in a fixed order.</summary>
    private static unsafe void RowBackward(float* xr, float* dyr, float* dxr, float* gamma, double m, double rs, int cols, bool accumulate)
    {
        int vecCols = Vector256.IsHardwareAccelerated ? cols & ~3 : 0;
        var vm = Vector256.Create(m);
        var vrs = Vector256.Create(rs);
        Vector256<double> v1 = Vector256<double>.Zero, v2 = Vector256<double>.Zero;
        for (int c = 0; c < vecCols; c += 4)
        {
            Vector256<double> gc = Widen4(dyr + c) * Widen4(gamma + c), xh = (Widen4(xr + c) - vm) * vrs;
            v1 += gc;
            v2 += gc * xh;
        }
        double s1 = (v1[0] + v1[1]) + (v1[2] + v1[3]), s2 = (v2[0] + v2[1]) + (v2[2] + v2[3]);
        for (int c = vecCols; c < cols; c++)
        {
            double gc = (double)dyr[c] * gamma[c];
            s1 += gc;
            s2 += gc * ((xr[c] - m) * rs);
        }
        s1 /= cols;
        s2 /= cols;
        var vs1 = Vector256.Create(s1);
        var vs2 = Vector256.Create(s2);
        for (int c = 0; c < vecCols; c += 4)
        {
            Vector256<double> gc = Widen4(dyr + c) * Widen4(gamma + c), xh = (Widen4(xr + c) - vm) * vrs;
            Vector128<float> v = Vector256.Narrow(vrs * (gc - vs1 - xh * vs2), Vector256<double>.Zero).GetLower();
            if (accumulate) v += Vector128.Load(dxr + c);
            v.Store(dxr + c);
        }
        for (int c = vecCols; c < cols; c++)
        {
            double xh = (xr[c] - m) * rs;
            float v = (float)(rs * ((double)dyr[c] * gamma[c] - s1 - xh * s2));
            dxr[c] = accumulate ? dxr[c] + v : v;
        }
    }

    /// <summary>Four floats widened to double.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private static unsafe Vector256<double> Widen4(float* p) => Vector256.WidenLower(Vector128.Load(p).ToVector256Unsafe());

    /// <summary>Plain double twin of <see cref="Backward"/> (statistics recomputed from x; dx overwritten).</summary>
    public static void BackwardReference(ReadOnlySpan<float> x, int rows, int cols, ReadOnlySpan<float> gamma, float eps,
        ReadOnlySpan<float> dy, Span<float> dx, Span<float> dGamma, Span<float> dBeta)
    {
        var xh = new double[cols];
        for (int r = 0; r < rows; r++)
        {
            double m = 0, v = 0;
            for (int c = 0; c < cols; c++) m += x[r * cols + c];
            m /= cols;
            for (int c = 0; c < cols; c++) { double d = x[r * cols + c] - m; v += d * d; }
            double rs = 1 / Math.Sqrt(v / cols + eps);
            double s1 = 0, s2 = 0;
            for (int c = 0; c < cols; c++)
            {
                xh[c] = (x[r * cols + c] - m) * rs;
                double g = (double)dy[r * cols + c] * gamma[c];
                s1 += g; s2 += g * xh[c];
                dGamma[c] += (float)(dy[r * cols + c] * xh[c]);
                dBeta[c] += dy[r * cols + c];
            }
            for (int c = 0; c < cols; c++)
                dx[r * cols + c] = (float)(rs * ((double)dy[r * cols + c] * gamma[c] - s1 / cols - xh[c] * s2 / cols));
        }
    }
}
