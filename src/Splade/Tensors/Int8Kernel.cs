using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Splade.Tensors;

/// <summary>
/// The integer register tile shared by <see cref="Int8Gemm"/> and <see cref="Int8ColumnMax"/>:
/// tile[r·32 + lane] = Σ_k u[r][k]·q[lane][k] for up to six rows of unsigned levels u ≤ A and one
/// 32-row panel of signed levels |q| ≤ W, where 4·A·W ≤ 32767 (<see cref="Int8Matrix.ActivationLevels"/>).
/// Each step reads two 4-byte groups per row: <c>vpmaddubsw</c> multiplies bytes and adds adjacent
/// pairs into int16 (|·| ≤ 2·A·W), the two groups are added in int16 (≤ 4·A·W, no overflow), and one
/// <c>vpmaddwd</c> by ones widens and adds pairs into the int32 accumulators. The sums are exact integers.
/// </summary>
internal static unsafe class Int8Kernel
{
    /// <summary>Rows of a full tile.</summary>
    public const int TileRows = 6;

    /// <summary>Dispatches <paramref name="rows"/> (1..6) rows to the kernel compiled for that count.</summary>
    public static void Run(byte* x, int ldx, int rows, sbyte* panel, int kPadded, int* tile)
    {
        switch (rows)
        {
            case 6: Kernel<TileRows6>(x, ldx, panel, kPadded, tile); break;
            case 5: Kernel<TileRows5>(x, ldx, panel, kPadded, tile); break;
            case 4: Kernel<TileRows4>(x, ldx, panel, kPadded, tile); break;
            case 3: Kernel<TileRows3>(x, ldx, panel, kPadded, tile); break;
            case 2: Kernel<TileRows2>(x, ldx, panel, kPadded, tile); break;
            default: Kernel<TileRows1>(x, ldx, panel, kPadded, tile); break;
        }
    }

    /// <summary>Plain twin of one tile entry: Σ_k u[k]·q[k] in 64-bit integers.</summary>
    public static long Reference(ReadOnlySpan<byte> u, Int8Matrix w, int j)
    {
        long sum = 0;
        for (int c = 0; c < w.K; c++) sum += u[c] * w.Level(j, c);
        return sum;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel<R>(byte* x, int ldx, sbyte* panel, int kPadded, int* tile) where R : struct, ITileRows
    {
        int rows = R.Count;
        int* x0 = (int*)x, x1 = (int*)(x + ldx), x2 = (int*)(x + 2 * ldx), x3 = (int*)(x + 3 * ldx), x4 = (int*)(x + 4 * ldx), x5 = (int*)(x + 5 * ldx);
        Vector512<short> ones = Vector512.Create((short)1);
        Vector512<int> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector512<int> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        int groups = kPadded / 4;
        for (int g = 0; g < groups; g += 2)
        {
            // Group g: lanes 0-15 and 16-31; group g + 1 likewise.
            Vector512<sbyte> w0 = Vector512.Load(panel), w1 = Vector512.Load(panel + 64), v0 = Vector512.Load(panel + 128), v1 = Vector512.Load(panel + 192);
            // The weight stream 4 KB ahead: a short call (a query's screened decoder) reads each panel
            // once or twice, straight from memory. Measured on a 10-token query's screen inside the
            // encoder pipeline: 10 % faster on one thread, 4-5 % on two; the encoder GEMM shapes of
            // Int8Gemm (10 and 2560 rows) within ±1 %.
            Sse.Prefetch0(panel + 4096);
            Sse.Prefetch0(panel + 4096 + 64);
            Sse.Prefetch0(panel + 4096 + 128);
            Sse.Prefetch0(panel + 4096 + 192);
            panel += 256;
            Vector512<byte> a = Vector512.Create(x0[g]).AsByte(), b = Vector512.Create(x0[g + 1]).AsByte();
            c00 += Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(a, w0) + Avx512BW.MultiplyAddAdjacent(b, v0), ones);
            c01 += Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(a, w1) + Avx512BW.MultiplyAddAdjacent(b, v1), ones);
            if (rows > 1)
            {
                a = Vector512.Create(x1[g]).AsByte(); b = Vector512.Create(x1[g + 1]).AsByte();
                c10 += Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(a, w0) + Avx512BW.MultiplyAddAdjacent(b, v0), ones);
                c11 += Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(a, w1) + Avx512BW.MultiplyAddAdjacent(b, v1), ones);
            }
            if (rows > 2)
            {
                a = Vector512.Create(x2[g]).AsByte(); b = Vector512.Create(x2[g + 1]).AsByte();
                c20 += Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(a, w0) + Avx512BW.MultiplyAddAdjacent(b, v0), ones);
                c21 += Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(a, w1) + Avx512BW.MultiplyAddAdjacent(b, v1), ones);
            }
            if (rows > 3)
            {
                a = Vector512.Create(x3[g]).AsByte(); b = Vector512.Create(x3[g + 1]).AsByte();
                c30 += Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(a, w0) + Avx512BW.MultiplyAddAdjacent(b, v0), ones);
                c31 += Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(a, w1) + Avx512BW.MultiplyAddAdjacent(b, v1), ones);
            }
            if (rows > 4)
            {
                a = Vector512.Create(x4[g]).AsByte(); b = Vector512.Create(x4[g + 1]).AsByte();
                c40 += Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(a, w0) + Avx512BW.MultiplyAddAdjacent(b, v0), ones);
                c41 += Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(a, w1) + Avx512BW.MultiplyAddAdjacent(b, v1), ones);
            }
            if (rows > 5)
            {
                a = Vector512.Create(x5[g]).AsByte(); b = Vector512.Create(x5[g + 1]).AsByte();
                c50 += Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(a, w0) + Avx512BW.MultiplyAddAdjacent(b, v0), ones);
                c51 += Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(a, w1) + Avx512BW.MultiplyAddAdjacent(b, v1), ones);
            }
        }
        c00.Store(tile); c01.Store(tile + 16);
        if (rows > 1) { c10.Store(tile + 32); c11.Store(tile + 48); }
        if (rows > 2) { c20.Store(tile + 64); c21.Store(tile + 80); }
        if (rows > 3) { c30.Store(tile + 96); c31.Store(tile + 112); }
        if (rows > 4) { c40.Store(tile + 128); c41.Store(tile + 144); }
        if (rows > 5) { c50.Store(tile + 160); c51.Store(tile + 176); }
    }
}
