using Splade.Models;
using Splade.Training;
using Splade.Training.Checkpoint;
using Splade.Training.Data;
using Splade.Training.Model;
using Splade.Training.Optim;
using Xunit.Abstractions;

namespace Splade.Tests.Training;

public class TrainerTests(ITestOutputHelper output)
{
    private static SpladeTrainingOptions FixtureOptions(string outDir, int epochs) => new()
    {
        OutputDir = outDir, BatchSize = 4, Epochs = epochs, LearningRate = 1e-3, WeightDecay = 0.01,
        Schedule = LearningRateScheduleKind.Constant, MaxGradNorm = null, RegularizerWarmup = false, Dropout = false,
    };

    private static List<TrainingRow> FixtureRows(TrainingFixture fx) =>
        Enumerable.Range(0, 4).Select(i => new TrainingRow(fx.QueryTexts[i], fx.DocumentTexts[i], [fx.DocumentTexts[4 + i]])).ToList();

    [Fact]
    public void TrainerOnTextsReproducesTheFixtureLossesAndWritesAModelFolder()
    {
        var fx = TrainingFixture.Load();
        string outDir = Directory.CreateTempSubdirectory("splade-train").FullName;
        try
        {
            var trainer = new SpladeTrainer(fx.ModelDir, FixtureOptions(outDir, 3), text => fx.IdsByText[text]);
            var losses = new List<TrainingProgress>();
            var evals = new List<int>();
            // A stand-in evaluator: the score is higher for the middle epoch so "best" is not simply the last.
            var result = trainer.Train(FixtureRows(fx), (enc, epoch) =>
            {
                evals.Add(epoch);
                Assert.Equal(30522, enc.Dimension);
                var q = enc.EncodeQueries([fx.QueryTexts[0]]);
                Assert.True(q[0].Count > 0);
                return epoch == 1 ? 0.9 : 0.5;
            }, losses.Add);
            Assert.Equal([0, 1, 2], evals);
            Assert.Equal(3, result.Steps);
            for (int i = 0; i < 3; i++)
            {
                output.WriteLine($"step {i}: {losses[i].Loss:R} vs {fx.Losses[i]:R}");
                Assert.InRange(Math.Abs(losses[i].Loss - fx.Losses[i]), 0, 1e-4);
            }
            Assert.Equal(0.9, result.BestNdcg10);
            Assert.Equal([false, true, false], result.Epochs.Select(e => e.IsBest));

            // Output folder: same layout as the input, weights of the best epoch (step 2), a model card.
            foreach (var f in new[] { "config.json", "modules.json", "tokenizer.json", "vocab.txt", "1_SpladePooling/config.json", "sentence_bert_config.json", "model.safetensors", "README.md" })
                Assert.True(File.Exists(Path.Combine(outDir, f)), f);
            using (var written = SafeTensorsFile.Open(Path.Combine(outDir, "model.safetensors")))
            using (var input = SafeTensorsFile.Open(Path.Combine(fx.ModelDir, "model.safetensors")))
            using (var best = SafeTensorsFile.Open(Path.Combine(outDir, "best", "model.safetensors")))
            {
                Assert.Equal(input.Tensors.Keys.Order(), written.Tensors.Keys.Order()); // tied decoder not duplicated
                Assert.Equal("pt", written.Metadata["format"]);
                Assert.Equal(best.ReadFloat32("cls.predictions.bias"), written.ReadFloat32("cls.predictions.bias"));
            }
            Assert.Equal(2, SpladeCheckpoint.LoadTrainerState(Path.Combine(outDir, "best")).GlobalStep);
            string card = File.ReadAllText(Path.Combine(outDir, "README.md"));
            Assert.Contains("SparseEncoder.Load(", card);
            Assert.Contains("SparseMultipleNegativesRankingLoss(scale=1", card);
            Assert.Contains("| **2** | **2** |", card);
            Assert.Contains("Size: 4 training samples", card);
            Assert.Contains("min: 8 tokens", card); // shortest of the four queries
        }
        finally { Directory.Delete(outDir, true); }
    }

    [Fact]
    public void EvalStepsEvaluatesInsideTheEpochAndProgressCarriesAnEta()
    {
        var fx = TrainingFixture.Load();
        string outDir = Directory.CreateTempSubdirectory("splade-train").FullName;
        try
        {
            var f = FixtureOptions(outDir, 1);
            var options = new SpladeTrainingOptions
            {
                OutputDir = outDir, BatchSize = 2, Epochs = 1, LearningRate = f.LearningRate, WeightDecay = f.WeightDecay, Schedule = f.Schedule,
                MaxGradNorm = null, RegularizerWarmup = false, Dropout = false, EvalEverySteps = 1,
            };
            var trainer = new SpladeTrainer(fx.ModelDir, options, text => fx.IdsByText[text]);
            var steps = new List<TrainingProgress>();
            var evaluatedAfter = new List<int>();
            var result = trainer.Train(FixtureRows(fx), (enc, epoch) =>
            {
                evaluatedAfter.Add(steps.Count);
                return evaluatedAfter.Count == 1 ? 0.9 : 0.5; // the mid-epoch evaluation is the best
            }, steps.Add);
            Assert.Equal(2, result.Steps);
            Assert.Equal([1, 2], evaluatedAfter); // after step 1 (inside the epoch) and at the epoch's end
            Assert.Equal(0.9, result.BestNdcg10);
            Assert.Equal(1, SpladeCheckpoint.LoadTrainerState(Path.Combine(outDir, "best")).GlobalStep);
            Assert.True(steps[0].EtaSeconds > 0);
            Assert.Equal(0, steps[1].EtaSeconds);
        }
        finally { Directory.Delete(outDir, true); }
    }

    [Fact]
    public void ResumingFromACheckpointGivesTheSameWeightsAsAnUninterruptedRun()
    {
        var fx = TrainingFixture.Load();
        string a = Directory.CreateTempSubdirectory("splade-a").FullName, b = Directory.CreateTempSubdirectory("splade-b").FullName;
        try
        {
            var rows = FixtureRows(fx).Concat(FixtureRows(fx).Select(r => r with { Query = r.Query + " again" })).ToList();
            Func<string, int[]> tok = t => t.EndsWith(" again") ? [.. fx.IdsByText[t[..^6]][..^1], 2153, 102] : fx.IdsByText[t];
            var full = new SpladeTrainer(fx.ModelDir, FixtureOptions(a, 2), tok);
            full.Train(rows);
            var first = new SpladeTrainer(fx.ModelDir, FixtureOptions(b, 1), tok);
            first.Train(rows);
            var resumed = new SpladeTrainer(fx.ModelDir, FixtureOptions(b, 2), tok);
            var result = resumed.Train(rows, resumeFrom: Path.Combine(b, "checkpoint-last"));
            Assert.Equal(full.Optimizer.Step, resumed.Optimizer.Step);
            foreach (var t in full.Parameters.All)
                Assert.Equal(t.Data, resumed.Parameters.Find(t.Name)!.Data);
        }
        finally { Directory.Delete(a, true); Directory.Delete(b, true); }
    }

    [Fact]
    public void CheckpointRoundTripKeepsEveryTensor()
    {
        string dir = Directory.CreateTempSubdirectory("splade-ckpt").FullName;
        try
        {
            var fx = TrainingFixture.Load();
            var p = fx.LoadParameters();
            var rng = new Random(1);
            foreach (var t in p.All) for (int i = 0; i < t.Length; i += 7) t.Data[i] += (float)rng.NextDouble();
            var opt = new AdamW();
            foreach (var t in p.All) t.Grad[0] = 1f;
            opt.Update(p.All, 1e-3);
            SpladeCheckpoint.SaveModel(fx.ModelDir, p, dir);
            SpladeCheckpoint.SaveOptimizer(opt, p, dir);
            BertParameters back;
            using (var src = new SafeTensorsTensorSource(Path.Combine(dir, "model.safetensors")))
                back = BertParameters.Load(TrainingModelConfig.Load(dir), src);
            Assert.True(back.IsTied);
            foreach (var t in p.All) Assert.Equal(t.Data, back.Find(t.Name)!.Data);
            var opt2 = new AdamW();
            SpladeCheckpoint.LoadOptimizer(opt2, back, dir);
            Assert.Equal(1, opt2.Step);
            foreach (var t in p.All) Assert.Equal(opt.State(t.Name)!.Value.ExpAvgSq, opt2.State(t.Name)!.Value.ExpAvgSq);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void UntiedF16VariantLoadsWithItsOwnDecoderAndTrains()
    {
        string dir = TestData.Model("tiny-splade-variant");
        var cfg = TrainingModelConfig.Load(dir);
        Assert.Equal(("sum", "log1p_relu", 1e-5f), (cfg.PoolingStrategy, cfg.ActivationFunction, cfg.LayerNormEps));
        using var src = new SafeTensorsTensorSource(Path.Combine(dir, "model.safetensors"));
        var p = BertParameters.Load(cfg, src);
        Assert.False(p.IsTied);
        var model = new BertMlmSplade(p);
        var pooled = model.Forward([[101, 2054, 2003, 102], [101, 7592, 102]]);
        var grad = pooled.Select(v => v > 0 ? 1f : 0f).ToArray();
        model.Backward(grad);
        Assert.Contains(p.DecoderW.Grad, g => g != 0);
        Assert.Contains(p.WordEmbeddings.Grad, g => g != 0);
    }

    [Fact]
    public void MissingTensorNamesTheTensor()
    {
        var cfg = TrainingModelConfig.Load(TestData.Model("tiny-splade"));
        var e = Assert.Throws<InvalidDataException>(() => BertParameters.Load(cfg, new InMemoryTensorSource(new Dictionary<string, (float[], int[])>())));
        Assert.Contains("bert.embeddings.word_embeddings.weight", e.Message);
    }
}
