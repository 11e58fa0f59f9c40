using Splade.Training.Losses;
using Splade.Training.Model;
using Splade.Training.Optim;
using Xunit.Abstractions;

namespace Splade.Tests.Training;

public class FixtureReproductionTests(ITestOutputHelper output)
{
    [Fact]
    public void StepZeroGradientsMatchPyTorch()
    {
        var fx = TrainingFixture.Load();
        var p = fx.LoadParameters();
        var model = new BertMlmSplade(p);
        var loss = new SpladeLoss(new SparseMultipleNegativesRankingLoss(1.0), 0.003, 0.005);
        var parts = fx.Step(model, loss);
        output.WriteLine($"loss {parts.Total:R} (expected {fx.Losses[0]:R}), mnrl {parts.Base:R}, doc {parts.DocumentRegularizer:R}, query {parts.QueryRegularizer:R}");
        Assert.InRange(Math.Abs(parts.Total - fx.Losses[0]), 0, 1e-4);
        Assert.InRange(Math.Abs(parts.Base - fx.Mnrl[0]), 0, 1e-4);
        Assert.InRange(Math.Abs(parts.DocumentRegularizer - fx.DocReg[0]), 0, 1e-4);
        Assert.InRange(Math.Abs(parts.QueryRegularizer - fx.QueryReg[0]), 0, 1e-4);

        Assert.Equal(0, GradientComparison.CountFailingTensors(p, TrainingFixture.ExpectedGrads(), output));
    }

    [Fact]
    public void ThreeAdamWStepsReproduceTheLossCurve()
    {
        var fx = TrainingFixture.Load();
        var p = fx.LoadParameters();
        var model = new BertMlmSplade(p);
        var loss = new SpladeLoss(new SparseMultipleNegativesRankingLoss(1.0), 0.003, 0.005);
        var opt = new AdamW(0.9, 0.999, 1e-8, 0.01);
        for (int step = 0; step < 3; step++)
        {
            p.ZeroGrad();
            var parts = fx.Step(model, loss);
            output.WriteLine($"step {step}: loss {parts.Total:R} expected {fx.Losses[step]:R} (diff {parts.Total - fx.Losses[step]:E2})");
            Assert.InRange(Math.Abs(parts.Total - fx.Losses[step]), 0, 1e-4);
            Assert.InRange(Math.Abs(parts.Base - fx.Mnrl[step]), 0, 1e-4);
            opt.Update(p.All, 1e-3);
        }
    }

    [Fact]
    public void OneThreadGivesTheSameGradientsAsTwoBitForBit()
    {
        var fx = TrainingFixture.Load();
        var loss = new SpladeLoss(new SparseMultipleNegativesRankingLoss(1.0), 0.003, 0.005);
        List<float[]>? first = null;
        double firstLoss = 0;
        foreach (int threads in new[] { 1, 2 })
        {
            var p = fx.LoadParameters();
            // Dropout on, so that the masks' path is covered too.
            var model = new BertMlmSplade(p, dropoutSeed: 5, new Splade.Tensors.ComputePool(threads)) { Training = true };
            double total = fx.Step(model, loss).Total;
            var grads = p.All.Select(t => t.Grad).ToList();
            if (first is null) { first = grads; firstLoss = total; continue; }
            Assert.Equal(firstLoss, total);
            for (int i = 0; i < grads.Count; i++) Assert.True(first[i].AsSpan().SequenceEqual(grads[i]), $"{p.All[i].Name} differs between 1 and 2 threads");
        }
    }
}
