using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Splade.Tensors;

/// <summary>
/// A linear layer W[N, K] (+ bias) in reduced precision for <see cref="Int8Gemm"/> and
/// <see cref="Int8ColumnMax"/>: W[j, k] ≈ s_j·q[j, k] with q in [−<see cref="WeightLevels"/>,
/// <see cref="WeightLevels"/>] (symmetric, one scale per output row), laid out in 32-row panels of
/// 4-byte groups for the AVX-512 byte multiply-add: <c>Data[panel][k/4][lane][4]</c>, K padded with
/// zeros to a multiple of 8. The exact float row sums Σ_k W[j, k] are kept for the zero point of the
/// activations (see <see cref="Int8Rows"/>).
/// </summary>
/// <remarks>
/// Two steps of <c>vpmaddubsw</c> (u8 × s8, pairs summed) are added in 16 bits before widening, so
/// weight and activation levels satisfy 4·<see cref="ActivationLevels"/>·<see cref="WeightLevels"/> ≤ 32767
/// and the integer sums are exact: 63 weight levels leave 130 activation levels, 127 leave 64.
/// </remarks>
public sealed class Int8Matrix
{
    /// <summary>Rows of W per panel (two Vector512 of int32 sums).</summary>
    public const int PanelWidth = 32;
    /// <summary>Default largest weight level (q in [−63, 63], activations in [0, 130]).</summary>
    public const int DefaultWeightLevels = 63;

    private Int8Matrix(int n, int k, int weightLevels)
    {
        N = n;
        K = k;
        WeightLevels = weightLevels;
        ActivationLevels = Math.Min(255, 32767 / (4 * weightLevels)); // u is one byte
    }

    /// <summary>Largest weight level: q in [−WeightLevels, WeightLevels].</summary>
    public int WeightLevels { get; }
    /// <summary>Largest activation level the kernels can take with these weights: u in [0, ActivationLevels].</summary>
    public int ActivationLevels { get; }

    /// <summary>Output features (rows of W).</summary>
    public int N { get; }
    /// <summary>Input features (columns of W).</summary>
    public int K { get; }
    /// <summary>K rounded up to a multiple of 8 (the kernel consumes two 4-byte groups per step).</summary>
    public int KPadded => (K + 7) & ~7;
    /// <summary>Number of 32-row panels.</summary>
    public int PanelCount => (N + PanelWidth - 1) / PanelWidth;

    /// <summary>Integer panels [PanelCount][KPadded/4][32][4].</summary>
    internal sbyte[] Data { get; private init; } = [];
    /// <summary>Row scale s_j [PanelCount·32] (0 for a zero row and for padding).</summary>
    internal float[] Scale { get; private init; } = [];
    /// <summary>Σ_k W[j, k] [PanelCount·32], exact sum rounded once to float.</summary>
    internal float[] RowSum { get; private init; } = [];
    /// <summary>Bias [PanelCount·32], zero padded.</summary>
    internal float[] Bias { get; private init; } = [];

    /// <summary>Whether this machine has the instructions the kernels need (AVX-512 BW).</summary>
    public static bool IsSupported => Vector512.IsHardwareAccelerated && Avx512BW.IsSupported;

    /// <summary>Quantises W [n, k] (row-major) with bias [n] (empty = none) to <paramref name="weightLevels"/> levels each side of 0 (2..127).</summary>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is not positive or the level count is outside 2..127.</exception>
    /// <exception cref="ArgumentException">weight or bias has the wrong length.</exception>
    public static Int8Matrix Quantize(ReadOnlySpan<float> weight, int n, int k, ReadOnlySpan<float> bias, int weightLevels = DefaultWeightLevels)
    {
        if (weightLevels is < 2 or > 127) throw new ArgumentOutOfRangeException(nameof(weightLevels), weightLevels, "Weight levels must be in 2..127.");
        if (n <= 0 || k <= 0) throw new ArgumentOutOfRangeException(nameof(n), $"Matrix shape [{n}, {k}] must be positive.");
        if (weight.Length != (long)n * k) throw new ArgumentException($"Weight has {weight.Length} values, expected {n}x{k}.", nameof(weight));
        if (!bias.IsEmpty && bias.Length != n) throw new ArgumentException($"Bias has {bias.Length} values, expected {n}.", nameof(bias));
        int kp = (k + 7) & ~7;
        int panels = (n + PanelWidth - 1) / PanelWidth, padded = panels * PanelWidth;
        var data = new sbyte[(long)panels * kp * PanelWidth];
        var scale = new float[padded];
        var rowSum = new float[padded];
        var b = new float[padded];
        bias.CopyTo(b);
        for (int j = 0; j < n; j++)
        {
            ReadOnlySpan<float> row = weight.Slice(j * k, k);
            double maxAbs = 0, sum = 0;
            foreach (float v in row) { maxAbs = Math.Max(maxAbs, Math.Abs(v)); sum += v; }
            float s = (float)(maxAbs / weightLevels);
            scale[j] = s;
            rowSum[j] = (float)sum;
            int panel = j / PanelWidth, lane = j % PanelWidth;
            long baseIndex = (long)panel * kp * PanelWidth + lane * 4;
            for (int c = 0; c < k; c++)
            {
                int q = s == 0 ? 0 : (int)Math.Clamp(Math.Round(row[c] / (double)s), -weightLevels, weightLevels);
                data[baseIndex + (long)(c >> 2) * PanelWidth * 4 + (c & 3)] = (sbyte)q;
            }
        }
        return new Int8Matrix(n, k, weightLevels) { Data = data, Scale = scale, RowSum = rowSum, Bias = b };
    }

    /// <summary>The integer level q[j, c] (for reference computations and tests).</summary>
    internal int Level(int j, int c) => Data[(long)(j / PanelWidth) * KPadded * PanelWidth + (long)(c >> 2) * PanelWidth * 4 + (j % PanelWidth) * 4 + (c & 3)];
}
