using Splade.Tensors;
using static Splade.Tests.Tensors.KernelTestUtil;

namespace Splade.Tests.Tensors;

public sealed class Int8KernelTests
{
    private static (int[] Starts, int[] Lengths, int Rows) Segments(params int[] lengths)
    {
        var starts = new int[lengths.Length];
        for (int s = 1; s < lengths.Length; s++) starts[s] = starts[s - 1] + lengths[s - 1];
        return (starts, lengths, starts[^1] + lengths[^1]);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(16)]
    [InlineData(31)]
    [InlineData(769)]
    public void Vector_row_quantisation_matches_the_scalar_rule(int k)
    {
        const int Top = 130;
        float[] x = Random(k, k, scale: 3f);
        x[0] += 0.5f;
        var levels = new byte[(k + 7) & ~7];
        levels.AsSpan().Fill(0xAA); // the padding must be cleared
        Int8Rows.QuantizeRow(x, levels, Top, out float step, out float min);
        if (k == 1)
        {
            Assert.Equal(0f, step); // a constant row is exact: x = m
            Assert.Equal(x[0], min);
        }
        else
        {
            Assert.Equal(x.Min(), min);
            Assert.Equal((x.Max() - min) / Top, step);
        }
        float inv = step == 0 ? 0 : Top / (x.Max() - min);
        for (int c = 0; c < k; c++)
        {
            byte expected = step == 0 ? (byte)0 : Int8Rows.Level(x[c], min, inv, Top);
            Assert.Equal(expected, levels[c]);
            Assert.True(MathF.Abs(min + step * levels[c] - x[c]) <= step * 0.5001f + 1e-6f, $"k={c}");
        }
        Assert.All(levels.Skip(k), v => Assert.Equal(0, v));
        Assert.Contains(levels.Take(k), v => v == Top || k == 1);
    }

    [Theory]
    [InlineData(1, 1, 1, 63)]
    [InlineData(7, 31, 7, 63)]
    [InlineData(31, 769, 33, 127)]
    [InlineData(13, 100, 256, 63)]
    [InlineData(10, 65, 1024, 127)]
    [InlineData(40, 33, 9, 2)]
    [InlineData(769, 7, 31, 127)]
    public void Linear_matches_its_twin_bit_for_bit_and_the_float_product_within_the_quantisation_bound(int m, int n, int k, int weightLevels)
    {
        if (!Int8Matrix.IsSupported) return;
        int ldx = k + 3, ldy = n + 5;
        float[] x = Random(m * ldx, m + n + k, scale: 2f);
        float[] w = Random(n * k, 2 * n + k, scale: 0.3f);
        float[] b = Random(n, 3 * n + k, scale: 0.5f);
        var q = Int8Matrix.Quantize(w, n, k, b, weightLevels);
        var fast = new float[m * ldy];
        Int8Gemm.Linear(x, m, ldx, q, fast, ldy, new ComputePool(2));
        var serial = new float[m * ldy];
        Int8Gemm.Linear(x, m, ldx, q, serial, ldy, ComputePool.Serial);
        var twin = new float[m * ldy];
        Int8Gemm.LinearReference(x, m, ldx, q, twin, ldy);
        Assert.Equal(twin, fast);
        Assert.Equal(serial, fast);

        // |y − exact| ≤ (a/2)·‖W_j‖₁ + (s_j/2)·a·Σ_k u_k, with a·Σu ≤ Σ_k (x_k − m) + K·a/2, plus float slack.
        double worst = 0;
        for (int t = 0; t < m; t++)
        {
            var row = x.AsSpan(t * ldx, k);
            float min = row.ToArray().Min(), a = (row.ToArray().Max() - min) / q.ActivationLevels;
            double sumAboveMin = 0;
            foreach (float v in row) sumAboveMin += v - min;
            for (int j = 0; j < n; j++)
            {
                double exact = b[j], l1 = 0, abs = Math.Abs(b[j]), maxW = 0;
                for (int c = 0; c < k; c++)
                {
                    double wv = w[j * k + c];
                    exact += row[c] * wv;
                    l1 += Math.Abs(wv);
                    abs += Math.Abs(row[c] * wv);
                    maxW = Math.Max(maxW, Math.Abs(wv));
                }
                double s = maxW / weightLevels;
                double bound = a / 2 * l1 + s / 2 * (sumAboveMin + k * a / 2) + 1e-5 * abs + 1e-6;
                double err = Math.Abs(fast[t * ldy + j] - exact);
                Assert.True(err <= bound, $"t={t} j={j}: error {err} above bound {bound}");
                worst = Math.Max(worst, err / bound);
            }
        }
        Assert.True(worst > 0.01 || k == 1, $"the bound is not exercised ({worst})"); // the approximation is not exact
    }

    [Theory]
    [InlineData(1, 7, 0.0f, 63)]
    [InlineData(31, 16, 0.0f, 127)]
    [InlineData(769, 33, -0.3f, 63)]
    [InlineData(100, 256, -1.0f, 127)]
    [InlineData(65, 255, 0.5f, 63)]
    public void Column_max_matches_its_twin_and_the_max_of_the_linear_output(int n, int k, float biasShift, int weightLevels)
    {
        if (!Int8Matrix.IsSupported) return;
        var (starts, lengths, rows) = Segments(1, 7, 0, 13, 31, 2, 3, 4, 5, 10);
        float[] x = Random(rows * k, n + k, scale: 1f);
        float[] w = Random(n * k, 2 * n + k, scale: 0.2f);
        float[] b = Random(n, 3 * n + k, scale: 0.5f).Select(v => v + biasShift).ToArray();
        var q = Int8Matrix.Quantize(w, n, k, b, weightLevels);
        var fast = new float[lengths.Length * n];
        fast.AsSpan().Fill(float.NaN); // every entry must be written
        Int8ColumnMax.Run(x, k, starts, lengths, q, fast, new ComputePool(2));
        var twin = new float[fast.Length];
        Int8ColumnMax.Reference(x, k, starts, lengths, q, twin);
        Assert.Equal(twin, fast);
        var serial = new float[fast.Length];
        Int8ColumnMax.Run(x, k, starts, lengths, q, serial, ComputePool.Serial);
        Assert.Equal(serial, fast);

        var y = new float[rows * n];
        Int8Gemm.Linear(x, rows, k, q, y, n, ComputePool.Serial);
        for (int s = 0; s < starts.Length; s++)
            for (int j = 0; j < n; j++)
            {
                float best = 0;
                for (int t = starts[s]; t < starts[s] + lengths[s]; t++) best = Math.Max(best, y[t * n + j]);
                Assert.Equal(best, fast[s * n + j]);
            }
        Assert.Contains(fast, v => v > 0);
        Assert.All(fast.AsSpan(2 * n, n).ToArray(), v => Assert.Equal(0f, v)); // the empty segment
    }

    [Fact]
    public void Batched_column_max_equals_one_segment_at_a_time()
    {
        if (!Int8Matrix.IsSupported) return;
        int n = 200, k = 64;
        var (starts, lengths, rows) = Segments(12, 1, 6, 29);
        float[] x = Random(rows * k, 9);
        var q = Int8Matrix.Quantize(Random(n * k, 10, 0.2f), n, k, Random(n, 11, 0.3f));
        var batched = new float[starts.Length * n];
        Int8ColumnMax.Run(x, k, starts, lengths, q, batched, new ComputePool(2));
        for (int s = 0; s < starts.Length; s++)
        {
            var single = new float[n];
            Int8ColumnMax.Run(x.AsSpan(starts[s] * k, lengths[s] * k), k, [0], [lengths[s]], q, single, new ComputePool(2));
            Assert.Equal(single, batched.AsSpan(s * n, n).ToArray());
        }
    }

    [Fact]
    public void Bad_operands_are_rejected_with_the_shape_in_the_message()
    {
        if (!Int8Matrix.IsSupported) return;
        var q = Int8Matrix.Quantize(Random(8 * 4, 1), 8, 4, []);
        var e = Assert.Throws<ArgumentException>(() => Int8Gemm.Linear(new float[7], 2, 4, q, new float[16], 8, ComputePool.Serial));
        Assert.Contains("[2, 4]", e.Message);
        Assert.Throws<ArgumentException>(() => Int8Matrix.Quantize(new float[5], 2, 3, []));
        Assert.Throws<ArgumentOutOfRangeException>(() => Int8Matrix.Quantize(new float[6], 2, 3, [], weightLevels: 128));
        Assert.Throws<ArgumentException>(() => Int8ColumnMax.Run(new float[8], 4, [0], [2], q, new float[7], ComputePool.Serial));
    }
}
