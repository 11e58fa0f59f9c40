using Splade.Tensors;
using Xunit;

namespace Splade.Tests.Tensors;

public class DropoutTests
{
    [Theory]
    [InlineData(0.1f)]
    [InlineData(0.5f)]
    public void Mask_drops_at_the_rate_and_scales_the_rest(float p)
    {
        var mask = new float[200_003]; // not a multiple of the chunk
        Dropout.MakeMask(12345UL, p, mask, new ComputePool(1));
        float keep = 1f / (1f - p);
        Assert.All(mask, m => Assert.True(m == 0f || m == keep, $"mask value {m}"));
        double dropped = mask.Count(m => m == 0f) / (double)mask.Length;
        // Binomial standard deviation at n = 200k is below 0.0012: 5σ.
        Assert.InRange(dropped, p - 0.006, p + 0.006);
        // Neighbouring elements are not correlated: P(both dropped) ≈ p².
        int both = 0;
        for (int i = 0; i + 1 < mask.Length; i += 2) if (mask[i] == 0f && mask[i + 1] == 0f) both++;
        Assert.InRange(both / (mask.Length / 2.0), p * p - 0.01, p * p + 0.01);
    }

    [Fact]
    public void Mask_depends_on_the_key_only_not_on_threads()
    {
        var one = new float[70_001];
        var two = new float[70_001];
        Dropout.MakeMask(7UL, 0.1f, one, new ComputePool(1));
        Dropout.MakeMask(7UL, 0.1f, two, new ComputePool(2));
        Assert.Equal(one, two);
        var other = new float[70_001];
        Dropout.MakeMask(8UL, 0.1f, other, new ComputePool(2));
        Assert.NotEqual(one, other);
    }

    [Fact]
    public void Zero_rate_keeps_everything_and_bad_rates_are_refused()
    {
        var mask = new float[1000];
        Dropout.MakeMask(1UL, 0f, mask, ComputePool.Serial);
        Assert.All(mask, m => Assert.Equal(1f, m));
        Assert.Throws<ArgumentOutOfRangeException>(() => Dropout.MakeMask(1UL, 1f, mask, ComputePool.Serial));
        Assert.Throws<ArgumentOutOfRangeException>(() => Dropout.MakeMask(1UL, float.NaN, mask, ComputePool.Serial));
    }
}
