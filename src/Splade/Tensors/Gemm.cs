using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Splade.Tensors;

/// <summary>How <see cref="Gemm.LinearColumnReduce"/> folds the rows of one segment into one output row.</summary>
public enum ColumnReduction
{
    /// <summary>Column-wise maximum (starts from −∞).</summary>
    Max,
    /// <summary>Column-wise sum in row order (starts from 0).</summary>
    Sum,
}

/// <summary>
/// Matrix products in PyTorch <c>Linear</c> layout: Y[M, N] = X[M, K]·W[N, K]ᵀ + b, with W packed once
/// (<see cref="PackedMatrix"/>). A 6-row × 1-panel register tile accumulates over the whole K with
/// fused multiply-adds in ascending k, so every output element is one fixed chain of operations no
/// matter how rows are batched or jobs are spread over threads.
/// </summary>
public static unsafe partial class Gemm
{
    /// <summary>Rows of X per register tile.</summary>
    public const int TileRows = 6;

    private const int CacheBytes = 256 * 1024;
    private const int RowBlockTiles = 16;

    /// <summary>Y[m, N] (row stride <paramref name="ldy"/>) = X[m, K] (row stride <paramref name="ldx"/>)·Wᵀ + b.</summary>
    public static void Linear(ReadOnlySpan<float> x, int m, int ldx, PackedMatrix w, Span<float> y, int ldy, ComputePool pool) =>
        Linear(x, m, ldx, w, y, ldy, ElementTransform.None, pool);

    /// <summary>
    /// Y = f(X·Wᵀ + b) with f = <paramref name="activation"/> applied element-wise by each job to the
    /// block of Y it has just written (still in cache), which gives the same values as a separate
    /// <see cref="Activations.Apply"/> pass over Y and saves that pass and its synchronisation.
    /// </summary>
    public static void Linear(ReadOnlySpan<float> x, int m, int ldx, PackedMatrix w, Span<float> y, int ldy, ElementTransform activation, ComputePool pool) =>
        LinearCore(x, m, ldx, w, y, ldy, activation, accumulate: false, pool, derivative: default);

    /// <summary>
    /// Training's Y = f(X·Wᵀ + b) that also keeps f' of the pre-activation in <paramref name="derivative"/> (same
    /// layout and stride as Y), each job on the block it has just written, through
    /// <see cref="Activations.ApplyWithDerivative"/>: the values of a separate GEMM and ApplyWithDerivative pass.
    /// </summary>
    public static void LinearWithDerivative(ReadOnlySpan<float> x, int m, int ldx, PackedMatrix w, Span<float> y, int ldy, ElementTransform activation, Span<float> derivative, ComputePool pool)
    {
        if (activation is not (ElementTransform.Relu or ElementTransform.Gelu or ElementTransform.GeluTanh))
            throw new ArgumentOutOfRangeException(nameof(activation), activation, "LinearWithDerivative is defined for Relu, Gelu and GeluTanh.");
        if (derivative.Length < y.Length) throw new ArgumentException($"derivative has {derivative.Length} values, Y {y.Length}.", nameof(derivative));
        LinearCore(x, m, ldx, w, y, ldy, activation, accumulate: false, pool, derivative);
    }

    /// <summary>Y[m, N] += X[m, K]·Wᵀ + b: each element's product is finished in registers, then added to Y once.</summary>
    public static void LinearAccumulate(ReadOnlySpan<float> x, int m, int ldx, PackedMatrix w, Span<float> y, int ldy, ComputePool pool) =>
        LinearCore(x, m, ldx, w, y, ldy, ElementTransform.None, accumulate: true, pool, derivative: default);

    private static void LinearCore(ReadOnlySpan<float> x, int m, int ldx, PackedMatrix w, Span<float> y, int ldy, ElementTransform activation, bool accumulate, ComputePool pool,
        Span<float> derivative)
    {
        bool keepDerivative = !derivative.IsEmpty;
        if (m == 0) return;
        CheckOperands(x, m, ldx, w);
        if (ldy < w.N || y.Length < (long)(m - 1) * ldy + w.N) throw new ArgumentException($"Y is too small for [{m}, {w.N}] with stride {ldy}.", nameof(y));
        int nr = w.PanelWidth, k = w.K, n = w.N, panels = w.PanelCount;
        int mTiles = (m + TileRows - 1) / TileRows;
        int mJobs = (mTiles + RowBlockTiles - 1) / RowBlockTiles;
        int nb = PanelsPerJob(panels, k * nr * sizeof(float), mJobs, pool.Threads);
        int nJobs = (panels + nb - 1) / nb;
        fixed (float* px = x, py = y, pw = w.Data, pb = w.Bias, pd = derivative)
        {
            nint ax = (nint)px, ay = (nint)py, aw = (nint)pw, ab = (nint)pb, ad = (nint)pd;
            pool.For(mJobs * nJobs, job =>
            {
                int mj = job / nJobs, nj = job % nJobs;
                float* tile = stackalloc float[TileRows * 32];
                int t0 = mj * RowBlockTiles, t1 = Math.Min(mTiles, t0 + RowBlockTiles);
                int p0 = nj * nb, p1 = Math.Min(panels, p0 + nb);
                for (int p = p0; p < p1; p++)
                {
                    float* panel = (float*)aw + (long)p * k * nr;
                    float* bias = (float*)ab + p * nr;
                    int col0 = p * nr, cols = Math.Min(nr, n - col0);
                    for (int t = t0; t < t1; t++)
                    {
                        int row0 = t * TileRows, rows = Math.Min(TileRows, m - row0);
                        if (!accumulate && cols == nr && (rows == TileRows || nr == 32))
                        {
                            // Whole panel width: straight from the registers into Y (the 512-bit kernel stores only its own rows).
                            MicroKernel((float*)ax + (long)row0 * ldx, ldx, rows, panel, k, nr, bias, (float*)ay + (long)row0 * ldy + col0, ldy);
                            continue;
                        }
                        MicroKernel((float*)ax + (long)row0 * ldx, ldx, rows, panel, k, nr, bias, tile, nr);
                        for (int r = 0; r < rows; r++)
                        {
                            var src = new ReadOnlySpan<float>(tile + r * nr, cols);
                            var dst = new Span<float>((float*)ay + (long)(row0 + r) * ldy + col0, cols);
                            if (accumulate) System.Numerics.Tensors.TensorPrimitives.Add(dst, src, dst);
                            else src.CopyTo(dst);
                        }
                    }
                }
                if (activation != ElementTransform.None)
                {
                    // Rows [t0·6, t1·6) x columns [p0·nr, p1·nr) of Y: this job's block only.
                    int r1 = Math.Min(m, t1 * TileRows), c0 = p0 * nr, c1 = Math.Min(n, p1 * nr);
                    for (int r = t0 * TileRows; r < r1; r++)
                    {
                        var block = new Span<float>((float*)ay + (long)r * ldy + c0, c1 - c0);
                        if (keepDerivative) Activations.ApplyWithDerivative(activation, block, new Span<float>((float*)ad + (long)r * ldy + c0, c1 - c0));
                        else Activations.Apply(activation, block);
                    }
                }
            });
        }
    }

    /// <summary>
    /// For every segment s (rows [starts[s], starts[s] + lengths[s]) of X), folds the rows of
    /// f(X·Wᵀ + b) into <c>output[s·N .. s·N + N)</c> with <paramref name="mode"/>, where f is
    /// <paramref name="transform"/>. The [rows × N] product is never stored: tiles are reduced as
    /// they leave the registers. Jobs split only the N columns, so each column is folded by one
    /// thread in row order. A segment without rows yields −∞ (max) or 0 (sum).
    /// </summary>
    public static void LinearColumnReduce(ReadOnlySpan<float> x, int ldx, ReadOnlySpan<int> starts, ReadOnlySpan<int> lengths,
        PackedMatrix w, ColumnReduction mode, ElementTransform transform, Span<float> output, ComputePool pool)
    {
        int segments = starts.Length;
        if (lengths.Length != segments) throw new ArgumentException("starts and lengths differ in length.", nameof(lengths));
        int n = w.N, k = w.K, nr = w.PanelWidth, panels = w.PanelCount;
        if (output.Length < (long)segments * n) throw new ArgumentException($"Output is too small for [{segments}, {n}].", nameof(output));
        int totalRows = 0;
        for (int s = 0; s < segments; s++)
        {
            if (starts[s] < 0 || lengths[s] < 0) throw new ArgumentException($"Segment {s} has a negative start or length.");
            totalRows = Math.Max(totalRows, starts[s] + lengths[s]);
        }
        output[..(segments * n)].Fill(mode == ColumnReduction.Max ? float.NegativeInfinity : 0f);
        if (totalRows == 0) return;
        CheckOperands(x, totalRows, ldx, w);
        int nb = PanelsPerJob(panels, k * nr * sizeof(float), 1, pool.Threads);
        int nJobs = (panels + nb - 1) / nb;
        int[] segStarts = starts.ToArray(), segLengths = lengths.ToArray();
        fixed (float* px = x, po = output, pw = w.Data, pb = w.Bias)
        {
            nint ax = (nint)px, ao = (nint)po, aw = (nint)pw, ab = (nint)pb;
            pool.For(nJobs, job =>
            {
                float* tile = stackalloc float[TileRows * 32];
                int p0 = job * nb, p1 = Math.Min(panels, p0 + nb);
                for (int s = 0; s < segments; s++)
                {
                    float* outRow = (float*)ao + (long)s * n;
                    int len = segLengths[s];
                    for (int r0 = 0; r0 < len; r0 += TileRows)
                    {
                        int rows = Math.Min(TileRows, len - r0);
                        float* xTile = (float*)ax + (long)(segStarts[s] + r0) * ldx;
                        for (int p = p0; p < p1; p++)
                        {
                            MicroKernel(xTile, ldx, rows, (float*)aw + (long)p * k * nr, k, nr, (float*)ab + p * nr, tile, nr);
                            int col0 = p * nr, cols = Math.Min(nr, n - col0);
                            if (transform != ElementTransform.None)
                                Activations.Apply(transform, new Span<float>(tile, rows * nr));
                            ReduceTile(tile, rows, nr, outRow + col0, cols, mode);
                        }
                    }
                }
            });
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ReduceTile(float* tile, int rows, int nr, float* dst, int cols, ColumnReduction mode)
    {
        if (cols == nr)
        {
            for (int c = 0; c < nr; c += 8)
            {
                Vector256<float> acc = Vector256.Load(dst + c);
                for (int r = 0; r < rows; r++)
                {
                    Vector256<float> v = Vector256.Load(tile + r * nr + c);
                    acc = mode == ColumnReduction.Max ? Vector256.Max(acc, v) : acc + v;
                }
                acc.Store(dst + c);
            }
            return;
        }
        for (int c = 0; c < cols; c++)
        {
            float acc = dst[c];
            for (int r = 0; r < rows; r++)
            {
                float v = tile[r * nr + c];
                acc = mode == ColumnReduction.Max ? MathF.Max(acc, v) : acc + v;
            }
            dst[c] = acc;
        }
    }

    private static void CheckOperands(ReadOnlySpan<float> x, int m, int ldx, PackedMatrix w)
    {
        if (ldx < w.K) throw new ArgumentException($"Row stride {ldx} is smaller than K = {w.K}.", nameof(ldx));
        if (x.Length < (long)(m - 1) * ldx + w.K) throw new ArgumentException($"X is too small for [{m}, {w.K}] with stride {ldx}.", nameof(x));
    }

    /// <summary>Panels per job: enough to keep ~256 KB of W hot, few enough to give every thread work.</summary>
    private static int PanelsPerJob(int panels, int panelBytes, int rowJobs, int threads)
    {
        int byCache = Math.Max(1, CacheBytes / Math.Max(1, panelBytes));
        int wantedColumnJobs = Math.Max(1, (4 * threads + rowJobs - 1) / rowJobs);
        int byThreads = Math.Max(1, (panels + wantedColumnJobs - 1) / wantedColumnJobs);
        return Math.Min(byCache, byThreads);
    }

    /// <summary>tile[r·ldt + lane] = Σ_k x[r][k]·panel[k][lane] + bias[lane] for all six rows r (rows beyond <paramref name="rows"/> alias the last valid row).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void MicroKernel(float* x, int ldx, int rows, float* panel, int k, int nr, float* bias, float* tile, int ldt)
    {
        if (nr != 32)
        {
            Kernel256(x, ldx, rows, panel, k, bias, tile, ldt);
            return;
        }
        switch (rows)
        {
            case 6: Kernel512<TileRows6>(x, ldx, panel, k, bias, tile, ldt); break;
            case 5: Kernel512<TileRows5>(x, ldx, panel, k, bias, tile, ldt); break;
            case 4: Kernel512<TileRows4>(x, ldx, panel, k, bias, tile, ldt); break;
            case 3: Kernel512<TileRows3>(x, ldx, panel, k, bias, tile, ldt); break;
            case 2: Kernel512<TileRows2>(x, ldx, panel, k, bias, tile, ldt); break;
            default: Kernel512<TileRows1>(x, ldx, panel, k, bias, tile, ldt); break;
        }
    }

    /// <summary>
    /// tile[r·ldt + lane] = Σ_k x[r][k]·panel[k][lane] + bias[lane] for the R.Count rows only (the JIT
    /// drops the other accumulators); each row is the same FMA chain whatever R is.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel512<R>(float* x, int ldx, float* panel, int k, float* bias, float* tile, int ldt) where R : struct, ITileRows
    {
        int rows = R.Count;
        float* x0 = x, x1 = x0 + ldx, x2 = x1 + ldx, x3 = x2 + ldx, x4 = x3 + ldx, x5 = x4 + ldx;
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector512<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        for (int p = 0; p < k; p++)
        {
            Vector512<float> w0 = Vector512.Load(panel), w1 = Vector512.Load(panel + 16);
            panel += 32;
            Vector512<float> a = Vector512.Create(x0[p]);
            c00 = Vector512.FusedMultiplyAdd(a, w0, c00); c01 = Vector512.FusedMultiplyAdd(a, w1, c01);
            if (rows > 1)
            {
                a = Vector512.Create(x1[p]);
                c10 = Vector512.FusedMultiplyAdd(a, w0, c10); c11 = Vector512.FusedMultiplyAdd(a, w1, c11);
            }
            if (rows > 2)
            {
                a = Vector512.Create(x2[p]);
                c20 = Vector512.FusedMultiplyAdd(a, w0, c20); c21 = Vector512.FusedMultiplyAdd(a, w1, c21);
            }
            if (rows > 3)
            {
                a = Vector512.Create(x3[p]);
                c30 = Vector512.FusedMultiplyAdd(a, w0, c30); c31 = Vector512.FusedMultiplyAdd(a, w1, c31);
            }
            if (rows > 4)
            {
                a = Vector512.Create(x4[p]);
                c40 = Vector512.FusedMultiplyAdd(a, w0, c40); c41 = Vector512.FusedMultiplyAdd(a, w1, c41);
            }
            if (rows > 5)
            {
                a = Vector512.Create(x5[p]);
                c50 = Vector512.FusedMultiplyAdd(a, w0, c50); c51 = Vector512.FusedMultiplyAdd(a, w1, c51);
            }
        }
        Vector512<float> b0 = Vector512.Load(bias), b1 = Vector512.Load(bias + 16);
        (c00 + b0).Store(tile); (c01 + b1).Store(tile + 16);
        if (rows > 1) { tile += ldt; (c10 + b0).Store(tile); (c11 + b1).Store(tile + 16); }
        if (rows > 2) { tile += ldt; (c20 + b0).Store(tile); (c21 + b1).Store(tile + 16); }
        if (rows > 3) { tile += ldt; (c30 + b0).Store(tile); (c31 + b1).Store(tile + 16); }
        if (rows > 4) { tile += ldt; (c40 + b0).Store(tile); (c41 + b1).Store(tile + 16); }
        if (rows > 5) { tile += ldt; (c50 + b0).Store(tile); (c51 + b1).Store(tile + 16); }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel256(float* x, int ldx, int rows, float* panel, int k, float* bias, float* tile, int ldt)
    {
        float* x0 = x;
        float* x1 = rows > 1 ? x0 + ldx : x0;
        float* x2 = rows > 2 ? x1 + ldx : x1;
        float* x3 = rows > 3 ? x2 + ldx : x2;
        float* x4 = rows > 4 ? x3 + ldx : x3;
        float* x5 = rows > 5 ? x4 + ldx : x4;
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector256<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        for (int p = 0; p < k; p++)
        {
            Vector256<float> w0 = Vector256.Load(panel), w1 = Vector256.Load(panel + 8);
            panel += 16;
            Vector256<float> a = Vector256.Create(x0[p]);
            c00 = Vector256.FusedMultiplyAdd(a, w0, c00); c01 = Vector256.FusedMultiplyAdd(a, w1, c01);
            a = Vector256.Create(x1[p]);
            c10 = Vector256.FusedMultiplyAdd(a, w0, c10); c11 = Vector256.FusedMultiplyAdd(a, w1, c11);
            a = Vector256.Create(x2[p]);
            c20 = Vector256.FusedMultiplyAdd(a, w0, c20); c21 = Vector256.FusedMultiplyAdd(a, w1, c21);
            a = Vector256.Create(x3[p]);
            c30 = Vector256.FusedMultiplyAdd(a, w0, c30); c31 = Vector256.FusedMultiplyAdd(a, w1, c31);
            a = Vector256.Create(x4[p]);
            c40 = Vector256.FusedMultiplyAdd(a, w0, c40); c41 = Vector256.FusedMultiplyAdd(a, w1, c41);
            a = Vector256.Create(x5[p]);
            c50 = Vector256.FusedMultiplyAdd(a, w0, c50); c51 = Vector256.FusedMultiplyAdd(a, w1, c51);
        }
        Vector256<float> b0 = Vector256.Load(bias), b1 = Vector256.Load(bias + 8);
        (c00 + b0).Store(tile); (c01 + b1).Store(tile + 8); tile += ldt;
        (c10 + b0).Store(tile); (c11 + b1).Store(tile + 8); tile += ldt;
        (c20 + b0).Store(tile); (c21 + b1).Store(tile + 8); tile += ldt;
        (c30 + b0).Store(tile); (c31 + b1).Store(tile + 8); tile += ldt;
        (c40 + b0).Store(tile); (c41 + b1).Store(tile + 8); tile += ldt;
        (c50 + b0).Store(tile); (c51 + b1).Store(tile + 8);
    }
}
