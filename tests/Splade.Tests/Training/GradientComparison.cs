using Splade.Training.Model;
using Xunit.Abstractions;

namespace Splade.Tests.Training;

/// <summary>Element-wise comparison of computed gradients with a reference set (float32 on both sides).</summary>
internal static class GradientComparison
{
    /// <summary>
    /// Compares every reference tensor with the parameter of the same name and returns how many tensors have
    /// an element out of bounds. Both sides are float32 computations with different summation orders: an
    /// element-wise 1e-4 relative bound is met except on a few elements close to zero, so an element passes
    /// when it is within 1e-4 relative of itself OR of the tensor's largest gradient (or 1e-6 absolute).
    /// </summary>
    public static int CountFailingTensors(BertParameters p, IReadOnlyDictionary<string, (float[] Data, int[] Shape)> expected, ITestOutputHelper output)
    {
        Assert.Equal(expected.Count, p.All.Count);
        int failures = 0;
        foreach (var (name, (data, shape)) in expected)
        {
            var t = p.Find(name) ?? throw new Xunit.Sdk.XunitException($"no tensor {name}");
            Assert.Equal(shape, t.Shape);
            double scale = data.Max(x => Math.Abs((double)x));
            double worst = 0, maxAbs = 0;
            int strictOver = 0, bad = 0;
            for (int i = 0; i < data.Length; i++)
            {
                double diff = Math.Abs(t.Grad[i] - data[i]);
                maxAbs = Math.Max(maxAbs, diff);
                if (diff > Math.Max(1e-6, 1e-4 * Math.Abs(data[i]))) strictOver++;
                double allowed = Math.Max(1e-6, 1e-4 * Math.Max(Math.Abs(data[i]), scale));
                worst = Math.Max(worst, diff / allowed);
                if (diff > allowed) bad++;
            }
            output.WriteLine($"{name}: max|g| {scale:E2}, max |diff| {maxAbs:E2} ({maxAbs / Math.Max(scale, 1e-30):E2} of max|g|), worst diff/allowed {worst:F3}, over strict element bound {strictOver}/{data.Length}");
            if (bad > 0) failures++;
        }
        return failures;
    }
}
