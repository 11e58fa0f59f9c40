using System.Buffers;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Splade.Tensors;

/// <summary>
/// Rows of activations quantised per row (per token), asymmetrically: x[k] ≈ m + a·u[k] with
/// m = min_k x[k], a = (max_k x[k] − m)/L and u[k] = round((x[k] − m)/a) in [0, L], L the
/// matrix's <see cref="Int8Matrix.ActivationLevels"/>. Then
/// Σ_k x[k]·W[j, k] ≈ a·s_j·Σ_k u[k]·q[j, k] + m·Σ_k W[j, k], whose error is Σ_k e[k]·W[j, k] +
/// a·Σ_k u[k]·(W[j, k] − s_j·q[j, k]) with |e[k]| ≤ a/2 and |W − s·q| ≤ s/2. A constant row (a = 0)
/// is exact. Buffers come from <see cref="ArrayPool{T}"/>; dispose to return them.
/// </summary>
internal sealed unsafe class Int8Rows : IDisposable
{
    private Int8Rows(int rows, int kPadded)
    {
        Rows = rows;
        KPadded = kPadded;
        Data = ArrayPool<byte>.Shared.Rent(Math.Max(1, rows * kPadded));
        Step = ArrayPool<float>.Shared.Rent(Math.Max(1, rows));
        Min = ArrayPool<float>.Shared.Rent(Math.Max(1, rows));
    }

    /// <summary>Number of rows.</summary>
    public int Rows { get; }
    /// <summary>Row stride of <see cref="Data"/> (K padded with zero levels).</summary>
    public int KPadded { get; }
    /// <summary>Levels u [Rows, KPadded].</summary>
    public byte[] Data { get; }
    /// <summary>Step a per row.</summary>
    public float[] Step { get; }
    /// <summary>Zero point m (row minimum) per row.</summary>
    public float[] Min { get; }

    /// <summary>Quantises rows [0, rows) of X [rows, k] (row stride <paramref name="ldx"/>), row blocks split over the pool.</summary>
    public static Int8Rows Quantize(ReadOnlySpan<float> x, int rows, int k, int ldx, int kPadded, int levels, ComputePool pool)
    {
        var q = new Int8Rows(rows, kPadded);
        if (rows == 0) return q;
        const int RowsPerJob = 64;
        fixed (float* px = x)
        {
            nint ax = (nint)px;
            pool.For((rows + RowsPerJob - 1) / RowsPerJob, j =>
            {
                int r1 = Math.Min(rows, (j + 1) * RowsPerJob);
                for (int r = j * RowsPerJob; r < r1; r++)
                    QuantizeRow(new ReadOnlySpan<float>((float*)ax + (long)r * ldx, k), q.Data.AsSpan(r * kPadded, kPadded), levels, out q.Step[r], out q.Min[r]);
            });
        }
        return q;
    }

    /// <summary>One row to [0, <paramref name="top"/>]: levels into <paramref name="levels"/> (its tail beyond x is zeroed), step and zero point out.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void QuantizeRow(ReadOnlySpan<float> x, Span<byte> levels, int top, out float step, out float min)
    {
        int k = x.Length;
        levels[k..].Clear();
        min = TensorPrimitives.Min(x);
        float range = TensorPrimitives.Max(x) - min;
        if (!(range > 0) || !float.IsFinite(range))
        {
            // Constant row: x = m exactly (a non-finite row propagates through m).
            step = 0;
            levels[..k].Clear();
            return;
        }
        step = range / top;
        float inv = top / range;
        int c = 0;
        fixed (float* px = x)
        fixed (byte* pq = levels)
        {
            if (Vector512.IsHardwareAccelerated && Avx512F.IsSupported)
            {
                Vector512<float> vm = Vector512.Create(min), vi = Vector512.Create(inv);
                Vector512<int> hi = Vector512.Create(top);
                for (; c + 16 <= k; c += 16)
                {
                    // vcvtps2dq rounds to nearest even, as MathF.Round does in the scalar tail.
                    Vector512<int> u = Avx512F.ConvertToVector512Int32((Vector512.Load(px + c) - vm) * vi);
                    u = Vector512.Min(Vector512.Max(u, Vector512<int>.Zero), hi);
                    Avx512F.ConvertToVector128Byte(u).Store(pq + c);
                }
            }
            for (; c < k; c++) pq[c] = Level(px[c], min, inv, top);
        }
    }

    /// <summary>The scalar rule: round((x − m)·(top/range)) clamped to [0, top].</summary>
    public static byte Level(float x, float min, float inv, int top) => (byte)Math.Clamp((int)MathF.Round((x - min) * inv), 0, top);

    public void Dispose()
    {
        ArrayPool<byte>.Shared.Return(Data);
        ArrayPool<float>.Shared.Return(Step);
        ArrayPool<float>.Shared.Return(Min);
    }
}
