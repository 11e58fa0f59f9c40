using Splade.Tensors;
using static Splade.Tests.Tensors.KernelTestUtil;

namespace Splade.Tests.Tensors;

public sealed class ScreenedColumnMaxTests
{
    private static (int[] Starts, int[] Lengths, int Rows) Segments(params int[] lengths)
    {
        var starts = new int[lengths.Length];
        for (int s = 1; s < lengths.Length; s++) starts[s] = starts[s - 1] + lengths[s - 1];
        return (starts, lengths, starts[^1] + lengths[^1]);
    }

    [Theory]
    [InlineData(1, 7, 0.0f)]
    [InlineData(31, 16, 0.0f)]
    [InlineData(769, 33, -0.3f)]
    [InlineData(100, 256, -1.0f)]
    [InlineData(65, 255, 0.5f)]
    public void Matches_the_exact_twin_bit_for_bit_and_the_dense_kernel_closely(int n, int k, float biasShift)
    {
        if (!QuantizedMatrix.IsSupported) return;
        var (starts, lengths, rows) = Segments(1, 7, 0, 13, 31, 2, 3, 4, 5, 10);
        float[] x = Random(rows * k, n + k, scale: 1f);
        float[] w = Random(n * k, 2 * n + k, scale: 0.2f);
        float[] b = Random(n, 3 * n + k, scale: 0.5f).Select(v => v + biasShift).ToArray();
        var q = QuantizedMatrix.Pack(w, n, k, b);
        var fast = new float[lengths.Length * n];
        ScreenedColumnMax.Run(x, k, starts, lengths, q, fast, new ComputePool(2));
        var twin = new float[fast.Length];
        ScreenedColumnMax.Reference(x, k, starts, lengths, q, twin);
        Assert.Equal(twin, fast);

        var dense = new float[fast.Length];
        Gemm.LinearColumnReduce(x, k, starts, lengths, PackedMatrix.Pack(w, n, k, b), ColumnReduction.Max, ElementTransform.None, dense, ComputePool.Serial);
        for (int i = 0; i < dense.Length; i++) dense[i] = Math.Max(dense[i], 0f);
        Assert.True(MaxAbsDiff(dense, fast) <= 1e-5f, $"dense vs screened: {MaxAbsDiff(dense, fast)}");
        Assert.Contains(fast, v => v > 0); // the test exercises the exact path
    }

    [Fact]
    public void Near_ties_and_duplicate_rows_keep_the_exact_maximum()
    {
        if (!QuantizedMatrix.IsSupported) return;
        int n = 64, k = 48;
        var (starts, lengths, rows) = Segments(9, 4);
        float[] x = Random(rows * k, 5);
        // Row 3 duplicates row 1, row 5 differs from row 1 by one ulp-sized nudge: bounds overlap.
        Array.Copy(x, 1 * k, x, 3 * k, k);
        Array.Copy(x, 1 * k, x, 5 * k, k);
        x[5 * k + 7] = MathF.BitIncrement(x[5 * k + 7]);
        float[] w = Random(n * k, 6, scale: 0.3f);
        // Biases that put many logits right around 0, where relu decides.
        float[] b = new float[n];
        for (int j = 0; j < n; j++)
        {
            float dot = 0;
            for (int c = 0; c < k; c++) dot += x[1 * k + c] * w[j * k + c];
            b[j] = -dot + (j % 3 - 1) * 1e-7f;
        }
        var q = QuantizedMatrix.Pack(w, n, k, b);
        var fast = new float[2 * n];
        var twin = new float[2 * n];
        ScreenedColumnMax.Run(x, k, starts, lengths, q, fast, ComputePool.Serial);
        ScreenedColumnMax.Reference(x, k, starts, lengths, q, twin);
        Assert.Equal(twin, fast);
    }

    [Fact]
    public void An_outlier_row_widens_the_segment_bound_and_the_maximum_stays_exact()
    {
        // The bound is taken at its largest over a segment's rows: one row 1000x larger than the
        // others (and one all-zero row) must not hide the exact maximum of the small rows.
        if (!QuantizedMatrix.IsSupported) return;
        int n = 97, k = 40;
        var (starts, lengths, rows) = Segments(11, 1, 6);
        float[] x = Random(rows * k, 31, scale: 1f);
        for (int c = 0; c < k; c++) x[4 * k + c] *= 1000f;
        Array.Clear(x, 7 * k, k);
        float[] w = Random(n * k, 32, scale: 0.2f);
        float[] b = Random(n, 33, scale: 0.5f);
        var q = QuantizedMatrix.Pack(w, n, k, b);
        var fast = new float[3 * n];
        var twin = new float[3 * n];
        ScreenedColumnMax.Run(x, k, starts, lengths, q, fast, new ComputePool(2));
        ScreenedColumnMax.Reference(x, k, starts, lengths, q, twin);
        Assert.Equal(twin, fast);
        Assert.Contains(fast.AsSpan(2 * n, n).ToArray(), v => v > 0); // the third segment has only ordinary rows
    }

    [Fact]
    public void Batched_equals_single_and_threads_do_not_matter()
    {
        if (!QuantizedMatrix.IsSupported) return;
        int n = 300, k = 64;
        var (starts, lengths, rows) = Segments(17, 3, 40);
        float[] x = Random(rows * k, 8);
        var q = QuantizedMatrix.Pack(Random(n * k, 9, 0.2f), n, k, Random(n, 10, 0.3f));
        var batched = new float[3 * n];
        ScreenedColumnMax.Run(x, k, starts, lengths, q, batched, new ComputePool(2));
        var serial = new float[3 * n];
        ScreenedColumnMax.Run(x, k, starts, lengths, q, serial, ComputePool.Serial);
        Assert.Equal(serial, batched);
        for (int s = 0; s < 3; s++)
        {
            var single = new float[n];
            ScreenedColumnMax.Run(x.AsSpan(starts[s] * k, lengths[s] * k), k, [0], [lengths[s]], q, single, ComputePool.Serial);
            Assert.Equal(single, batched.AsSpan(s * n, n).ToArray());
        }
    }

    [Fact]
    public void Empty_segments_and_zero_rows_give_zero()
    {
        if (!QuantizedMatrix.IsSupported) return;
        int n = 40, k = 8;
        var q = QuantizedMatrix.Pack(Random(n * k, 1), n, k, Random(n, 2));
        var x = new float[3 * k]; // all-zero rows: logits equal the bias
        var output = new float[2 * n];
        ScreenedColumnMax.Run(x, k, [0, 3], [3, 0], q, output, ComputePool.Serial);
        var twin = new float[2 * n];
        ScreenedColumnMax.Reference(x, k, [0, 3], [3, 0], q, twin);
        Assert.Equal(twin, output);
        Assert.All(output.AsSpan(n, n).ToArray(), v => Assert.Equal(0f, v));
    }
}
