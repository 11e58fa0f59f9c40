using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Splade.Tensors;

/// <summary>
/// A linear layer W[N, K] (+ bias) prepared for <see cref="ScreenedColumnMax"/>: the exact rows in
/// float (row-major, for exact dot products) and an integer copy, one scale per row, laid out in
/// 32-row panels for the AVX-512 pair-multiply kernel: <c>Data[panel][k/2][lane][2]</c>, of 8-bit
/// (the default) or 16-bit elements. Per-row constants of the error bound are stored alongside.
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
    /// <summary>K rounded up to even (the integer kernel consumes pairs).</summary>
    public int KPadded => (K + 1) & ~1;
    /// <summary>Bits per element of the integer copy: 8 or 16.</summary>
    public int WeightBits { get; }
    /// <summary>Largest weight level: W[j, k] is rounded to s_j·q with q in [−Levels, Levels].</summary>
    public int Levels { get; }
    /// <summary>
    /// Largest activation level (token rows are rounded to [−ActivationLevels, ActivationLevels], stored
    /// as int16): KPadded·Levels·ActivationLevels stays below 2³¹, so the integer sums cannot overflow.
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
    /// <summary>Σ_k |W[j, k]| [PanelCount·32], rounded up.</summary>
    internal float[] L1 { get; private init; } = [];
    /// <summary>Rounding bound of the integer copy: s_j/2 (inflated) [PanelCount·32].</summary>
    internal float[] HalfScale { get; private init; } = [];
    /// <summary>Float evaluation slack for the bias: ε·|b_j| [PanelCount·32].</summary>
    internal float[] BiasSlack { get; private init; } = [];

    /// <summary>Whether this machine has the instructions the integer kernel needs (AVX-512 BW).</summary>
    public static bool IsSupported => Vector512.IsHardwareAccelerated && Avx512BW.IsSupported;

    /// <summary>
    /// Relative slack per unit of Σ|x||w| covering float rounding of any exact dot-product order
    /// (γ_K) and of the scaled integer estimate: (K + 16)·2⁻²⁴, inflated by 1 %.
    /// </summary>
    internal float Slack => (KPadded + 16) * MathF.Pow(2, -24) * 1.01f;

    /// <summary>
    /// Prepares W [n, k] (row-major) and bias [n] (empty = none) with an integer copy of
    /// <paramref name="weightBits"/> (8: 127 levels per row, activations up to 32767 levels;
    /// 16: equal weight and activation levels with K·levels² &lt; 2³¹, at most 16383).
    /// </summary>
    public static QuantizedMatrix Pack(ReadOnlySpan<float> weight, int n, int k, ReadOnlySpan<float> bias, int weightBits = DefaultWeightBits)
    {
        if (n <= 0 || k <= 0) throw new ArgumentOutOfRangeException(nameof(n), $"Matrix shape [{n}, {k}] must be positive.");
        if (weight.Length != (long)n * k) throw new ArgumentException($"Weight has {weight.Length} values, expected {n}x{k}.", nameof(weight));
        if (!bias.IsEmpty && bias.Length != n) throw new ArgumentException($"Bias has {bias.Length} values, expected {n}.", nameof(bias));
        if (weightBits is not (8 or 16)) throw new ArgumentOutOfRangeException(nameof(weightBits), weightBits, "The integer copy has 8 or 16 bits per weight.");
        int kp = (k + 1) & ~1;
        int levels, activationLevels;
        if (weightBits == 16)
        {
            // Equal levels balance the two rounding terms of the bound; 16383 keeps a pair sum of vpmaddwd in range.
            levels = (int)Math.Min(16383, Math.Floor(Math.Sqrt((double)int.MaxValue / kp)) - 1);
            activationLevels = levels;
        }
        else
        {
            levels = 127;
            activationLevels = (int)Math.Max(1, Math.Min(32767, (double)int.MaxValue / ((double)kp * levels) - 1));
        }
        int panels = (n + PanelWidth - 1) / PanelWidth, padded = panels * PanelWidth;
        int size = weightBits / 8;
        var buffer = new AlignedBuffer<byte>((long)panels * kp * PanelWidth * size);
        var scale = new float[padded];
        var l1 = new float[padded];
        var half = new float[padded];
        var slack = new float[padded];
        var b = new float[padded];
        bias.CopyTo(b);
        var m = new QuantizedMatrix(n, k, weightBits, levels, activationLevels)
        {
            Rows = weight.ToArray(), Bias = b, _data = buffer, Scale = scale, L1 = l1, HalfScale = half, BiasSlack = slack,
        };
        float eps = m.Slack;
        Span<byte> bytes = buffer.Span;
        Span<short> shorts = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, short>(bytes);
        for (int j = 0; j < n; j++)
        {
            ReadOnlySpan<float> row = weight.Slice(j * k, k);
            double maxAbs = 0, sumAbs = 0;
            foreach (float v in row) { maxAbs = Math.Max(maxAbs, Math.Abs(v)); sumAbs += Math.Abs(v); }
            float s = (float)(maxAbs / levels);
            scale[j] = s;
            l1[j] = (float)(sumAbs * (1 + 1e-6));
            // |W − s·q| ≤ s/2 needs the quotient rounded in double and s itself; the 0.1 % covers
            // float rounding of s against maxAbs/levels.
            half[j] = s * 0.5f * 1.001f;
            slack[j] = eps * Math.Abs(b[j]);
            int panel = j / PanelWidth, lane = j % PanelWidth;
            long baseIndex = (long)panel * kp * PanelWidth + lane * 2;
            for (int c = 0; c < k; c++)
            {
                int q = s == 0 ? 0 : (int)Math.Clamp(Math.Round(row[c] / (double)s), -levels, levels);
                int index = (int)(baseIndex + (long)(c >> 1) * PanelWidth * 2 + (c & 1));
                if (size == 1) bytes[index] = (byte)(sbyte)q;
                else shorts[index] = (short)q;
            }
        }
        return m;
    }
}
