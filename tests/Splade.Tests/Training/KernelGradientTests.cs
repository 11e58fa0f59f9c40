using Splade.Training.Kernels;
using Splade.Training.Losses;

namespace Splade.Tests.Training;

/// <summary>
/// Each backward against central finite differences of its forward on tiny shapes. The scalar probed is
/// L = Σ r ⊙ y with a fixed random r, so dy = r. Forwards run in float32, so steps are 1e-2 and the
/// tolerance is relative to the gradient's scale (2e-2), which still catches any wrong term.
/// </summary>
public class KernelGradientTests
{
    private static float[] Rand(Random rng, int n, float scale = 1f) => Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 2 - 1) * scale).ToArray();

    private static double Probe(float[] y, float[] r) { double s = 0; for (int i = 0; i < r.Length; i++) s += (double)y[i] * r[i]; return s; }

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

    [Theory]
    [InlineData(1, 1, 1)]
    [InlineData(7, 5, 3)]
    [InlineData(31, 9, 17)]
    [InlineData(3, 769, 13)]
    [InlineData(40, 70, 33)]
    public void GemmMatchesNaiveTwinForAnyThreadCount(int m, int n, int k)
    {
        var rng = new Random(m * 1000 + n * 10 + k);
        var a = Rand(rng, m * k); var b = Rand(rng, n * k);
        var naive = new float[m * n];
        Gemm.MatMulTransBNaive(a, b, naive, m, n, k, false);
        var fast = new float[m * n];
        Gemm.MatMulTransB(a, 0, b, 0, fast, 0, m, n, k, false);
        for (int i = 0; i < naive.Length; i++) Assert.True(Math.Abs(naive[i] - fast[i]) <= 1e-5 * (1 + Math.Abs(naive[i])), $"{i}: {naive[i]} vs {fast[i]}");
        int saved = TrainingParallel.MaxThreads;
        try
        {
            TrainingParallel.MaxThreads = 1;
            var one = new float[m * n];
            Gemm.MatMulTransB(a, 0, b, 0, one, 0, m, n, k, false);
            Assert.Equal(fast, one); // bitwise: split only over outputs
            Gemm.MatMulTransB(a, 0, b, 0, one, 0, m, n, k, true);
            for (int i = 0; i < one.Length; i++) Assert.Equal(2 * fast[i], one[i], 5);
        }
        finally { TrainingParallel.MaxThreads = saved; }
    }

    [Fact]
    public void LinearBackward()
    {
        var rng = new Random(1);
        int n = 5, inF = 7, outF = 3;
        var x = Rand(rng, n * inF); var w = Rand(rng, outF * inF); var b = Rand(rng, outF); var r = Rand(rng, n * outF);
        double F() { var y = new float[n * outF]; Linear.Forward(x, n, inF, w, b, outF, y); return Probe(y, r); }
        var dx = new float[n * inF]; var dw = new float[outF * inF]; var db = new float[outF];
        Linear.Backward(x, r, n, inF, outF, w, dx, false, dw, db);
        CheckFd(x, dx, F); CheckFd(w, dw, F); CheckFd(b, db, F);
    }

    [Fact]
    public void LayerNormBackward()
    {
        var rng = new Random(2);
        int rows = 3, h = 9;
        var x = Rand(rng, rows * h, 2); var g = Rand(rng, h); var be = Rand(rng, h); var r = Rand(rng, rows * h);
        double F() { var y = new float[rows * h]; LayerNorm.Forward(x, g, be, 1e-5f, rows, h, y, new float[rows], new float[rows]); return Probe(y, r); }
        var y0 = new float[rows * h]; var mean = new float[rows]; var rstd = new float[rows];
        LayerNorm.Forward(x, g, be, 1e-5f, rows, h, y0, mean, rstd);
        var dx = new float[rows * h]; var dg = new float[h]; var db = new float[h];
        LayerNorm.Backward(x, mean, rstd, g, r, rows, h, dx, false, dg, db);
        CheckFd(x, dx, F, 1e-2); CheckFd(g, dg, F); CheckFd(be, db, F);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void GeluBackward(bool tanh)
    {
        var x = Enumerable.Range(-40, 81).Select(i => i * 0.1f).ToArray();
        var r = Rand(new Random(3), x.Length);
        double F() { var y = new float[x.Length]; Gelu.Forward(x, y, tanh); return Probe(y, r); }
        var dx = new float[x.Length];
        Gelu.Backward(x, r, dx, tanh);
        CheckFd(x, dx, F, 1e-3, 1e-2);
    }

    [Fact]
    public void ErfIsAccurate()
    {
        double worst = 0;
        for (double x = -6; x <= 6; x += 0.001) worst = Math.Max(worst, Math.Abs(Gelu.Erf(x) - Gelu.ErfReference(x)));
        Assert.True(worst < 1.5e-7, $"max |erf − reference| = {worst:E2}");
        // Reference values (Abramowitz & Stegun table 7.1).
        Assert.Equal(0.5204998778, Gelu.ErfReference(0.5), 9);
        Assert.Equal(0.8427007929, Gelu.ErfReference(1.0), 9);
        Assert.Equal(0.9953222650, Gelu.ErfReference(2.0), 9);
        Assert.Equal(0.9999779095, Gelu.ErfReference(3.0), 9);
        Assert.Equal(-0.9661051465, Gelu.ErfReference(-1.5), 9);
    }

    [Fact]
    public void AttentionBackwardWithAndWithoutDropout()
    {
        var rng = new Random(4);
        int hidden = 8, heads = 2;
        int[] lens = [3, 1, 4];
        int n = lens.Sum();
        var att = new Attention(hidden, heads, lens);
        var q = Rand(rng, n * hidden); var k = Rand(rng, n * hidden); var v = Rand(rng, n * hidden); var r = Rand(rng, n * hidden);
        foreach (bool dropout in new[] { false, true })
        {
            float[]? mask = null;
            if (dropout) { mask = new float[att.ProbCount]; Dropout.MakeMask(new Random(9), 0.3f, mask, mask.Length); }
            double F() { var ctx = new float[n * hidden]; att.Forward(q, k, v, new float[att.ProbCount], mask, ctx); return Probe(ctx, r); }
            var probs = new float[att.ProbCount];
            att.Forward(q, k, v, probs, mask, new float[n * hidden]);
            var dq = new float[n * hidden]; var dk = new float[n * hidden]; var dv = new float[n * hidden];
            att.Backward(q, k, v, probs, mask, r, dq, dk, dv);
            CheckFd(q, dq, F); CheckFd(k, dk, F); CheckFd(v, dv, F);
        }
    }

    [Fact]
    public void EmbeddingBackwardScatterAddsRepeatedIds()
    {
        var rng = new Random(5);
        int h = 4, vocab = 6;
        int[] ids = [2, 5, 2, 0], pos = [0, 1, 2, 0], types = [0, 0, 1, 0];
        var word = Rand(rng, vocab * h); var posE = Rand(rng, 3 * h); var type = Rand(rng, 2 * h); var r = Rand(rng, ids.Length * h);
        double F() { var e = new float[ids.Length * h]; Embeddings.Forward(ids, pos, types, word, posE, type, h, e); return Probe(e, r); }
        var dw = new float[word.Length]; var dp = new float[posE.Length]; var dt = new float[type.Length];
        Embeddings.Backward(ids, pos, types, r, h, dw, dp, dt);
        CheckFd(word, dw, F); CheckFd(posE, dp, F); CheckFd(type, dt, F);
    }

    [Theory]
    [InlineData(true, false)]
    [InlineData(true, true)]
    [InlineData(false, false)]
    [InlineData(false, true)]
    public void SpladePoolingBackward(bool max, bool doubleLog)
    {
        var rng = new Random(6);
        int h = 5, vocab = 11;
        int[] lens = [3, 2];
        int n = lens.Sum();
        var t = Rand(rng, n * h); var d = Rand(rng, vocab * h); var b = Rand(rng, vocab, 0.5f); var r = Rand(rng, lens.Length * vocab);
        var pool = new SpladePooling(h, vocab, max, doubleLog, lens);
        double F() { var p = new float[lens.Length * vocab]; new SpladePooling(h, vocab, max, doubleLog, lens).Forward(t, d, b, p); return Probe(p, r); }
        var pooled = new float[lens.Length * vocab];
        pool.Forward(t, d, b, pooled);
        Assert.All(pooled, v => Assert.True(v >= 0));
        var dT = new float[t.Length]; var dD = new float[d.Length]; var dB = new float[b.Length];
        pool.Backward(t, d, b, r, dT, dD, dB);
        // Small steps: max pooling is piecewise smooth (the arg-max must not switch inside the step).
        CheckFd(t, dT, F, 1e-3, 3e-2); CheckFd(d, dD, F, 1e-3, 3e-2); CheckFd(b, dB, F, 1e-3, 3e-2);
    }

    [Fact]
    public void ActivationDerivatives()
    {
        foreach (double x in new[] { -2.0, -0.1, 0.05, 0.7, 3.0 })
        {
            double h = 1e-6;
            Assert.Equal((SpladeActivation.Log1p(x + 3 + h) - SpladeActivation.Log1p(x + 3 - h)) / (2 * h), SpladeActivation.Log1pDerivative(x + 3), 6);
            Assert.Equal((SpladeActivation.Relu(x + h) - SpladeActivation.Relu(x - h)) / (2 * h), SpladeActivation.ReluDerivative(x), 6);
            foreach (bool dl in new[] { false, true })
                Assert.Equal((SpladeActivation.Apply(x + h, dl) - SpladeActivation.Apply(x - h, dl)) / (2 * h), SpladeActivation.Derivative(x, dl), 6);
        }
        Assert.Equal(1.0, SpladeActivation.Log1p(1e-10) / 1e-10, 9);
        Assert.Equal(0.0, SpladeActivation.ReluDerivative(0.0));
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
