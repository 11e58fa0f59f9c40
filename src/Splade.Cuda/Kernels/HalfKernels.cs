using ILGPU;
using ILGPU.Algorithms;

namespace Splade.Cuda.Kernels;

/// <summary>The fp16 side of the GEMMs: activations rounded to fp16 before a product, and the plain fp16 GEMM twin.</summary>
internal static class HalfKernels
{
    /// <summary>dst[i] = fp16(src[i]) (round to nearest), n elements, grid-stride.</summary>
    public static void ToHalf(int n, ArrayView<float> src, ArrayView<Half> dst)
    {
        for (int i = Stride.First; i < n; i += Stride.Step) dst[i] = (Half)src[i];
    }

    /// <summary>
    /// y [rows, cols] = x·wᵀ with x [rows, k] and w [cols, k] in fp16, products and sums in float32 (what
    /// cublasGemmEx with CUBLAS_COMPUTE_32F computes, up to summation order); 4 × 4 tiles as <see cref="GemmKernel"/>.
    /// </summary>
    public static void Gemm(int n, ArrayView<Half> x, ArrayView<Half> w, ArrayView<float> y, int rows, int cols, int k)
    {
        int colTiles = (cols + GemmKernel.Tile - 1) / GemmKernel.Tile;
        for (int i = Stride.First; i < n; i += Stride.Step)
        {
            int rt = i / colTiles, ct = i - rt * colTiles;
            int r0 = rt * GemmKernel.Tile, c0 = ct * GemmKernel.Tile;
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
            GemmKernel.Store(y, r0, c0, rows, cols, a00, a01, a02, a03);
            GemmKernel.Store(y, r0 + 1, c0, rows, cols, a10, a11, a12, a13);
            GemmKernel.Store(y, r0 + 2, c0, rows, cols, a20, a21, a22, a23);
            GemmKernel.Store(y, r0 + 3, c0, rows, cols, a30, a31, a32, a33);
        }
    }
}
