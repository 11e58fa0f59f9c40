namespace Splade.Tensors;

/// <summary>
/// The weight of a linear layer in PyTorch layout W[N, K] (y = x·Wᵀ + b), re-laid out once at load
/// time as column panels: <c>Data[panel][k][lane]</c> holds W[panel·PanelWidth + lane, k], zero padded
/// to a whole panel. The GEMM micro-kernel then reads PanelWidth consecutive floats per k.
/// </summary>
public sealed class PackedMatrix
{
    private PackedMatrix(int n, int k, int panelWidth, AlignedBuffer<float> data, float[] bias)
    {
        N = n;
        K = k;
        PanelWidth = panelWidth;
        _data = data;
        Bias = bias;
    }

    /// <summary>Output features (rows of W).</summary>
    public int N { get; }

    /// <summary>Input features (columns of W).</summary>
    public int K { get; }

    /// <summary>Columns of Y per panel: 32 with Vector512, 16 with Vector256.</summary>
    public int PanelWidth { get; }

    /// <summary>Number of panels, ceil(N / PanelWidth).</summary>
    public int PanelCount => (N + PanelWidth - 1) / PanelWidth;

    private readonly AlignedBuffer<float> _data;

    /// <summary>Packed weights [PanelCount][K][PanelWidth], 64-byte aligned.</summary>
    internal Span<float> Data => _data.Span;

    /// <summary>Bias padded to [PanelCount·PanelWidth] (zeros where the layer has none).</summary>
    internal float[] Bias { get; }

    /// <summary>The panel width the fastest available kernel uses on this machine.</summary>
    public static int DefaultPanelWidth => System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated ? 32 : 16;

    /// <summary>Packs W [n, k] (row-major) and an optional bias [n] (empty span = none).</summary>
    /// <param name="weight">W [n, k], row-major.</param>
    /// <param name="n">Output features.</param>
    /// <param name="k">Input features.</param>
    /// <param name="bias">b [n], or empty.</param>
    /// <param name="panelWidth">16 (Vector256 kernel) or 32 (Vector512 kernel); 0 = <see cref="DefaultPanelWidth"/>.</param>
    public static PackedMatrix Pack(ReadOnlySpan<float> weight, int n, int k, ReadOnlySpan<float> bias, int panelWidth = 0)
    {
        if (panelWidth == 0) panelWidth = DefaultPanelWidth;
        if (panelWidth != 16 && panelWidth != 32) throw new ArgumentOutOfRangeException(nameof(panelWidth), panelWidth, "Panel width must be 16 or 32.");
        if (n <= 0 || k <= 0) throw new ArgumentOutOfRangeException(nameof(n), $"Matrix shape [{n}, {k}] must be positive.");
        if (weight.Length != (long)n * k) throw new ArgumentException($"Weight has {weight.Length} values, expected {n}x{k}.", nameof(weight));
        if (!bias.IsEmpty && bias.Length != n) throw new ArgumentException($"Bias has {bias.Length} values, expected {n}.", nameof(bias));
        int panels = (n + panelWidth - 1) / panelWidth;
        var buffer = new AlignedBuffer<float>((long)panels * k * panelWidth);
        Span<float> data = buffer.Span;
        for (int row = 0; row < n; row++)
        {
            int panel = row / panelWidth, lane = row % panelWidth;
            ReadOnlySpan<float> src = weight.Slice(row * k, k);
            long baseIndex = (long)panel * k * panelWidth + lane;
            for (int c = 0; c < k; c++) data[(int)(baseIndex + (long)c * panelWidth)] = src[c];
        }
        var paddedBias = new float[panels * panelWidth];
        bias.CopyTo(paddedBias);
        return new PackedMatrix(n, k, panelWidth, buffer, paddedBias);
    }

    /// <summary>
    /// Packs the transpose of A [rows, cols] (row stride <paramref name="lda"/>) as a weight without bias:
    /// the result has N = cols and K = rows, so <see cref="Gemm.Linear(ReadOnlySpan{float}, int, int, PackedMatrix, Span{float}, int, ComputePool)"/>
    /// with it computes Y = X·A. Panel p holds columns [p·PanelWidth, (p + 1)·PanelWidth) of A, each of its
    /// rows a contiguous run of A's row: a strided copy, split over panels.
    /// </summary>
    public static PackedMatrix PackTransposed(ReadOnlySpan<float> a, int rows, int cols, int lda, ComputePool pool, int panelWidth = 0)
    {
        if (panelWidth == 0) panelWidth = DefaultPanelWidth;
        if (panelWidth != 16 && panelWidth != 32) throw new ArgumentOutOfRangeException(nameof(panelWidth), panelWidth, "Panel width must be 16 or 32.");
        if (rows <= 0 || cols <= 0) throw new ArgumentOutOfRangeException(nameof(rows), $"Matrix shape [{rows}, {cols}] must be positive.");
        if (lda < cols || a.Length < (long)(rows - 1) * lda + cols) throw new ArgumentException($"A is too small for [{rows}, {cols}] with stride {lda}.", nameof(a));
        int panels = (cols + panelWidth - 1) / panelWidth;
        var buffer = new AlignedBuffer<float>((long)panels * rows * panelWidth);
        unsafe
        {
            fixed (float* pa = a, pd = buffer.Span)
            {
                nint aa = (nint)pa, ad = (nint)pd;
                pool.For(panels, p =>
                {
                    int c0 = p * panelWidth, width = Math.Min(panelWidth, cols - c0);
                    float* dst = (float*)ad + (long)p * rows * panelWidth;
                    for (int r = 0; r < rows; r++)
                        new ReadOnlySpan<float>((float*)aa + (long)r * lda + c0, width).CopyTo(new Span<float>(dst + (long)r * panelWidth, width));
                });
            }
        }
        return new PackedMatrix(cols, rows, panelWidth, buffer, new float[panels * panelWidth]);
    }
}
