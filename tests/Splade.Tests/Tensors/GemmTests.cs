using Splade.Tensors;
using static Splade.Tests.Tensors.KernelTestUtil;

namespace Splade.Tests.Tensors;

public sealed class GemmTests
{
    public static TheoryData<int, int, int, int> Shapes()
    {
        var data = new TheoryData<int, int, int, int>();
        foreach (int panel in new[] { 16, 32 })
            foreach (var (m, n, k) in new[] { (1, 1, 1), (1, 7, 31), (7, 31, 1), (6, 32, 8), (13, 33, 17), (31, 769, 7), (37, 100, 300) })
                data.Add(m, n, k, panel);
        return data;
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Linear_matches_naive_on_awkward_shapes(int m, int n, int k, int panelWidth)
    {
        float[] x = Random(m * k, 1), w = Random(n * k, 2), b = Random(n, 3);
        var expected = new float[m * n];
        GemmReference.Linear(x, m, k, w, n, b, expected);
        var actual = new float[m * n];
        Gemm.Linear(x, m, k, PackedMatrix.Pack(w, n, k, b, panelWidth), actual, n, new ComputePool(2));
        Assert.True(MaxAbsDiff(expected, actual) <= 1e-5f * MathF.Sqrt(k));
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(10)]
    public void Short_row_tiles_match_naive_and_the_rows_computed_alone(int m)
    {
        // Tiles of fewer than six rows run their own compiled kernel; each row must keep its bits.
        int n = 70, k = 40;
        float[] x = Random(m * k, 11), w = Random(n * k, 12), b = Random(n, 13);
        PackedMatrix packed = PackedMatrix.Pack(w, n, k, b);
        var expected = new float[m * n];
        GemmReference.Linear(x, m, k, w, n, b, expected);
        var y = new float[m * n];
        Gemm.Linear(x, m, k, packed, y, n, new ComputePool(2));
        Assert.True(MaxAbsDiff(expected, y) <= 1e-5f * MathF.Sqrt(k));
        for (int r = 0; r < m; r++)
        {
            var row = new float[n];
            Gemm.Linear(x.AsSpan(r * k, k), 1, k, packed, row, n, ComputePool.Serial);
            Assert.Equal(y.AsSpan(r * n, n).ToArray(), row);
        }
    }

    [Fact]
    public void Linear_without_bias_and_with_strides()
    {
        int m = 9, n = 19, k = 23, ldx = 30, ldy = 25;
        float[] x = Random(m * ldx, 4), w = Random(n * k, 5);
        var dense = new float[m * k];
        for (int i = 0; i < m; i++) Array.Copy(x, i * ldx, dense, i * k, k);
        var expected = new float[m * n];
        GemmReference.Linear(dense, m, k, w, n, default, expected);
        var y = new float[m * ldy];
        Gemm.Linear(x, m, ldx, PackedMatrix.Pack(w, n, k, default), y, ldy, ComputePool.Serial);
        for (int i = 0; i < m; i++)
            Assert.True(MaxAbsDiff(expected.AsSpan(i * n, n), y.AsSpan(i * ldy, n)) <= 1e-5f);
    }

    [Theory]
    [InlineData(1, 7, 31, 32, ElementTransform.Gelu)]
    [InlineData(13, 33, 17, 16, ElementTransform.Gelu)]
    [InlineData(31, 769, 7, 32, ElementTransform.GeluTanh)]
    [InlineData(100, 70, 40, 32, ElementTransform.Gelu)]
    [InlineData(100, 70, 40, 16, ElementTransform.Relu)]
    public void Linear_with_activation_equals_linear_then_activation_bitwise(int m, int n, int k, int panelWidth, ElementTransform activation)
    {
        // m = 100 spans two row jobs; the strided Y checks that the padding columns are left alone.
        int ldy = n + 3;
        float[] x = Random(m * k, 21, scale: 3f), w = Random(n * k, 22), b = Random(n, 23);
        PackedMatrix packed = PackedMatrix.Pack(w, n, k, b, panelWidth);
        var expected = new float[m * ldy];
        Array.Fill(expected, 42f);
        Gemm.Linear(x, m, k, packed, expected, ldy, ComputePool.Serial);
        for (int r = 0; r < m; r++) Activations.Apply(activation, expected.AsSpan(r * ldy, n));
        foreach (int threads in new[] { 1, 2 })
        {
            var fused = new float[m * ldy];
            Array.Fill(fused, 42f);
            Gemm.Linear(x, m, k, packed, fused, ldy, activation, new ComputePool(threads));
            Assert.Equal(expected, fused);
        }
    }

    [Fact]
    public void Linear_is_bitwise_independent_of_thread_count_and_row_batching()
    {
        int m = 61, n = 300, k = 130;
        float[] x = Random(m * k, 6), w = Random(n * k, 7), b = Random(n, 8);
        PackedMatrix packed = PackedMatrix.Pack(w, n, k, b);
        var one = new float[m * n];
        var two = new float[m * n];
        Gemm.Linear(x, m, k, packed, one, n, ComputePool.Serial);
        Gemm.Linear(x, m, k, packed, two, n, new ComputePool(2));
        Assert.Equal(one, two);
        // Each row alone gives the same bits as inside the batch.
        for (int r = 0; r < m; r += 7)
        {
            var row = new float[n];
            Gemm.Linear(x.AsSpan(r * k, k), 1, k, packed, row, n, new ComputePool(2));
            Assert.Equal(one.AsSpan(r * n, n).ToArray(), row);
        }
    }

    [Theory]
    [InlineData(ColumnReduction.Max, ElementTransform.None, 16)]
    [InlineData(ColumnReduction.Max, ElementTransform.None, 32)]
    [InlineData(ColumnReduction.Sum, ElementTransform.Log1pRelu, 32)]
    [InlineData(ColumnReduction.Sum, ElementTransform.Log1pLog1pRelu, 16)]
    public void ColumnReduce_matches_full_product_then_reduce(ColumnReduction mode, ElementTransform transform, int panelWidth)
    {
        int n = 769, k = 31;
        int[] starts = [0, 1, 8, 8, 39], lengths = [1, 7, 0, 31, 13];
        int rows = 52;
        float[] x = Random(rows * k, 9), w = Random(n * k, 10), b = Random(n, 11);
        var full = new float[rows * n];
        GemmReference.Linear(x, rows, k, w, n, b, full);
        ActivationsReference.Apply(transform, full);
        var output = new float[starts.Length * n];
        Gemm.LinearColumnReduce(x, k, starts, lengths, PackedMatrix.Pack(w, n, k, b, panelWidth), mode, transform, output, new ComputePool(2));
        for (int s = 0; s < starts.Length; s++)
            for (int j = 0; j < n; j++)
            {
                float expected = mode == ColumnReduction.Max ? float.NegativeInfinity : 0f;
                for (int r = starts[s]; r < starts[s] + lengths[s]; r++)
                    expected = mode == ColumnReduction.Max ? Math.Max(expected, full[r * n + j]) : expected + full[r * n + j];
                float actual = output[s * n + j];
                if (float.IsNegativeInfinity(expected)) Assert.True(float.IsNegativeInfinity(actual));
                else Assert.True(Math.Abs(expected - actual) <= 2e-5f, $"segment {s} column {j}: {actual} vs {expected}");
            }
    }

    [Fact]
    public void Pack_rejects_inconsistent_shapes()
    {
        Assert.Throws<ArgumentException>(() => PackedMatrix.Pack(new float[10], 3, 4, default));
        Assert.Throws<ArgumentException>(() => PackedMatrix.Pack(new float[12], 3, 4, new float[2]));
        Assert.Throws<ArgumentOutOfRangeException>(() => PackedMatrix.Pack(new float[12], 3, 4, default, 8));
    }
}
