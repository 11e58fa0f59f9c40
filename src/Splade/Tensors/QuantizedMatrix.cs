using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Splade.Tensors;

/// <summary>
/// A linear layer W[N, K] (+ bias) prepared for <see cref="ScreenedColumnMax"/>: the exact rows in
/// float (row-major, for exact dot products) and an integer copy, one scale per row, laid out in
/// 32-row panels. 8 bits (the default): 63 levels, <c>Data[panel][k/4][lane][4]</c> for the byte
/// kernel <see cref="Int8Kernel"/> (unsigned activation bytes); 16 bits: <c>Data[panel][k/2][lane][2]</c>
/// for the <c>vpmaddwd</c> kernel. Per-row constants of the error bound are stored alongside.
/// </summary>
public sealed class QuantizedMatrix
{
    /// <summary>Rows per panel (two Vector512 of int32 sums).</summary>
    public const int PanelWidth = 32;

    /// <summary>Width of the integer copy when none is asked for: 8 bits, half the memory traffic of 16.</summary>
    public const int DefaultWeightBits = 8;

    private QuantizedMatrix(int n, int k, int bits, int levels, int activationLevels)
    {
        N = n; K = k; WeightBits = bits; Levels = levels; ActivationLevels = activationLevels;
    }

    /// <summary>Output features (rows of W).</summary>
    public int N { get; }
    /// <summary>Input features (columns of W).</summary>
    public int K { get; }
    /// <summary>K rounded up to what the integer kernel consumes per step: 8 (two 4-byte groups) for 8-bit weights, 2 for 16-bit.</summary>
    public int KPadded => WeightBits == 8 ? (K + 7) & ~7 : (K + 1) & ~1;
    /// <summary>Bits per element of the integer copy: 8 or 16.</summary>
    public int WeightBits { get; }
    /// <summary>Largest weight level: W[j, k] is rounded to s_j·q with q in [−Levels, Levels].</summary>
    public int Levels { get; }
    /// <summary>
    /// Largest activation level: token rows are rounded to q in [−ActivationLevels, ActivationLevels].
    /// 16 bits: equal to <see cref="Levels"/>, K·Levels² &lt; 2³¹. 8 bits: the byte kernel takes
    /// u = q + ActivationLevels in [0, 2·ActivationLevels] and adds four products in int16, so
    /// 4·2·ActivationLevels·Levels ≤ 32767.
    /// </summary>
    public int ActivationLevels { get; }
    /// <summary>Number of 32-row panels.</summary>
    public int PanelCount => (N + PanelWidth - 1) / PanelWidth;
    /// <summary>Bytes of the integer copy.</summary>
    public long IntegerBytes => _data.Length;

    /// <summary>W row-major [N, K], exact.</summary>
    internal float[] Rows { get; private init; } = [];
    /// <summary>Bias [PanelCount·32], zero padded.</summary>
    internal float[] Bias { get; private init; } = [];
    private AlignedBuffer<byte> _data = new(0);

    /// <summary>Integer panels [PanelCount][KPadded/2][32][2] of sbyte or short (see <see cref="WeightBits"/>), 64-byte aligned.</summary>
    internal Span<byte> Data => _data.Span;
    /// <summary>Row scale s_j (W[j, k] ≈ s_j·q[j, k]) [PanelCount·32].</summary>
    internal float[] Scale { get; private init; } = [];
    /// <summary>‖W_j‖₂ [PanelCount·32], rounded up.</summary>
    internal float[] L2 { get; private init; } = [];
    /// <summary>‖W_j − s_j·q_j‖₂, the rounding residual of the integer copy [PanelCount·32], rounded up.</summary>
    internal float[] ResidualL2 { get; private init; } = [];
    /// <summary>Float evaluation slack for the bias: ε·|b_j| [PanelCount·32].</summary>
    internal float[] BiasSlack { get; private init; } = [];
    /// <summary>
    /// 8 bits: ActivationLevels·Σ_k q[j, k] [PanelCount·32], what the unsigned offset of the activations
    /// adds to the integer sum (Σ u·q = Σ q_x·q + ActivationLevels·Σ q), subtracted exactly. 16 bits: empty.
    /// </summary>
    internal int[] Offset { get; private init; } = [];

    /// <summary>Whether this machine has the instructions the integer kernel needs (AVX-512 BW).</summary>
    public static bool IsSupported => Vector512.IsHardwareAccelerated && Avx512BW.IsSupported;

    /// <summary>
    /// Relative slack per unit of Σ|x||w| covering float rounding of any exact dot-product order
    /// (γ_K) and of the scaled integer estimate: (K + 16)·2⁻²⁴, inflated by 1 %.
    /// </summary>
    internal float Slack => (KPadded + 16) * MathF.Pow(2, -24) * 1.01f;

    /// <summary>
    /// Prepares W [n, k] (row-major) and bias [n] (empty = none) with an integer copy of
    /// <paramref name="weightBits"/> (8: 63 weight and 65 activation levels; 16: equal weight and
    /// activation levels with K·levels² &lt; 2³¹, at most 16383).
    /// </summary>
    public static QuantizedMatrix Pack(ReadOnlySpan<float> weight, int n, int k, ReadOnlySpan<float> bias, int weightBits = DefaultWeightBits) =>
        Pack(weight, n, k, bias, weightBits, ComputePool.Serial);

    /// <summary>As <see cref="Pack(ReadOnlySpan{float}, int, int, ReadOnlySpan{float}, int)"/> with the rows split over <paramref name="pool"/> (training repacks the decoder every step); the result does not depend on the thread count.</summary>
    public static QuantizedMatrix Pack(ReadOnlySpan<float> weight, int n, int k, ReadOnlySpan<float> bias, int weightBits, ComputePool pool) =>
        Pack(weight, n, k, bias, weightBits, pool, plainRows: false);

    /// <summary>With <paramref name="plainRows"/>, every row goes through the plain twin <see cref="QuantizeRowReference"/> (tests).</summary>
    internal static unsafe QuantizedMatrix Pack(ReadOnlySpan<float> weight, int n, int k, ReadOnlySpan<float> bias, int weightBits, ComputePool pool, bool plainRows)
    {
        if (n <= 0 || k <= 0) throw new ArgumentOutOfRangeException(nameof(n), $"Matrix shape [{n}, {k}] must be positive.");
        if (weight.Length != (long)n * k) throw new ArgumentException($"Weight has {weight.Length} values, expected {n}x{k}.", nameof(weight));
        if (!bias.IsEmpty && bias.Length != n) throw new ArgumentException($"Bias has {bias.Length} values, expected {n}.", nameof(bias));
        if (weightBits is not (8 or 16)) throw new ArgumentOutOfRangeException(nameof(weightBits), weightBits, "The integer copy has 8 or 16 bits per weight.");
        int kp = weightBits == 8 ? (k + 7) & ~7 : (k + 1) & ~1;
        int levels, activationLevels;
        if (weightBits == 16)
        {
            // Equal levels balance the two rounding terms of the bound; 16383 keeps a pair sum of vpmaddwd in range.
            levels = (int)Math.Min(16383, Math.Floor(Math.Sqrt((double)int.MaxValue / kp)) - 1);
            activationLevels = levels;
        }
        else
        {
            // 4·130·63 = 32760: the byte kernel's int16 sums of four products cannot saturate. The two
            // rounding terms of the bound are then of similar size (63 against 65 levels).
            levels = 63;
            activationLevels = 65;
            if ((long)kp * 2 * activationLevels * levels > int.MaxValue)
                throw new ArgumentOutOfRangeException(nameof(k), k, $"K = {k} is too large for the int32 sums of the 8-bit copy; use 16 bits.");
        }
        int panels = (n + PanelWidth - 1) / PanelWidth, padded = panels * PanelWidth;
        int size = weightBits / 8;
        var buffer = new AlignedBuffer<byte>((long)panels * kp * PanelWidth * size);
        var scale = new float[padded];
        var l2 = new float[padded];
        var residual = new float[padded];
        var slack = new float[padded];
        var b = new float[padded];
        bias.CopyTo(b);
        var offset = weightBits == 8 ? new int[padded] : [];
        var m = new QuantizedMatrix(n, k, weightBits, levels, activationLevels)
        {
            Rows = weight.ToArray(), Bias = b, _data = buffer, Scale = scale, L2 = l2, ResidualL2 = residual, BiasSlack = slack, Offset = offset,
        };
        float eps = m.Slack;
        float[] rowsCopy = m.Rows;
        int jobs = (n + 1023) / 1024;
        fixed (byte* pbytes = buffer.Span)
        {
        nint abytes = (nint)pbytes;
        int bufferLength = buffer.Length;
        pool.For(jobs, job =>
        {
        Span<byte> bytes = new Span<byte>((byte*)abytes, bufferLength);
        Span<short> shorts = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, short>(bytes);
        for (int j = job * 1024; j < Math.Min(n, job * 1024 + 1024); j++)
        {
            ReadOnlySpan<float> row = rowsCopy.AsSpan(j * k, k);
            int panel = j / PanelWidth, lane = j % PanelWidth;
            // Elements per group: 4 bytes ([k/4][lane][4]) or 2 shorts ([k/2][lane][2]).
            int group = size == 1 ? 4 : 2;
            long baseIndex = (long)panel * kp * PanelWidth + lane * group;
            RowStatistics st = !plainRows && size == 1 && k % 16 == 0 && Avx512F.IsSupported
                ? QuantizeRowBytes(row, levels, bytes, baseIndex)
                : QuantizeRowReference(row, levels, size, bytes, shorts, baseIndex);
            scale[j] = st.Scale;
            // Norms in double (relative error about K·2⁻⁵³), inflated by 10⁻⁶ before the rounding to float.
            l2[j] = (float)(Math.Sqrt(st.SumSquares) * (1 + 1e-6));
            slack[j] = eps * Math.Abs(b[j]);
            if (size == 1) offset[j] = checked((int)(activationLevels * st.QSum));
            residual[j] = (float)(Math.Sqrt(st.ResidualSquares) * (1 + 1e-6));
        }
        });
        }
        return m;
    }

    private readonly record struct RowStatistics(float Scale, double SumSquares, long QSum, double ResidualSquares);

    /// <summary>
    /// One row's scale s = max|w|/levels, integer copy q = clamp(round(w·(1/s))) (ties to even) written
    /// into the panel layout at <paramref name="baseIndex"/>, Σw², Σq and the residual Σ(w − s·q)², all in
    /// double: the plain twin of <see cref="QuantizeRowBytes"/> and the path for 16 bits and odd K.
    /// </summary>
    private static RowStatistics QuantizeRowReference(ReadOnlySpan<float> row, int levels, int size, Span<byte> bytes, Span<short> shorts, long baseIndex)
    {
        double maxAbs = 0, sumSquares = 0;
        foreach (float v in row) { maxAbs = Math.Max(maxAbs, Math.Abs(v)); sumSquares += (double)v * v; }
        float s = (float)(maxAbs / levels);
        int group = size == 1 ? 4 : 2;
        long qsum = 0;
        double residualSquares = 0;
        // Any integer q in [−levels, levels] keeps the bound exact (the residual is measured, not assumed):
        // q = round(w·(1/s)) with the reciprocal once per row; the layout index advances per group.
        double inverse = s == 0 ? 0 : 1.0 / s;
        int groupStride = PanelWidth * group;
        long index = baseIndex;
        int k = row.Length;
        for (int c0 = 0; c0 < k; c0 += group, index += groupStride)
        {
            int width = Math.Min(group, k - c0);
            for (int g = 0; g < width; g++)
            {
                float v = row[c0 + g];
                int q = (int)Math.Clamp(Math.Round(v * inverse), -levels, levels);
                double r = v - (double)s * q; // s·q is exact in double
                residualSquares += r * r;
                if (size == 1) bytes[(int)(index + g)] = (byte)(sbyte)q;
                else shorts[(int)(index + g)] = (short)q;
                qsum += q;
            }
        }
        return new RowStatistics(s, sumSquares, qsum, residualSquares);
    }

    /// <summary>
    /// <see cref="QuantizeRowReference"/> for 8 bits and K a multiple of 16, 16 weights at a time in double
    /// lanes: the same q and scale; Σw² and the residual are summed in another order (they enter the
    /// bound inflated by 10⁻⁶, far above that difference).
    /// </summary>
    private static unsafe RowStatistics QuantizeRowBytes(ReadOnlySpan<float> row, int levels, Span<byte> bytes, long baseIndex)
    {
        float maxAbs = 0;
        foreach (float v in row) maxAbs = Math.Max(maxAbs, Math.Abs(v)); // exact in float, as in double
        float s = (float)((double)maxAbs / levels);
        double inverse = s == 0 ? 0 : 1.0 / s;
        var vInverse = Vector512.Create(inverse);
        var vScale = Vector512.Create((double)s);
        var hi = Vector512.Create((double)levels);
        var lo = Vector512.Create(-(double)levels);
        Vector512<double> squares = Vector512<double>.Zero, residual = Vector512<double>.Zero;
        Vector512<int> qsum = Vector512<int>.Zero;
        fixed (float* pr = row)
        fixed (byte* pb = bytes)
        {
            int* dst = (int*)(pb + baseIndex);
            for (int c = 0; c < row.Length; c += 16, dst += 4 * PanelWidth)
            {
                Vector256<float> f = Vector256.Load(pr + c), g = Vector256.Load(pr + c + 8);
                Vector512<double> a = Avx512F.ConvertToVector512Double(f), bb = Avx512F.ConvertToVector512Double(g);
                squares = Vector512.FusedMultiplyAdd(a, a, squares);
                squares = Vector512.FusedMultiplyAdd(bb, bb, squares);
                Vector512<double> qa = Vector512.Min(Vector512.Max(Vector512.Round(a * vInverse), lo), hi);
                Vector512<double> qb = Vector512.Min(Vector512.Max(Vector512.Round(bb * vInverse), lo), hi);
                Vector512<double> ra = a - vScale * qa, rb = bb - vScale * qb; // s·q exact
                residual = Vector512.FusedMultiplyAdd(ra, ra, residual);
                residual = Vector512.FusedMultiplyAdd(rb, rb, residual);
                Vector512<int> q = Vector512.Create(Avx512F.ConvertToVector256Int32(qa), Avx512F.ConvertToVector256Int32(qb));
                qsum += q;
                Vector128<int> packed = Avx512F.ConvertToVector128SByte(q).AsInt32(); // 16 bytes: four groups of 4
                dst[0] = packed.GetElement(0);
                dst[PanelWidth] = packed.GetElement(1);
                dst[2 * PanelWidth] = packed.GetElement(2);
                dst[3 * PanelWidth] = packed.GetElement(3);
            }
        }
        return new RowStatistics(s, Vector512.Sum(squares), Vector512.Sum(qsum), Vector512.Sum(residual));
    }
}
