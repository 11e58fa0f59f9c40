using System.Runtime.Intrinsics;
using Splade.Tensors;
using static Splade.Tests.Tensors.KernelTestUtil;

namespace Splade.Tests.Tensors;

public sealed class ElementwiseKernelTests
{
    [Fact]
    public void Erf_is_accurate_to_float_precision()
    {
        double worstUlps = 0;
        for (int i = -60000; i <= 60000; i++)
        {
            float x = i * 1e-4f;
            double exact = ActivationsReference.Erf(x);
            float actual = Activations.Erf(x);
            double ulp = Math.Max(MathF.BitIncrement(MathF.Abs((float)exact)) - MathF.Abs((float)exact), float.Epsilon);
            worstUlps = Math.Max(worstUlps, Math.Abs(actual - exact) / ulp);
        }
        Assert.True(worstUlps <= 2.0, $"worst error {worstUlps} ulp");
        Assert.Equal(1f, Activations.Erf(float.PositiveInfinity));
        Assert.Equal(-1f, Activations.Erf(-10f));
        Assert.Equal(0f, Activations.Erf(0f));
        Assert.True(float.IsNaN(Activations.Erf(float.NaN)));
        Assert.Equal(1e-30f * 1.1283791f, Activations.Erf(1e-30f), 1e-36f);
    }

    [Fact]
    public void Exp_of_the_erf_tail_is_accurate_to_float_precision()
    {
        double worstUlps = 0;
        for (int i = 0; i <= 200000; i++)
        {
            float r = -i * 4.35e-4f; // [-87, 0]
            float actual = Activations.ExpNonPositive(Vector256.Create(r)).GetElement(3);
            double exact = Math.Exp(r);
            double ulp = MathF.BitIncrement((float)exact) - (float)exact;
            worstUlps = Math.Max(worstUlps, Math.Abs(actual - exact) / ulp);
        }
        Assert.True(worstUlps <= 2.0, $"worst error {worstUlps} ulp");
        Assert.Equal(1f, Activations.ExpNonPositive(Vector256.Create(0f)).GetElement(0));
        Assert.True(Activations.ExpNonPositive(Vector256.Create(float.NegativeInfinity)).GetElement(0) < 1e-37f);
    }

    [Theory]
    [InlineData(ElementTransform.Gelu)]
    [InlineData(ElementTransform.GeluTanh)]
    [InlineData(ElementTransform.Relu)]
    [InlineData(ElementTransform.Log1pRelu)]
    [InlineData(ElementTransform.Log1pLog1pRelu)]
    public void Transforms_match_double_reference_on_awkward_lengths(ElementTransform transform)
    {
        foreach (int n in new[] { 1, 7, 31, 769 })
        {
            float[] x = Random(n, n, scale: 8f);
            float[] fast = (float[])x.Clone(), slow = (float[])x.Clone();
            Activations.Apply(transform, fast);
            ActivationsReference.Apply(transform, slow);
            for (int i = 0; i < n; i++)
                Assert.True(Math.Abs(fast[i] - slow[i]) <= 2e-6f * Math.Max(1f, Math.Abs(slow[i])), $"{transform} x={x[i]}: {fast[i]} vs {slow[i]}");
        }
    }

    [Fact]
    public void Log1p_keeps_tiny_values_non_zero()
    {
        Assert.Equal(1e-9f, Activations.Log1p(1e-9f));
        Assert.Equal((float)Math.Log(2), Activations.Log1p(1f), 1e-7f);
        var v = new float[] { -3f, 0f, 1e-20f };
        Activations.Apply(ElementTransform.Log1pRelu, v);
        Assert.Equal(new[] { 0f, 0f, 1e-20f }, v);
    }

    [Fact]
    public void Value_does_not_depend_on_position_in_the_span()
    {
        float[] x = Random(37, 5, scale: 4f);
        float[] whole = (float[])x.Clone();
        Activations.Apply(ElementTransform.Gelu, whole);
        for (int i = 0; i < x.Length; i++)
        {
            float[] one = [x[i]];
            Activations.Apply(ElementTransform.Gelu, one);
            Assert.Equal(whole[i], one[0]);
        }
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(7, 31)]
    [InlineData(3, 769)]
    public void LayerNorm_matches_reference(int rows, int cols)
    {
        float[] x = Random(rows * cols, 21, scale: 3f), gamma = Random(cols, 22), beta = Random(cols, 23);
        for (int i = 0; i < x.Length; i++) x[i] += 5f; // a large mean tests the centring
        var fast = new float[x.Length];
        var slow = new float[x.Length];
        LayerNorm.Forward(x, rows, cols, gamma, beta, 1e-12f, fast);
        LayerNorm.Reference(x, rows, cols, gamma, beta, 1e-12f, slow);
        Assert.True(MaxAbsDiff(fast, slow) <= 2e-5f);
        LayerNorm.Forward(x, rows, cols, gamma, beta, 1e-12f, x); // in place
        Assert.Equal(fast, x);
    }

    [Fact]
    public void LayerNorm_of_constant_row_returns_beta()
    {
        float[] x = [2f, 2f, 2f], gamma = [1f, 2f, 3f], beta = [0.5f, -1f, 0f];
        var y = new float[3];
        LayerNorm.Forward(x, 1, 3, gamma, beta, 1e-5f, y);
        Assert.Equal(beta, y);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(31)]
    [InlineData(769)]
    public void Softmax_matches_reference(int n)
    {
        float[] x = Random(n, n + 40, scale: 20f);
        float[] fast = (float[])x.Clone(), slow = (float[])x.Clone();
        Softmax.Forward(fast);
        Softmax.Reference(slow);
        Assert.True(MaxAbsDiff(fast, slow) <= 1e-6f);
        Assert.Equal(1.0, fast.Sum(v => (double)v), 5);
    }

    [Fact]
    public void Softmax_gives_zero_to_float_min_masked_entries()
    {
        float[] x = [1f, 2f + float.MinValue, 3f];
        Softmax.Forward(x);
        Assert.Equal(0f, x[1]);
        Assert.Equal(1f, x[0] + x[2], 6);
    }
}
