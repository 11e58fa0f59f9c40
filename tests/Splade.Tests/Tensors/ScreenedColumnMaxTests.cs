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
    [InlineData(1, 16)]
    [InlineData(33, 256)]
    [InlineData(70, 384)]
    public void Vector_row_quantization_equals_the_plain_twin(int n, int k)
    {
        if (!QuantizedMatrix.IsSupported) return;
        float[] w = Random(n * k, 5 * n + k, scale: 0.2f);
        // Ties: a row whose scale is 1/63 exactly has w·(1/s) on .5 for these values (rounded to even by both paths).
        for (int c = 0; c < k; c++) w[c] = c == 0 ? 1f : ((c % 7) - 3) / 126f;
        if (n > 1) w[k] = 0; // a zero weight in a random row
        float[] b = Random(n, 7, scale: 0.5f);
        var fast = QuantizedMatrix.Pack(w, n, k, b, 8, new ComputePool(2));
        var twin = QuantizedMatrix.Pack(w, n, k, b, 8, ComputePool.Serial, plainRows: true);
        Assert.Equal(twin.Data.ToArray(), fast.Data.ToArray());
        Assert.Equal(twin.Scale, fast.Scale);
        Assert.Equal(twin.Offset, fast.Offset);
        for (int j = 0; j < n; j++)
        {
            Assert.True(Math.Abs(twin.L2[j] - fast.L2[j]) <= 1e-6f * twin.L2[j], $"row {j}: L2 {fast.L2[j]} vs {twin.L2[j]}");
            Assert.True(Math.Abs(twin.ResidualL2[j] - fast.ResidualL2[j]) <= 1e-6f * twin.ResidualL2[j] + 1e-30f, $"row {j}: residual {fast.ResidualL2[j]} vs {twin.ResidualL2[j]}");
        }
    }

    [Theory]
    [InlineData(1, 7, 0.0f, 8)]
    [InlineData(31, 16, 0.0f, 8)]
    [InlineData(769, 33, -0.3f, 8)]
    [InlineData(100, 256, -1.0f, 8)]
    [InlineData(65, 255, 0.5f, 8)]
    [InlineData(1, 7, 0.0f, 16)]
    [InlineData(769, 33, -0.3f, 16)]
    [InlineData(65, 255, 0.5f, 16)]
    public void Matches_the_exact_twin_bit_for_bit_and_the_dense_kernel_closely(int n, int k, float biasShift, int bits)
    {
        if (!QuantizedMatrix.IsSupported) return;
        var (starts, lengths, rows) = Segments(1, 7, 0, 13, 31, 2, 3, 4, 5, 10);
        float[] x = Random(rows * k, n + k, scale: 1f);
        float[] w = Random(n * k, 2 * n + k, scale: 0.2f);
        float[] b = Random(n, 3 * n + k, scale: 0.5f).Select(v => v + biasShift).ToArray();
        var q = QuantizedMatrix.Pack(w, n, k, b, bits);
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

    [Theory]
    [InlineData(8)]
    [InlineData(16)]
    public void Near_ties_and_duplicate_rows_keep_the_exact_maximum(int bits)
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
        var q = QuantizedMatrix.Pack(w, n, k, b, bits);
        var fast = MatchesTwin(x, k, starts, lengths, q, ComputePool.Serial);
    }

    [Theory]
    [InlineData(8)]
    [InlineData(16)]
    public void An_outlier_row_widens_the_segment_bound_and_the_maximum_stays_exact(int bits)
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
        var q = QuantizedMatrix.Pack(w, n, k, b, bits);
        var fast = MatchesTwin(x, k, starts, lengths, q, new ComputePool(2));
        Assert.Contains(fast.AsSpan(2 * n, n).ToArray(), v => v > 0); // the third segment has only ordinary rows
    }

    [Theory]
    [InlineData(8)]
    [InlineData(16)]
    public void Batched_equals_single_and_threads_do_not_matter(int bits)
    {
        if (!QuantizedMatrix.IsSupported) return;
        int n = 300, k = 64;
        var (starts, lengths, rows) = Segments(17, 3, 40);
        float[] x = Random(rows * k, 8);
        var q = QuantizedMatrix.Pack(Random(n * k, 9, 0.2f), n, k, Random(n, 10, 0.3f), bits);
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

    [Theory]
    [InlineData(8)]
    [InlineData(16)]
    public void Empty_segments_and_zero_rows_give_zero(int bits)
    {
        if (!QuantizedMatrix.IsSupported) return;
        int n = 40, k = 8;
        var q = QuantizedMatrix.Pack(Random(n * k, 1), n, k, Random(n, 2), bits);
        var x = new float[3 * k]; // all-zero rows: logits equal the bias
        var output = new float[2 * n];
        ScreenedColumnMax.Run(x, k, [0, 3], [3, 0], q, output, ComputePool.Serial);
        var twin = new float[2 * n];
        ScreenedColumnMax.Reference(x, k, [0, 3], [3, 0], q, twin);
        Assert.Equal(twin, output);
        Assert.All(output.AsSpan(n, n).ToArray(), v => Assert.Equal(0f, v));
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(33, 3)]
    [InlineData(63, 257)]
    [InlineData(100, 255)]
    public void Byte_weights_match_the_twin_for_every_short_segment_length(int n, int k)
    {
        // Segments of 1..13 rows: every tile height (1..6), one, two and three tiles, K not a
        // multiple of 8 (the byte kernel's padding) and N not a multiple of 32; each segment alone
        // and all in one call on two threads.
        if (!QuantizedMatrix.IsSupported) return;
        int[] all = Enumerable.Range(1, 13).ToArray();
        var (starts, lengths, rows) = Segments(all);
        float[] x = Random(rows * k, 7 * n + k, scale: 2f);
        float[] w = Random(n * k, 11 * n + k, scale: 0.1f);
        float[] b = Random(n, 13 * n + k, scale: 0.5f).Select(v => v - 0.1f).ToArray();
        var q = QuantizedMatrix.Pack(w, n, k, b, 8);
        Assert.Equal(8, q.WeightBits);
        Assert.Equal(63, q.Levels);
        Assert.True(4 * 2 * q.ActivationLevels * q.Levels <= short.MaxValue); // four byte products add in int16
        Assert.Equal(0, q.KPadded % 8);
        var twin = new float[all.Length * n];
        ScreenedColumnMax.Reference(x, k, starts, lengths, q, twin);
        var batched = new float[twin.Length];
        ScreenedColumnMax.Run(x, k, starts, lengths, q, batched, new ComputePool(2));
        Assert.Equal(twin, batched);
        for (int s = 0; s < all.Length; s++)
        {
            var single = new float[n];
            ScreenedColumnMax.Run(x.AsSpan(starts[s] * k, lengths[s] * k), k, [0], [lengths[s]], q, single, ComputePool.Serial);
            Assert.Equal(twin.AsSpan(s * n, n).ToArray(), single);
        }
        if (n > 1) Assert.Contains(twin, v => v > 0); // the exact path is exercised
    }

    [Theory]
    [InlineData(8)]
    [InlineData(16)]
    public void Extreme_rows_and_weights_keep_the_exact_maximum(int bits)
    {
        // Token rows: all zero, one huge component among small ones, one tiny row, values near the
        // float range; weight rows: all zero, one huge entry (its other levels round to 0), one tiny.
        if (!QuantizedMatrix.IsSupported) return;
        int n = 70, k = 37;
        var (starts, lengths, rows) = Segments(3, 5, 1, 2, 4);
        float[] x = Random(rows * k, 41, scale: 1f);
        Array.Clear(x, 0, k);
        x[1 * k + 9] = 1e6f;
        for (int c = 0; c < k; c++) x[4 * k + c] *= 1e-20f;
        x[8 * k + 2] = 3e30f;
        for (int c = 0; c < k; c++) x[9 * k + c] *= 1e-3f;
        float[] w = Random(n * k, 42, scale: 0.2f);
        Array.Clear(w, 0, k);
        w[1 * k + 9] = 50f;
        for (int c = 0; c < k; c++) w[2 * k + c] *= 1e-30f;
        float[] b = Random(n, 43, scale: 0.5f);
        var q = QuantizedMatrix.Pack(w, n, k, b, bits);
        var fast = MatchesTwin(x, k, starts, lengths, q, new ComputePool(2));
        Assert.True(fast[1] > 1e6f); // the huge entry (segment 0) meets the huge weight (row 1)
    }

    [Theory]
    [InlineData(8)]
    [InlineData(16)]
    public void A_non_finite_token_row_gives_the_twins_result_and_leaves_other_segments_alone(int bits)
    {
        // No bound holds for a NaN or infinite row: its segment is computed exactly (NaN propagates
        // through max as in the twin); the other segments keep their screened, exact result.
        if (!QuantizedMatrix.IsSupported) return;
        int n = 50, k = 24;
        var (starts, lengths, rows) = Segments(4, 3, 2);
        float[] x = Random(rows * k, 51);
        x[1 * k + 3] = float.NaN;
        x[5 * k + 0] = float.PositiveInfinity;
        float[] w = Random(n * k, 52, scale: 0.3f);
        var q = QuantizedMatrix.Pack(w, n, k, Random(n, 53, 0.5f), bits);
        var fast = MatchesTwin(x, k, starts, lengths, q, ComputePool.Serial);
        Assert.All(fast.AsSpan(0, n).ToArray(), v => Assert.True(float.IsNaN(v)));
        Assert.Contains(fast.AsSpan(n, n).ToArray(), v => float.IsPositiveInfinity(v));
        Assert.All(fast.AsSpan(2 * n, n).ToArray(), v => Assert.True(float.IsFinite(v)));
    }

    [Fact]
    public void Byte_and_short_copies_give_the_same_result_and_the_byte_copy_is_half_the_size()
    {
        if (!QuantizedMatrix.IsSupported) return;
        int n = 129, k = 96;
        var (starts, lengths, rows) = Segments(10, 80, 7);
        float[] x = Random(rows * k, 61);
        float[] w = Random(n * k, 62, 0.2f), b = Random(n, 63, 0.5f);
        var q8 = QuantizedMatrix.Pack(w, n, k, b);
        var q16 = QuantizedMatrix.Pack(w, n, k, b, 16);
        Assert.Equal(QuantizedMatrix.DefaultWeightBits, q8.WeightBits);
        Assert.Equal(2 * q8.IntegerBytes, q16.IntegerBytes);
        var a = new float[3 * n];
        var c = new float[3 * n];
        ScreenedColumnMax.Run(x, k, starts, lengths, q8, a, new ComputePool(2));
        ScreenedColumnMax.Run(x, k, starts, lengths, q16, c, new ComputePool(2));
        Assert.Equal(c, a);
        Assert.Throws<ArgumentOutOfRangeException>(() => QuantizedMatrix.Pack(w, n, k, b, 12));
        // K·130·63 must stay below 2³¹ for the byte kernel's int32 sums; 16 bits adapt their levels instead.
        Assert.Throws<ArgumentOutOfRangeException>(() => QuantizedMatrix.Pack(new float[300_000], 1, 300_000, [], 8));
        Assert.True(QuantizedMatrix.Pack(new float[300_000], 1, 300_000, [], 16).Levels >= 1);
    }

    [Theory]
    [InlineData(8)]
    [InlineData(16)]
    public void Random_near_tie_shapes_match_the_twin(int bits)
    {
        // Rows that differ from a base row by tiny perturbations and biases that put the logits of
        // the base row at 0: maxima and the relu decision are decided by far less than the bound,
        // so every column goes through the candidate test with overlapping bounds.
        if (!QuantizedMatrix.IsSupported) return;
        var rng = new Random(bits);
        for (int trial = 0; trial < 40; trial++)
        {
            int n = rng.Next(1, 80), k = rng.Next(1, 300);
            int[] lens = Enumerable.Range(0, rng.Next(1, 4)).Select(_ => rng.Next(1, 14)).ToArray();
            var (starts, lengths, rows) = Segments(lens);
            float[] baseRow = Random(k, 1000 + trial, 1f);
            var x = new float[rows * k];
            for (int t = 0; t < rows; t++)
                for (int c = 0; c < k; c++)
                    x[t * k + c] = baseRow[c] + (rng.Next(3) - 1) * 1e-6f * (rng.Next(2) == 0 ? 1 : 1000);
            float[] w = Random(n * k, 2000 + trial, 0.2f);
            var b = new float[n];
            for (int j = 0; j < n; j++)
            {
                double dot = 0;
                for (int c = 0; c < k; c++) dot += (double)baseRow[c] * w[j * k + c];
                b[j] = (float)-dot + (rng.Next(3) - 1) * 1e-6f;
            }
            var q = QuantizedMatrix.Pack(w, n, k, b, bits);
            var fast = MatchesTwin(x, k, starts, lengths, q, new ComputePool(2));
        }
    }

    [Theory]
    [InlineData(8)]
    [InlineData(16)]
    public void Aligned_rounding_errors_do_not_hide_the_true_maximum(int bits)
    {
        // Row A sits 0.49 steps above its levels everywhere (its estimate is low by almost the whole
        // bound), row B 0.49 below (its estimate is high by as much), and B's exact logit is just
        // below A's: only a bound that covers the aligned worst case keeps A as a candidate.
        if (!QuantizedMatrix.IsSupported) return;
        int k = 64;
        var w = new float[k];
        w[0] = 0.001f;
        for (int c = 1; c < k; c++) w[c] = 0.1f;
        var q = QuantizedMatrix.Pack(w, 1, k, [0f], bits);
        int levels = q.ActivationLevels, m = levels / 2;
        const float step = 0.01f;
        var a = new float[k];
        var b = new float[k];
        a[0] = levels * step;
        b[0] = -levels * step;
        for (int c = 1; c < k; c++)
        {
            a[c] = (m + 0.49f) * step;
            b[c] = (m + 0.51f) * step;
        }
        var one = new float[1];
        ScreenedColumnMax.Reference(a, k, [0], [1], q, one);
        float exactA = one[0];
        ScreenedColumnMax.Reference(b, k, [0], [1], q, one);
        float exactB = one[0];
        Assert.True(exactA > exactB && exactB > 0, $"setup: {exactA} vs {exactB}");
        foreach (float[] x in new[] { a.Concat(b).ToArray(), b.Concat(a).ToArray() })
        {
            var fast = new float[1];
            ScreenedColumnMax.Run(x, k, [0], [2], q, fast, ComputePool.Serial);
            Assert.Equal(exactA, fast[0]);
        }
    }

    [Theory]
    [InlineData(8)]
    [InlineData(16)]
    public void Aligned_weight_rounding_does_not_hide_the_true_maximum(int bits)
    {
        // The weight row sits 0.49 steps above its levels everywhere; row A (positive entries) is
        // underestimated by about x̃_A·r, row B (negative entries, a large first one) overestimated
        // by as much, and B's exact logit is just below A's.
        if (!QuantizedMatrix.IsSupported) return;
        int k = 64;
        var w = new float[k];
        var probe = QuantizedMatrix.Pack(new float[k], 1, k, [0f], bits);
        int levels = probe.Levels;
        w[0] = levels * 0.01f;
        for (int c = 1; c < k; c++) w[c] = (levels / 2 + 0.49f) * 0.01f;
        var q = QuantizedMatrix.Pack(w, 1, k, [0f], bits);
        var a = new float[k];
        a[0] = 1f;
        for (int c = 1; c < k; c++) a[c] = 0.5f;
        var one = new float[1];
        ScreenedColumnMax.Reference(a, k, [0], [1], q, one);
        float exactA = one[0];
        float tail = 0;
        for (int c = 1; c < k; c++) tail += 0.5f * w[c];
        var b = new float[k];
        b[0] = (exactA + tail - 0.01f) / w[0];
        for (int c = 1; c < k; c++) b[c] = -0.5f;
        ScreenedColumnMax.Reference(b, k, [0], [1], q, one);
        float exactB = one[0];
        Assert.True(exactA > exactB && exactB > 0, $"setup: {exactA} vs {exactB}");
        foreach (float[] x in new[] { a.Concat(b).ToArray(), b.Concat(a).ToArray() })
        {
            var fast = new float[1];
            ScreenedColumnMax.Run(x, k, [0], [2], q, fast, ComputePool.Serial);
            Assert.Equal(exactA, fast[0]);
        }
    }

    /// <summary>Runs the screened column max and its twin on the same input, asserts bit-identical outputs, and returns them.</summary>
    private static float[] MatchesTwin(float[] x, int k, int[] starts, int[] lengths, QuantizedMatrix q, ComputePool pool)
    {
        var fast = new float[starts.Length * q.N];
        var twin = new float[fast.Length];
        ScreenedColumnMax.Run(x, k, starts, lengths, q, fast, pool);
        ScreenedColumnMax.Reference(x, k, starts, lengths, q, twin);
        Assert.Equal(twin, fast);
        return fast;
    }
}
