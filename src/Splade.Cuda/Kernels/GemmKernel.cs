using ILGPU;
using ILGPU.Algorithms;

namespace Splade.Cuda.Kernels;

/// <summary>
/// Plain GEMM, the twin of the cuBLAS call on accelerators without cuBLAS (ILGPU's CPU accelerator):
/// y[r, c] = Σ_k x[r, k]·w[c, k] (y = x·wᵀ, the layout of nn.Linear). Each thread computes a 4 × 4 tile of y
/// (four rows of x against four rows of w: half a load per multiply-add), tiles numbered column-block fastest;
/// edge tiles clamp their reads and skip their writes outside y.
/// </summary>
internal static class GemmKernel
{
    public const int Tile = 4;

    /// <summary>n = rowTiles·colTiles tiles, grid-stride. x [rows, k], w [cols, k], y [rows, cols].</summary>
    public static void Linear(int n, ArrayView<float> x, ArrayView<float> w, ArrayView<float> y, int rows, int cols, int k)
    {
        int colTiles = (cols + Tile - 1) / Tile;
        for (int i = Stride.First; i < n; i += Stride.Step)
        {
            int rt = i / colTiles, ct = i - rt * colTiles;
            int r0 = rt * Tile, c0 = ct * Tile;
            long x0 = (long)XMath.Min(r0, rows - 1) * k, x1 = (long)XMath.Min(r0 + 1, rows - 1) * k;
            long x2 = (long)XMath.Min(r0 + 2, rows - 1) * k, x3 = (long)XMath.Min(r0 + 3, rows - 1) * k;
            long w0 = (long)XMath.Min(c0, cols - 1) * k, w1 = (long)XMath.Min(c0 + 1, cols - 1) * k;
            long w2 = (long)XMath.Min(c0 + 2, cols - 1) * k, w3 = (long)XMath.Min(c0 + 3, cols - 1) * k;
            float a00 = 0f, a01 = 0f, a02 = 0f, a03 = 0f, a10 = 0f, a11 = 0f, a12 = 0f, a13 = 0f;
            float a20 = 0f, a21 = 0f, a22 = 0f, a23 = 0f, a30 = 0f, a31 = 0f, a32 = 0f, a33 = 0f;
            for (int e = 0; e < k; e++)
            {
                float b0 = w[w0 + e], b1 = w[w1 + e], b2 = w[w2 + e], b3 = w[w3 + e];
                float v = x[x0 + e]; a00 += v * b0; a01 += v * b1; a02 += v * b2; a03 += v * b3;
                v = x[x1 + e]; a10 += v * b0; a11 += v * b1; a12 += v * b2; a13 += v * b3;
                v = x[x2 + e]; a20 += v * b0; a21 += v * b1; a22 += v * b2; a23 += v * b3;
                v = x[x3 + e]; a30 += v * b0; a31 += v * b1; a32 += v * b2; a33 += v * b3;
            }
            Store(y, r0, c0, rows, cols, a00, a01, a02, a03);
            Store(y, r0 + 1, c0, rows, cols, a10, a11, a12, a13);
            Store(y, r0 + 2, c0, rows, cols, a20, a21, a22, a23);
            Store(y, r0 + 3, c0, rows, cols, a30, a31, a32, a33);
        }
    }

    internal static void Store(ArrayView<float> y, int r, int c0, int rows, int cols, float v0, float v1, float v2, float v3)
    {
        if (r >= rows) return;
        long o = (long)r * cols + c0;
        y[o] = v0;
        if (c0 + 1 < cols) y[o + 1] = v1;
        if (c0 + 2 < cols) y[o + 2] = v2;
        if (c0 + 3 < cols) y[o + 3] = v3;
    }

    /// <summary>Tiles of a [rows, cols] product.</summary>
    public static int Tiles(int rows, int cols) => ((rows + Tile - 1) / Tile) * ((cols + Tile - 1) / Tile);
}
