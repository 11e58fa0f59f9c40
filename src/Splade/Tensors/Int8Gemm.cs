using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Splade.Tensors;

/// <summary>
/// Reduced-precision <c>Linear</c>: Y[M, N] ≈ X[M, K]·W[N, K]ᵀ + b with byte weights
/// (<see cref="Int8Matrix"/>) and byte activations per row (<see cref="Int8Rows"/>):
/// y_tj = a_t·s_j·S_tj + m_t·Σ_k W[j, k] + b_j, where S_tj = Σ_k u_t[k]·q_j[k] is exact
/// (<see cref="Int8Kernel"/>). Each output is one fixed sequence of operations, so results do not
/// depend on batching or the thread count, and equal <see cref="LinearReference"/> bit for bit.
/// </summary>
public static unsafe class Int8Gemm
{
    private const int TileRows = Int8Kernel.TileRows;
    private const int RowBlockTiles = 16;
    private const int CacheBytes = 256 * 1024;

    /// <summary>Y[m, N] (row stride <paramref name="ldy"/>) ≈ X[m, K] (row stride <paramref name="ldx"/>)·Wᵀ + b.</summary>
    /// <exception cref="ArgumentException">An operand is too small for the shapes.</exception>
    /// <exception cref="PlatformNotSupportedException">AVX-512 BW is missing.</exception>
    public static void Linear(ReadOnlySpan<float> x, int m, int ldx, Int8Matrix w, Span<float> y, int ldy, ComputePool pool)
    {
        if (m == 0) return;
        if (!Int8Matrix.IsSupported) throw new PlatformNotSupportedException("The int8 kernels need AVX-512 BW.");
        Check(x, m, ldx, w, y, ldy);
        int n = w.N, kp = w.KPadded, panels = w.PanelCount;
        int mTiles = (m + TileRows - 1) / TileRows;
        int mJobs = (mTiles + RowBlockTiles - 1) / RowBlockTiles;
        int wantedColumnJobs = Math.Max(1, (4 * pool.Threads + mJobs - 1) / mJobs);
        int nb = Math.Min(Math.Max(1, CacheBytes / (kp * Int8Matrix.PanelWidth)), Math.Max(1, (panels + wantedColumnJobs - 1) / wantedColumnJobs));
        int nJobs = (panels + nb - 1) / nb;
        using Int8Rows q = Int8Rows.Quantize(x, m, w.K, ldx, kp, w.ActivationLevels, pool);
        fixed (float* py = y, pscale = w.Scale, psum = w.RowSum, pb = w.Bias, pstep = q.Step, pmin = q.Min)
        fixed (byte* pq = q.Data)
        fixed (sbyte* pw = w.Data)
        {
            var c = new Epilogue { Scale = pscale, RowSum = psum, Bias = pb, Step = pstep, Min = pmin };
            nint ay = (nint)py, aq = (nint)pq, aw = (nint)pw;
            pool.For(mJobs * nJobs, job =>
            {
                int mj = job / nJobs, nj = job % nJobs;
                int* tile = stackalloc int[TileRows * 32];
                float* rowOut = stackalloc float[32];
                int t0 = mj * RowBlockTiles, t1 = Math.Min(mTiles, t0 + RowBlockTiles);
                int p0 = nj * nb, p1 = Math.Min(panels, p0 + nb);
                for (int p = p0; p < p1; p++)
                {
                    sbyte* panel = (sbyte*)aw + (long)p * kp * Int8Matrix.PanelWidth;
                    int col0 = p * 32, cols = Math.Min(32, n - col0);
                    for (int t = t0; t < t1; t++)
                    {
                        int row0 = t * TileRows, rows = Math.Min(TileRows, m - row0);
                        Int8Kernel.Run((byte*)aq + (long)row0 * kp, kp, rows, panel, kp, tile);
                        for (int r = 0; r < rows; r++)
                        {
                            float* dst = (float*)ay + (long)(row0 + r) * ldy + col0;
                            if (cols == 32) c.Row(tile + r * 32, row0 + r, col0, dst);
                            else
                            {
                                c.Row(tile + r * 32, row0 + r, col0, rowOut);
                                new ReadOnlySpan<float>(rowOut, cols).CopyTo(new Span<float>(dst, cols));
                            }
                        }
                    }
                }
            });
        }
    }

    /// <summary>Plain twin: the same quantisation, integer sums in 64 bits, the same float formula per element.</summary>
    public static void LinearReference(ReadOnlySpan<float> x, int m, int ldx, Int8Matrix w, Span<float> y, int ldy)
    {
        if (m == 0) return;
        Check(x, m, ldx, w, y, ldy);
        var u = new byte[w.KPadded];
        for (int t = 0; t < m; t++)
        {
            Int8Rows.QuantizeRow(x.Slice(t * ldx, w.K), u, w.ActivationLevels, out float step, out float min);
            for (int j = 0; j < w.N; j++)
                y[t * ldy + j] = Dequantize(Int8Kernel.Reference(u, w, j), step, min, w, j);
        }
    }

    /// <summary>y = a·s_j·S + (m·Σ_k W[j, k] + b_j), two fused multiply-adds in this order.</summary>
    internal static float Dequantize(long sum, float step, float min, Int8Matrix w, int j) =>
        MathF.FusedMultiplyAdd((float)sum, step * w.Scale[j], MathF.FusedMultiplyAdd(min, w.RowSum[j], w.Bias[j]));

    private static void Check(ReadOnlySpan<float> x, int m, int ldx, Int8Matrix w, Span<float> y, int ldy)
    {
        if (ldx < w.K) throw new ArgumentException($"Row stride {ldx} is smaller than K = {w.K}.", nameof(ldx));
        if (x.Length < (long)(m - 1) * ldx + w.K) throw new ArgumentException($"X is too small for [{m}, {w.K}] with stride {ldx}.", nameof(x));
        if (ldy < w.N || y.Length < (long)(m - 1) * ldy + w.N) throw new ArgumentException($"Y is too small for [{m}, {w.N}] with stride {ldy}.", nameof(y));
    }

    /// <summary>Per-column and per-row constants of the dequantisation (vector form of <see cref="Dequantize"/>).</summary>
    internal sealed class Epilogue
    {
        public float* Scale, RowSum, Bias, Step, Min;

        /// <summary>dst[0..32) = the dequantised sums of one tile row (row index <paramref name="row"/>, columns col0..col0+32).</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Row(int* sums, int row, int col0, float* dst)
        {
            Vector512<float> st = Vector512.Create(Step[row]), mt = Vector512.Create(Min[row]);
            for (int h = 0; h < 32; h += 16)
            {
                Vector512<float> s = Avx512F.ConvertToVector512Single(Vector512.Load(sums + h));
                Vector512<float> offset = Vector512.FusedMultiplyAdd(mt, Vector512.Load(RowSum + col0 + h), Vector512.Load(Bias + col0 + h));
                Vector512.FusedMultiplyAdd(s, st * Vector512.Load(Scale + col0 + h), offset).Store(dst + h);
            }
        }
    }
}
