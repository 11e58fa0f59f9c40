using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Splade.Training.Kernels;

/// <summary>
/// C[M,N] (+)= A[M,K] · B[N,K]ᵀ, the one matrix product training needs (PyTorch Linear layout makes every
/// product of the forward and backward passes this shape once operands are transposed).
/// Every element is computed by the same instruction sequence (8-lane FMA over K, a fixed-order lane sum,
/// then a scalar FMA tail), whatever the register blocking or the thread split, so results do not depend on
/// the number of threads.
/// </summary>
internal static class Gemm
{
    /// <summary>Reference twin: plain triple loop, double accumulation.</summary>
    public static void MatMulTransBNaive(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, int m, int n, int k, bool accumulate)
    {
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double s = 0;
                for (int p = 0; p < k; p++) s += (double)a[i * k + p] * b[j * k + p];
                c[i * n + j] = accumulate ? c[i * n + j] + (float)s : (float)s;
            }
    }

    /// <summary>Fast version, parallel over blocks of rows (or columns when M is small).</summary>
    public static void MatMulTransB(float[] a, int aOff, float[] b, int bOff, float[] c, int cOff, int m, int n, int k, bool accumulate)
    {
        if (m == 0 || n == 0) return;
        if (k == 0)
        {
            if (!accumulate) Array.Clear(c, cOff, m * n);
            return;
        }
        long work = (long)m * n * k;
        if (work < 32_768 || TrainingParallel.MaxThreads == 1)
        {
            Block(a, aOff, b, bOff, c, cOff, n, k, 0, m, 0, n, accumulate);
            return;
        }
        const int RowChunk = 16, ColChunk = 64;
        if (m >= RowChunk * 2)
        {
            int chunks = (m + RowChunk - 1) / RowChunk;
            TrainingParallel.For(chunks, ch =>
                Block(a, aOff, b, bOff, c, cOff, n, k, ch * RowChunk, Math.Min(m, (ch + 1) * RowChunk), 0, n, accumulate));
        }
        else
        {
            int chunks = (n + ColChunk - 1) / ColChunk;
            TrainingParallel.For(chunks, ch =>
                Block(a, aOff, b, bOff, c, cOff, n, k, 0, m, ch * ColChunk, Math.Min(n, (ch + 1) * ColChunk), accumulate));
        }
    }

    /// <summary>Serial product on the sub-block rows [m0,m1) × columns [n0,n1) of C (row stride <paramref name="ldc"/>).</summary>
    internal static void Block(float[] a, int aOff, float[] b, int bOff, float[] c, int cOff, int ldc, int k,
        int m0, int m1, int n0, int n1, bool accumulate)
    {
        ref float ra = ref MemoryMarshal.GetArrayDataReference(a);
        ref float rb = ref MemoryMarshal.GetArrayDataReference(b);
        int i = m0;
        for (; i + 2 <= m1; i += 2)
        {
            int j = n0;
            for (; j + 4 <= n1; j += 4) Kernel2x4(ref ra, aOff + i * k, ref rb, bOff + j * k, k, c, cOff + i * ldc + j, ldc, accumulate);
            for (; j < n1; j++)
            {
                Store(c, cOff + i * ldc + j, Dot(ref ra, aOff + i * k, ref rb, bOff + j * k, k), accumulate);
                Store(c, cOff + (i + 1) * ldc + j, Dot(ref ra, aOff + (i + 1) * k, ref rb, bOff + j * k, k), accumulate);
            }
        }
        for (; i < m1; i++)
            for (int j = n0; j < n1; j++)
                Store(c, cOff + i * ldc + j, Dot(ref ra, aOff + i * k, ref rb, bOff + j * k, k), accumulate);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(float[] c, int idx, float v, bool accumulate) => c[idx] = accumulate ? c[idx] + v : v;

    /// <summary>One dot product with the canonical instruction sequence.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static float Dot(ref float ra, int ao, ref float rb, int bo, int k)
    {
        int k8 = k & ~7;
        float s = 0;
        if (k8 > 0)
        {
            var acc = Vector256<float>.Zero;
            for (int p = 0; p < k8; p += 8)
                acc = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref ra, (nuint)(ao + p)), Vector256.LoadUnsafe(ref rb, (nuint)(bo + p)), acc);
            s = Vector256.Sum(acc);
        }
        for (int p = k8; p < k; p++) s = MathF.FusedMultiplyAdd(Unsafe.Add(ref ra, ao + p), Unsafe.Add(ref rb, bo + p), s);
        return s;
    }

    private static void Kernel2x4(ref float ra, int ao, ref float rb, int bo, int k, float[] c, int co, int ldc, bool accumulate)
    {
        int k8 = k & ~7;
        Vector256<float> c00 = default, c01 = default, c02 = default, c03 = default;
        Vector256<float> c10 = default, c11 = default, c12 = default, c13 = default;
        int a1 = ao + k, b1 = bo + k, b2 = bo + 2 * k, b3 = bo + 3 * k;
        for (int p = 0; p < k8; p += 8)
        {
            var x0 = Vector256.LoadUnsafe(ref ra, (nuint)(ao + p));
            var x1 = Vector256.LoadUnsafe(ref ra, (nuint)(a1 + p));
            var y0 = Vector256.LoadUnsafe(ref rb, (nuint)(bo + p));
            var y1 = Vector256.LoadUnsafe(ref rb, (nuint)(b1 + p));
            var y2 = Vector256.LoadUnsafe(ref rb, (nuint)(b2 + p));
            var y3 = Vector256.LoadUnsafe(ref rb, (nuint)(b3 + p));
            c00 = Vector256.FusedMultiplyAdd(x0, y0, c00); c01 = Vector256.FusedMultiplyAdd(x0, y1, c01);
            c02 = Vector256.FusedMultiplyAdd(x0, y2, c02); c03 = Vector256.FusedMultiplyAdd(x0, y3, c03);
            c10 = Vector256.FusedMultiplyAdd(x1, y0, c10); c11 = Vector256.FusedMultiplyAdd(x1, y1, c11);
            c12 = Vector256.FusedMultiplyAdd(x1, y2, c12); c13 = Vector256.FusedMultiplyAdd(x1, y3, c13);
        }
        Span<float> s = stackalloc float[8];
        s[0] = k8 > 0 ? Vector256.Sum(c00) : 0; s[1] = k8 > 0 ? Vector256.Sum(c01) : 0;
        s[2] = k8 > 0 ? Vector256.Sum(c02) : 0; s[3] = k8 > 0 ? Vector256.Sum(c03) : 0;
        s[4] = k8 > 0 ? Vector256.Sum(c10) : 0; s[5] = k8 > 0 ? Vector256.Sum(c11) : 0;
        s[6] = k8 > 0 ? Vector256.Sum(c12) : 0; s[7] = k8 > 0 ? Vector256.Sum(c13) : 0;
        for (int p = k8; p < k; p++)
        {
            float x0 = Unsafe.Add(ref ra, ao + p), x1 = Unsafe.Add(ref ra, a1 + p);
            for (int jj = 0; jj < 4; jj++)
            {
                float y = Unsafe.Add(ref rb, bo + jj * k + p);
                s[jj] = MathF.FusedMultiplyAdd(x0, y, s[jj]);
                s[4 + jj] = MathF.FusedMultiplyAdd(x1, y, s[4 + jj]);
            }
        }
        for (int jj = 0; jj < 4; jj++)
        {
            Store(c, co + jj, s[jj], accumulate);
            Store(c, co + ldc + jj, s[4 + jj], accumulate);
        }
    }

    /// <summary>dst[cols, rows] = src[rows, cols]ᵀ.</summary>
    public static void Transpose(float[] src, int srcOff, int rows, int cols, float[] dst, int dstOff)
    {
        const int T = 32;
        for (int r0 = 0; r0 < rows; r0 += T)
            for (int c0 = 0; c0 < cols; c0 += T)
            {
                int r1 = Math.Min(rows, r0 + T), c1 = Math.Min(cols, c0 + T);
                for (int r = r0; r < r1; r++)
                    for (int cc = c0; cc < c1; cc++)
                        dst[dstOff + cc * rows + r] = src[srcOff + r * cols + cc];
            }
    }

    /// <summary>y[i] += alpha · x[i] over the given ranges.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Axpy(float alpha, ReadOnlySpan<float> x, Span<float> y)
    {
        int n = x.Length, i = 0;
        if (n >= 8)
        {
            var va = Vector256.Create(alpha);
            ref float rx = ref MemoryMarshal.GetReference(x);
            ref float ry = ref MemoryMarshal.GetReference(y);
            for (; i + 8 <= n; i += 8)
                Vector256.FusedMultiplyAdd(va, Vector256.LoadUnsafe(ref rx, (nuint)i), Vector256.LoadUnsafe(ref ry, (nuint)i)).StoreUnsafe(ref ry, (nuint)i);
        }
        for (; i < n; i++) y[i] = MathF.FusedMultiplyAdd(alpha, x[i], y[i]);
    }
}
