using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Splade.Tensors;

/// <summary>
/// A linear layer W[N, K] (+ bias) prepared for <see cref="ScreenedColumnMax"/>: the exact rows in
/// float (row-major, for exact dot products) and a 16-bit integer copy, one scale per row, laid out
/// in 32-row panels for the AVX-512 pair-multiply kernel: <c>Data[panel][k/2][lane][2]</c>.
/// Per-row constants of the error bound are stored alongside.
/// </summary>
public sealed class QuantizedMatrix
{
    /// <summary>Rows per panel (two Vector512 of int32 sums).</summary>
    public const int PanelWidth = 32;

    private QuantizedMatrix(int n, int k, int levels) { N = n; K = k; Levels = levels; }

    /// <summary>Output features (rows of W).</summary>
    public int N { get; }
    /// <summary>Input features (columns of W).</summary>
    public int K { get; }
    /// <summary>K rounded up to even (the integer kernel consumes pairs).</summary>
    public int KPadded => (K + 1) & ~1;
    /// <summary>Largest integer level: values are rounded to [−Levels, Levels]; K·Levels² stays below 2³¹.</summary>
    public int Levels { get; }
    /// <summary>Number of 32-row panels.</summary>
    public int PanelCount => (N + PanelWidth - 1) / PanelWidth;

    /// <summary>W row-major [N, K], exact.</summary>
    internal float[] Rows { get; private init; } = [];
    /// <summary>Bias [PanelCount·32], zero padded.</summary>
    internal float[] Bias { get; private init; } = [];
    private AlignedBuffer<short> _data = new(0);

    /// <summary>Integer panels [PanelCount][KPadded/2][32][2], 64-byte aligned.</summary>
    internal Span<short> Data => _data.Span;
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

    /// <summary>Prepares W [n, k] (row-major) and bias [n] (empty = none).</summary>
    public static QuantizedMatrix Pack(ReadOnlySpan<float> weight, int n, int k, ReadOnlySpan<float> bias)
    {
        if (n <= 0 || k <= 0) throw new ArgumentOutOfRangeException(nameof(n), $"Matrix shape [{n}, {k}] must be positive.");
        if (weight.Length != (long)n * k) throw new ArgumentException($"Weight has {weight.Length} values, expected {n}x{k}.", nameof(weight));
        if (!bias.IsEmpty && bias.Length != n) throw new ArgumentException($"Bias has {bias.Length} values, expected {n}.", nameof(bias));
        int kp = (k + 1) & ~1;
        int levels = (int)Math.Min(16383, Math.Floor(Math.Sqrt((double)int.MaxValue / kp)) - 1);
        int panels = (n + PanelWidth - 1) / PanelWidth, padded = panels * PanelWidth;
        var buffer = new AlignedBuffer<short>((long)panels * kp * PanelWidth);
        Span<short> data = buffer.Span;
        var scale = new float[padded];
        var l1 = new float[padded];
        var half = new float[padded];
        var slack = new float[padded];
        var b = new float[padded];
        bias.CopyTo(b);
        var m = new QuantizedMatrix(n, k, levels) { Rows = weight.ToArray(), Bias = b, _data = buffer, Scale = scale, L1 = l1, HalfScale = half, BiasSlack = slack };
        float eps = m.Slack;
        for (int j = 0; j < n; j++)
        {
            ReadOnlySpan<float> row = weight.Slice(j * k, k);
            double maxAbs = 0, sumAbs = 0;
            foreach (float v in row) { maxAbs = Math.Max(maxAbs, Math.Abs(v)); sumAbs += Math.Abs(v); }
            float s = (float)(maxAbs / levels);
            scale[j] = s;
            l1[j] = (float)(sumAbs * (1 + 1e-6));
            half[j] = s * 0.5f * 1.001f;
            slack[j] = eps * Math.Abs(b[j]);
            int panel = j / PanelWidth, lane = j % PanelWidth;
            long baseIndex = (long)panel * kp * PanelWidth + lane * 2;
            for (int c = 0; c < k; c++)
            {
                int q = s == 0 ? 0 : (int)Math.Clamp(Math.Round(row[c] / (double)s), -levels, levels);
                data[(int)(baseIndex + (long)(c >> 1) * PanelWidth * 2 + (c & 1))] = (short)q;
            }
        }
        return m;
    }
}
