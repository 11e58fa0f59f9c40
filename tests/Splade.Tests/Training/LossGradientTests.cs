using Splade.Training.Losses;

namespace Splade.Tests.Training;

/// <summary>
/// The losses' gradients against central finite differences of their forwards on tiny shapes. The scalar probed is
/// L = Σ r ⊙ y with a fixed random r, so dy = r. Forwards run in float32, so steps are 1e-2 and the
/// tolerance is relative to the gradient's scale (2e-2), which still catches any wrong term.
/// </summary>
public class LossGradientTests
{
    private static float[] Rand(Random rng, int n, float scale = 1f) => Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 2 - 1) * scale).ToArray();

    private static double Probe(float[] y, float[] r) { double s = 0; for (int i = 0; i < r.Length; i++) s += (double)y[i] * r[i]; return s; }

    [Fact]
    public void Sparse_dot_and_axpy_over_listed_non_zeros_equal_the_dense_scans_bit_for_bit()
    {
        var rng = new Random(5);
        // Mostly zeros, some negative zeros, one NaN-free run of values; vocab-sized.
        float[] a = Enumerable.Range(0, 30522).Select(i => rng.NextDouble() < 0.02 ? (float)rng.NextDouble() * 3 : (i % 97 == 0 ? -0f : 0f)).ToArray();
        float[] b = Rand(rng, a.Length, 2f);
        int[] nz = SparseMath.NonZeros(a);
        Assert.Equal(a.Count(v => v != 0), nz.Length);
        Assert.True(nz.Zip(nz.Skip(1)).All(p => p.First < p.Second));
        Assert.Equal(SparseMath.Dot(a, b), SparseMath.Dot(a, nz, b));
        float[] dense = (float[])b.Clone(), listed = (float[])b.Clone();
        SparseMath.Axpy(-0.37, a, dense);
        SparseMath.Axpy(-0.37, a, nz, listed);
        Assert.Equal(dense, listed);
    }

    /// <summary>Compares analytic gradient <paramref name="grad"/> of x against central differences of f.</summary>
    private static void CheckFd(float[] x, float[] grad, Func<double> f, double h = 1e-2, double tol = 2e-2)
    {
        double scale = Math.Max(1e-3, grad.Max(g => Math.Abs((double)g)));
        for (int i = 0; i < x.Length; i++)
        {
            float keep = x[i];
            x[i] = keep + (float)h; double up = f();
            x[i] = keep - (float)h; double down = f();
            x[i] = keep;
            double fd = (up - down) / (2 * h);
            Assert.True(Math.Abs(fd - grad[i]) <= tol * scale, $"element {i}: analytic {grad[i]:G6}, finite difference {fd:G6} (scale {scale:G3})");
        }
    }

    private static float[] SparseEmbeddings(Random rng, int count, int vocab) =>
        Enumerable.Range(0, count * vocab).Select(_ => rng.NextDouble() < 0.5 ? 0f : (float)rng.NextDouble() * 2).ToArray();

    [Fact]
    public void LossGradients()
    {
        var rng = new Random(7);
        int B = 3, C = 4, V = 6;
        var e = SparseEmbeddings(rng, B * C, V);
        var labels = Rand(rng, B * (C - 2));
        foreach (IRankingLoss baseLoss in new IRankingLoss[] { new SparseMultipleNegativesRankingLoss(1.0), new SparseMultipleNegativesRankingLoss(0.5), new SparseMarginMseLoss() })
        {
            var loss = new SpladeLoss(baseLoss, 0.3, 0.5);
            double F() => loss.ForwardBackward(new SparseBatch(e, B, C, V), labels, new float[e.Length]).Total;
            var grad = new float[e.Length];
            loss.ForwardBackward(new SparseBatch(e, B, C, V), labels, grad);
            CheckFd(e, grad, F, 1e-3, 1e-2);
        }
    }

    [Fact]
    public void MnrlAndFlopsMatchHandComputation()
    {
        // Two rows, columns (q, p), vocab 2: q0=(1,0) q1=(0,2), p0=(1,1) p1=(0,1).
        float[] e = [1, 0, 0, 2, 1, 1, 0, 1];
        var grad = new float[e.Length];
        double mnrl = new SparseMultipleNegativesRankingLoss(1.0).ForwardBackward(new SparseBatch(e, 2, 2, 2), null, grad, 1.0);
        // scores row0 = (1, 0), row1 = (2, 2); loss = mean(lse(1,0) − 1, lse(2,2) − 2)
        double expected = 0.5 * (Math.Log(Math.Exp(1) + 1) - 1 + Math.Log(2));
        Assert.Equal(expected, mnrl, 12);
        // FLOPS of the queries: means (0.5, 1) → 0.25 + 1
        Assert.Equal(1.25, FlopsRegularizer.ForwardBackward(e, 0, 2, 2, null, 0), 12);
    }
}
