using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Splade.Tensors;

/// <summary>
/// The weight gradient of a linear layer, dW[n, k] += dY[m, n]ᵀ·X[m, k], on a Vector512 register tile
/// that reads both operands through small per-job copies instead of a transpose and a packed copy of
/// the whole of X and dY: the reduction over the m rows runs in chunks of <see cref="RowChunk"/> rows; per
/// chunk a job copies its 48 columns of dY into [tile][p][6] (each tile's broadcasts one contiguous stream)
/// and, per 32-column panel, X into an aligned [128][32] block that stays in L1 across the job's tiles
/// (X's rows lie 1-4 KB apart, which would crowd a chunk into a few L1 sets, and managed rows are not
/// 64-byte aligned). Between chunks the accumulators wait in the job's buffer (fp32, so the chain is the
/// same as if they stayed in registers). Each element is one FMA chain over the rows in ascending order,
/// added to dW once, and is computed by exactly one job: the result does not depend on the thread count,
/// and equals <see cref="Gemm.BackwardWeightPacked"/> bit for bit.
/// </summary>
internal static unsafe class WeightGradient
{
    /// <summary>Columns of dW per tile (two Vector512).</summary>
    private const int Width = 32;

    /// <summary>Rows of dW per tile.</summary>
    private const int Rows = 6;

    /// <summary>Tiles (of 6 rows of dW) per job.</summary>
    private const int TilesPerJob = 8;

    /// <summary>Panels (of 32 columns of dW) per job.</summary>
    private const int PanelsPerJob = 8;

    /// <summary>Rows of X and dY per chunk: the chunk's X panel ([128][32], 16 KB) stays in L1 across the job's tiles.</summary>
    private const int RowChunk = 128;

    /// <summary>dW[n, k] += dY[m, n]ᵀ·X[m, k] (Vector512 only).</summary>
    public static void Accumulate(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, int m, int k, int n, Span<float> dW, ComputePool pool)
    {
        if (!Vector512.IsHardwareAccelerated) throw new PlatformNotSupportedException("WeightGradient needs Vector512.");
        if (m == 0) return;
        int panels = (k + Width - 1) / Width, nTiles = (n + Rows - 1) / Rows;
        int tileJobs = (nTiles + TilesPerJob - 1) / TilesPerJob, panelJobs = (panels + PanelsPerJob - 1) / PanelsPerJob;
        fixed (float* px = x, pdy = dy, pdw = dW)
        {
            nint ax = (nint)px, ady = (nint)pdy, adw = (nint)pdw;
            pool.For(tileJobs * panelJobs, job =>
            {
                int tj = job / panelJobs, pj = job % panelJobs;
                int t0 = tj * TilesPerJob, t1 = Math.Min(nTiles, t0 + TilesPerJob), tiles = t1 - t0;
                int p0 = pj * PanelsPerJob, p1 = Math.Min(panels, p0 + PanelsPerJob);
                int j0 = t0 * Rows, jCount = Math.Min(n, t1 * Rows) - j0;
                // Accumulators [panel][tile][row][32], the chunk's dY [tile][p][6] and X [panel][p][32], 64-byte aligned.
                float* acc = Scratch();
                float* dyChunk = acc + AccLength;
                float* xChunk = dyChunk + DyChunkLength;
                new Span<float>(acc, AccLength).Clear();
                int jobC0 = p0 * Width, jobWidth = Math.Min(k, p1 * Width) - jobC0;
                for (int r0 = 0; r0 < m; r0 += RowChunk)
                {
                    int len = Math.Min(RowChunk, m - r0);
                    PackDy((float*)ady + (long)r0 * n, n, j0, jCount, tiles, len, dyChunk);
                    PackX((float*)ax + (long)r0 * k + jobC0, k, jobWidth, len, xChunk);
                    for (int panel = 0; panel < p1 - p0; panel++)
                    {
                        float* panelAcc = acc + panel * TilesPerJob * Rows * Width;
                        for (int t = 0; t < tiles; t++)
                            Tile(xChunk + panel * RowChunk * Width, dyChunk + t * DyTileStride, len, Math.Min(Rows, jCount - t * Rows), panelAcc + t * Rows * Width);
                    }
                }
                for (int panel = p0; panel < p1; panel++)
                {
                    int c0 = panel * Width, width = Math.Min(Width, k - c0);
                    for (int t = 0; t < tiles; t++)
                    {
                        int rows = Math.Min(Rows, jCount - t * Rows);
                        for (int r = 0; r < rows; r++)
                        {
                            var sum = new ReadOnlySpan<float>(acc + (((panel - p0) * TilesPerJob + t) * Rows + r) * Width, width);
                            var dst = new Span<float>((float*)adw + (long)(j0 + t * Rows + r) * k + c0, width);
                            System.Numerics.Tensors.TensorPrimitives.Add(dst, sum, dst);
                        }
                    }
                }
            });
        }
    }

    private const int AccLength = PanelsPerJob * TilesPerJob * Rows * Width;

    /// <summary>Floats per tile in the packed dY chunk: [RowChunk][6] and room for the last row's 8-wide store.</summary>
    private const int DyTileStride = RowChunk * Rows + 16;

    private const int DyChunkLength = TilesPerJob * DyTileStride;

    /// <summary>
    /// dst[t][p][0..6) = dY[p, j0 + 6t .. j0 + 6t + 6) for the job's tiles and the chunk's rows (columns past
    /// <paramref name="jCount"/> are left as they are: the kernel of a short tile reads only its own rows).
    /// An 8-wide copy per tile and row where the row has 8 floats left, else element by element.
    /// </summary>
    private static void PackDy(float* dy, int ldy, int j0, int jCount, int tiles, int len, float* dst)
    {
        for (int p = 0; p < len; p++)
        {
            float* row = dy + (long)p * ldy + j0;
            int t = 0;
            for (; t < tiles && t * Rows + 8 <= ldy - j0; t++)
                Vector256.Store(Vector256.Load(row + t * Rows), dst + t * DyTileStride + p * Rows);
            for (; t < tiles; t++)
            {
                int cols = Math.Min(Rows, jCount - t * Rows);
                float* d = dst + t * DyTileStride + p * Rows;
                for (int c = 0; c < cols; c++) d[c] = row[t * Rows + c];
            }
        }
    }

    /// <summary>
    /// dst[panel][p][0..32) = X[p, 32·panel .. 32·panel + 32) for the chunk's rows and the job's columns
    /// [0, width) (each row read once, contiguously; lanes past width are zero). dst is 64-byte aligned.
    /// </summary>
    private static void PackX(float* x, int ldx, int width, int len, float* dst)
    {
        int full = width / Width, rest = width % Width;
        for (int p = 0; p < len; p++)
        {
            float* row = x + (long)p * ldx;
            for (int panel = 0; panel < full; panel++)
            {
                float* d = dst + (panel * RowChunk + p) * Width;
                Vector512.StoreAligned(Vector512.Load(row + panel * Width), d);
                Vector512.StoreAligned(Vector512.Load(row + panel * Width + 16), d + 16);
            }
            if (rest != 0)
            {
                float* d = dst + (full * RowChunk + p) * Width, src = row + full * Width;
                for (int c = 0; c < rest; c++) d[c] = src[c];
                for (int c = rest; c < Width; c++) d[c] = 0f;
            }
        }
    }

    /// <summary>This thread's 64-byte aligned scratch: accumulators, the dY chunk and the X chunk.</summary>
    private static float* Scratch()
    {
        t_scratch ??= GC.AllocateArray<float>(AccLength + DyChunkLength + XChunkLength + 16, pinned: true);
        nint address = (nint)Unsafe.AsPointer(ref t_scratch[0]);
        return (float*)((address + 63) & ~(nint)63);
    }

    [ThreadStatic] private static float[]? t_scratch;

    private const int XChunkLength = PanelsPerJob * RowChunk * Width;

    /// <summary>dBias[j] += Σ_p dY[p, j] for p = 0..m−1 in ascending order, split over column blocks.</summary>
    public static void AccumulateColumnSums(ReadOnlySpan<float> dy, int m, int n, Span<float> dBias, ComputePool pool)
    {
        const int Block = 64;
        int blocks = (n + Block - 1) / Block;
        fixed (float* pdy = dy, pb = dBias)
        {
            nint ady = (nint)pdy, ab = (nint)pb;
            pool.For(blocks, b =>
            {
                int c0 = b * Block, cols = Math.Min(Block, n - c0);
                float* sum = stackalloc float[Block];
                new Span<float>(sum, Block).Clear();
                for (int p = 0; p < m; p++)
                {
                    float* row = (float*)ady + (long)p * n + c0;
                    int c = 0;
                    for (; c + 8 <= cols; c += 8) (Vector256.Load(sum + c) + Vector256.Load(row + c)).Store(sum + c);
                    for (; c < cols; c++) sum[c] += row[c];
                }
                float* bias = (float*)ab + c0;
                for (int c = 0; c < cols; c++) bias[c] += sum[c];
            });
        }
    }

    private static void Tile(float* x, float* dy, int len, int rows, float* acc)
    {
        switch (rows)
        {
            case 6: Kernel<TileRows6>(x, dy, len, acc); break;
            case 5: Kernel<TileRows5>(x, dy, len, acc); break;
            case 4: Kernel<TileRows4>(x, dy, len, acc); break;
            case 3: Kernel<TileRows3>(x, dy, len, acc); break;
            case 2: Kernel<TileRows2>(x, dy, len, acc); break;
            default: Kernel<TileRows1>(x, dy, len, acc); break;
        }
    }

    /// <summary>acc[r][0..32) = fma(dY[p][r], X[p][0..32), acc[r]) for p = 0..len−1 and the R.Count rows r (X: [len][32], dY: [len][6], packed).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel<R>(float* x, float* dy, int len, float* acc) where R : struct, ITileRows
    {
        int rows = R.Count;
        Vector512<float> c00 = Vector512.Load(acc), c01 = Vector512.Load(acc + 16);
        Vector512<float> c10 = default, c11 = default, c20 = default, c21 = default, c30 = default, c31 = default;
        Vector512<float> c40 = default, c41 = default, c50 = default, c51 = default;
        if (rows > 1) { c10 = Vector512.Load(acc + 32); c11 = Vector512.Load(acc + 48); }
        if (rows > 2) { c20 = Vector512.Load(acc + 64); c21 = Vector512.Load(acc + 80); }
        if (rows > 3) { c30 = Vector512.Load(acc + 96); c31 = Vector512.Load(acc + 112); }
        if (rows > 4) { c40 = Vector512.Load(acc + 128); c41 = Vector512.Load(acc + 144); }
        if (rows > 5) { c50 = Vector512.Load(acc + 160); c51 = Vector512.Load(acc + 176); }
        for (int p = 0; p < len; p++)
        {
            Vector512<float> w0 = Vector512.LoadAligned(x), w1 = Vector512.LoadAligned(x + 16);
            x += Width;
            Vector512<float> a = Vector512.Create(dy[0]);
            c00 = Vector512.FusedMultiplyAdd(a, w0, c00); c01 = Vector512.FusedMultiplyAdd(a, w1, c01);
            if (rows > 1)
            {
                a = Vector512.Create(dy[1]);
                c10 = Vector512.FusedMultiplyAdd(a, w0, c10); c11 = Vector512.FusedMultiplyAdd(a, w1, c11);
            }
            if (rows > 2)
            {
                a = Vector512.Create(dy[2]);
                c20 = Vector512.FusedMultiplyAdd(a, w0, c20); c21 = Vector512.FusedMultiplyAdd(a, w1, c21);
            }
            if (rows > 3)
            {
                a = Vector512.Create(dy[3]);
                c30 = Vector512.FusedMultiplyAdd(a, w0, c30); c31 = Vector512.FusedMultiplyAdd(a, w1, c31);
            }
            if (rows > 4)
            {
                a = Vector512.Create(dy[4]);
                c40 = Vector512.FusedMultiplyAdd(a, w0, c40); c41 = Vector512.FusedMultiplyAdd(a, w1, c41);
            }
            if (rows > 5)
            {
                a = Vector512.Create(dy[5]);
                c50 = Vector512.FusedMultiplyAdd(a, w0, c50); c51 = Vector512.FusedMultiplyAdd(a, w1, c51);
            }
            dy += Rows;
        }
        c00.Store(acc); c01.Store(acc + 16);
        if (rows > 1) { c10.Store(acc + 32); c11.Store(acc + 48); }
        if (rows > 2) { c20.Store(acc + 64); c21.Store(acc + 80); }
        if (rows > 3) { c30.Store(acc + 96); c31.Store(acc + 112); }
        if (rows > 4) { c40.Store(acc + 128); c41.Store(acc + 144); }
        if (rows > 5) { c50.Store(acc + 160); c51.Store(acc + 176); }
    }
}
