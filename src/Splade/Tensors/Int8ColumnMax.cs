using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Splade.Tensors;

/// <summary>
/// Reduced-precision SPLADE max: out[s, j] = max(0, max over rows t of segment s of y_tj), where
/// y_tj is the integer estimate of <see cref="Int8Gemm"/> (a_t·s_j·S_tj + m_t·Σ_k W[j, k] + b_j).
/// Unlike <see cref="ScreenedColumnMax"/>, no logit is recomputed in float: the result is an
/// approximation of the exact column max, but it equals <see cref="Reference"/> bit for bit and does
/// not depend on batching or on the thread count (jobs split columns only).
/// </summary>
public static unsafe class Int8ColumnMax
{
    private const int TileRows = Int8Kernel.TileRows;
    private const int PanelsPerJob = 4; // 128 columns, 32 KB of weights for K = 256

    /// <summary>Runs the column max for every segment (rows [starts[s], starts[s] + lengths[s]) of X) into <paramref name="output"/> [segments, N].</summary>
    /// <exception cref="ArgumentException">An operand is too small or a segment is malformed.</exception>
    /// <exception cref="PlatformNotSupportedException">AVX-512 BW is missing.</exception>
    public static void Run(ReadOnlySpan<float> x, int ldx, ReadOnlySpan<int> starts, ReadOnlySpan<int> lengths, Int8Matrix w, Span<float> output, ComputePool pool)
    {
        if (!Int8Matrix.IsSupported) throw new PlatformNotSupportedException("The int8 kernels need AVX-512 BW.");
        int rows = Check(x, ldx, starts, lengths, w, output);
        int segments = starts.Length, n = w.N, kp = w.KPadded;
        output[..(segments * n)].Clear();
        if (rows == 0) return;
        using Int8Rows q = Int8Rows.Quantize(x, rows, w.K, ldx, kp, w.ActivationLevels, pool);
        int[] segStarts = starts.ToArray(), segLengths = lengths.ToArray();
        int jobs = (w.PanelCount + PanelsPerJob - 1) / PanelsPerJob;
        fixed (float* po = output, pscale = w.Scale, psum = w.RowSum, pb = w.Bias, pstep = q.Step, pmin = q.Min)
        fixed (byte* pq = q.Data)
        fixed (sbyte* pw = w.Data)
        {
            var c = new Int8Gemm.Epilogue { Scale = pscale, RowSum = psum, Bias = pb, Step = pstep, Min = pmin };
            nint ao = (nint)po, aq = (nint)pq, aw = (nint)pw;
            pool.For(jobs, job =>
            {
                int p0 = job * PanelsPerJob, p1 = Math.Min(w.PanelCount, p0 + PanelsPerJob);
                int* tile = stackalloc int[TileRows * 32];
                float* row = stackalloc float[32];
                float* best = stackalloc float[PanelsPerJob * 32];
                for (int s = 0; s < segStarts.Length; s++)
                {
                    int start = segStarts[s], len = segLengths[s];
                    if (len == 0) continue;
                    new Span<float>(best, PanelsPerJob * 32).Clear(); // relu: the max starts at 0
                    for (int r0 = 0; r0 < len; r0 += TileRows)
                    {
                        int tr = Math.Min(TileRows, len - r0);
                        byte* xq = (byte*)aq + (long)(start + r0) * kp;
                        for (int p = p0; p < p1; p++)
                        {
                            Int8Kernel.Run(xq, kp, tr, (sbyte*)aw + (long)p * kp * Int8Matrix.PanelWidth, kp, tile);
                            float* b = best + (p - p0) * 32;
                            for (int r = 0; r < tr; r++)
                            {
                                c.Row(tile + r * 32, start + r0 + r, p * 32, row);
                                Vector512.Max(Vector512.Load(b), Vector512.Load(row)).Store(b);
                                Vector512.Max(Vector512.Load(b + 16), Vector512.Load(row + 16)).Store(b + 16);
                            }
                        }
                    }
                    int col0 = p0 * 32, cols = Math.Min(n, p1 * 32) - col0;
                    new ReadOnlySpan<float>(best, cols).CopyTo(new Span<float>((float*)ao + (long)s * n + col0, cols));
                }
            });
        }
    }

    /// <summary>Plain twin: every estimate through <see cref="Int8Gemm.LinearReference"/>'s formula, then max(0, column max).</summary>
    public static void Reference(ReadOnlySpan<float> x, int ldx, ReadOnlySpan<int> starts, ReadOnlySpan<int> lengths, Int8Matrix w, Span<float> output)
    {
        Check(x, ldx, starts, lengths, w, output);
        var u = new byte[w.KPadded];
        output[..(starts.Length * w.N)].Clear();
        for (int s = 0; s < starts.Length; s++)
            for (int t = starts[s]; t < starts[s] + lengths[s]; t++)
            {
                Int8Rows.QuantizeRow(x.Slice(t * ldx, w.K), u, w.ActivationLevels, out float step, out float min);
                for (int j = 0; j < w.N; j++)
                    output[s * w.N + j] = Math.Max(output[s * w.N + j], Int8Gemm.Dequantize(Int8Kernel.Reference(u, w, j), step, min, w, j));
            }
    }

    /// <summary>Validates the operands; returns the number of rows of X that segments cover.</summary>
    private static int Check(ReadOnlySpan<float> x, int ldx, ReadOnlySpan<int> starts, ReadOnlySpan<int> lengths, Int8Matrix w, Span<float> output)
    {
        int segments = starts.Length;
        if (lengths.Length != segments) throw new ArgumentException("starts and lengths differ in length.", nameof(lengths));
        if (output.Length < (long)segments * w.N) throw new ArgumentException($"Output is too small for [{segments}, {w.N}].", nameof(output));
        if (ldx < w.K) throw new ArgumentException($"Row stride {ldx} is smaller than K = {w.K}.", nameof(ldx));
        int rows = 0;
        for (int s = 0; s < segments; s++)
        {
            if (starts[s] < 0 || lengths[s] < 0) throw new ArgumentException($"Segment {s} has a negative start or length.");
            rows = Math.Max(rows, starts[s] + lengths[s]);
        }
        if (rows > 0 && x.Length < (long)(rows - 1) * ldx + w.K) throw new ArgumentException($"X is too small for [{rows}, {w.K}] with stride {ldx}.", nameof(x));
        return rows;
    }
}
