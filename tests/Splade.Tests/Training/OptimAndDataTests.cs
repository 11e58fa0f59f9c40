using Splade.Training.Data;
using Splade.Training.Model;
using Splade.Training.Optim;

namespace Splade.Tests.Training;

public class OptimAndDataTests
{
    [Fact]
    public void AdamW_vector_path_equals_the_scalar_formula_bit_for_bit()
    {
        // Lengths that cover the vector body, its tail and several work chunks.
        int[] lengths = [1, 7, 8, 65_536 * 2 + 13];
        var rng = new Random(3);
        var tensors = lengths.Select((n, i) => new TrainableTensor($"t{i}", $"t{i}", [n], Enumerable.Range(0, n).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray())).ToArray();
        var twins = tensors.Select(t => (P: (float[])t.Data.Clone(), M: new float[t.Length], V: new float[t.Length])).ToArray();
        var opt = new AdamW(0.9, 0.999, 1e-8, 0.01);
        for (int step = 1; step <= 3; step++)
        {
            foreach (var t in tensors)
                for (int i = 0; i < t.Length; i++) t.Grad[i] = (float)(rng.NextDouble() - 0.5) * 0.1f;
            opt.Update(tensors, 2e-3);
            double lr = 2e-3;
            float stepSize = (float)(lr / (1 - Math.Pow(0.9, step))), decay = (float)(1 - lr * 0.01);
            float bc2 = (float)Math.Sqrt(1 - Math.Pow(0.999, step)), omb1 = (float)(1 - 0.9), omb2 = (float)(1 - 0.999);
            for (int k = 0; k < tensors.Length; k++)
            {
                var (p, m, v) = twins[k];
                var g = tensors[k].Grad;
                for (int i = 0; i < p.Length; i++)
                {
                    p[i] *= decay;
                    m[i] = m[i] + (g[i] - m[i]) * omb1;
                    v[i] = v[i] * 0.999f + omb2 * g[i] * g[i];
                    p[i] -= stepSize * (m[i] / (MathF.Sqrt(v[i]) / bc2 + 1e-8f));
                }
                Assert.Equal(p, tensors[k].Data);
            }
        }
    }

    [Fact]
    public void AdamWStepMatchesHandComputation()
    {
        var t = new TrainableTensor("w", "w", [3], [1.0f, -2.0f, 0.5f]);
        var opt = new AdamW(0.9, 0.999, 1e-8, 0.1);
        double lr = 0.01;
        double[] p = [1.0, -2.0, 0.5], m = new double[3], v = new double[3];
        float[][] grads = [[0.5f, -1f, 0f], [0.1f, 2f, -0.3f], [-0.4f, 0.2f, 0.3f]];
        for (int step = 1; step <= 3; step++)
        {
            grads[step - 1].CopyTo(t.Grad, 0);
            opt.Update([t], lr);
            for (int i = 0; i < 3; i++)
            {
                double g = grads[step - 1][i];
                p[i] -= lr * 0.1 * p[i];                      // decoupled weight decay
                m[i] = 0.9 * m[i] + 0.1 * g;
                v[i] = 0.999 * v[i] + 0.001 * g * g;
                double mHat = m[i] / (1 - Math.Pow(0.9, step)), vHat = v[i] / (1 - Math.Pow(0.999, step));
                p[i] -= lr * mHat / (Math.Sqrt(vHat) + 1e-8);
                Assert.Equal(p[i], t.Data[i], 5);
            }
        }
        Assert.Equal(3, opt.Step);
        // First step of Adam moves each coordinate with a non-zero gradient by about lr, against the gradient sign.
        var u = new TrainableTensor("u", "u", [2], [0f, 0f]);
        u.Grad[0] = 3f; u.Grad[1] = -1e-3f;
        new AdamW(weightDecay: 0).Update([u], 0.5);
        Assert.Equal(-0.5, u.Data[0], 5);
        Assert.Equal(0.5, u.Data[1], 4);
    }

    [Fact]
    public void CosineScheduleWithWarmupMatchesTransformers()
    {
        int total = 100, warm = LearningRateSchedule.WarmupSteps(total, 0.025);
        Assert.Equal(3, warm); // ceil(2.5)
        var k = LearningRateScheduleKind.Cosine;
        Assert.Equal(0.0, LearningRateSchedule.Multiplier(k, 0, warm, total));
        Assert.Equal(1.0 / 3, LearningRateSchedule.Multiplier(k, 1, warm, total), 12);
        Assert.Equal(1.0, LearningRateSchedule.Multiplier(k, 3, warm, total), 12);
        // progress = (step − 3)/97; 0.5·(1 + cos(π·progress))
        Assert.Equal(0.5 * (1 + Math.Cos(Math.PI * 47 / 97.0)), LearningRateSchedule.Multiplier(k, 50, warm, total), 12);
        Assert.Equal(0.5 * (1 + Math.Cos(Math.PI * 96 / 97.0)), LearningRateSchedule.Multiplier(k, 99, warm, total), 12);
        Assert.Equal(0.0, LearningRateSchedule.Multiplier(k, 100, warm, total), 12);
        Assert.Equal(0.5, LearningRateSchedule.Multiplier(LearningRateScheduleKind.Linear, 50, 0, total), 12);
        Assert.Equal(1.0, LearningRateSchedule.Multiplier(LearningRateScheduleKind.Constant, 0, warm, total));
    }

    [Fact]
    public void RegularizerWarmupIsQuadraticOverAThird()
    {
        int warm = RegularizerWeightSchedule.WarmupSteps(30, 1.0 / 3);
        Assert.Equal(10, warm);
        Assert.Equal(0.0, RegularizerWeightSchedule.Weight(0.003, 0, warm));
        Assert.Equal(0.003 * 0.25, RegularizerWeightSchedule.Weight(0.003, 5, warm), 15);
        Assert.Equal(0.003 * 0.81, RegularizerWeightSchedule.Weight(0.003, 9, warm), 15);
        Assert.Equal(0.003, RegularizerWeightSchedule.Weight(0.003, 10, warm));
        Assert.Equal(0.003, RegularizerWeightSchedule.Weight(0.003, 25, warm));
        Assert.Equal(1, RegularizerWeightSchedule.WarmupSteps(2, 1.0 / 3)); // at least one step
    }

    [Fact]
    public void GradientClippingScalesToMaxNorm()
    {
        var a = new TrainableTensor("a", "a", [2], [0, 0]);
        var b = new TrainableTensor("b", "b", [1], [0]);
        a.Grad[0] = 3; a.Grad[1] = 0; b.Grad[0] = 4;
        double norm = GradientClipping.ClipGlobalNorm([a, b], 1.0);
        Assert.Equal(5.0, norm, 12);
        Assert.Equal(3 / (5 + 1e-6), a.Grad[0], 6);
        Assert.Equal(4 / (5 + 1e-6), b.Grad[0], 6);
        Assert.Equal(1.0, GradientClipping.ClipGlobalNorm([a, b], 10.0), 5); // under the limit: unchanged
        Assert.Equal(3 / (5 + 1e-6), a.Grad[0], 6);
    }

    [Fact]
    public void NoDuplicatesSamplerDefersClashingRows()
    {
        var rows = new List<TrainingRow>
        {
            new("q1", "shared doc", ["n1"]),
            new("q2", "shared doc", ["n2"]),
            new("q3", "d3", ["n3"]),
            new("q4", "d4", ["q1"]),   // its negative is another row's query
            new("q5", "d5", ["n5"]),
            new("q6", "d6", ["n6"]),
        };
        for (int seed = 0; seed < 20; seed++)
        {
            var batches = NoDuplicatesBatchSampler.Batches(rows, 3, seed);
            Assert.Equal(Enumerable.Range(0, rows.Count), batches.SelectMany(b => b).OrderBy(i => i)); // every row exactly once
            Assert.Equal(3, batches[0].Length); // later batches can be short when only clashing rows remain
            foreach (var batch in batches)
            {
                var texts = batch.SelectMany(i => rows[i].Texts()).ToList();
                Assert.Equal(texts.Count, texts.Distinct().Count());
            }
            Assert.Equal(batches, NoDuplicatesBatchSampler.Batches(rows, 3, seed)); // deterministic
        }
        Assert.NotEqual(NoDuplicatesBatchSampler.Batches(rows, 3, 1, epoch: 0), NoDuplicatesBatchSampler.Batches(rows, 3, 1, epoch: 5));
        Assert.All(NoDuplicatesBatchSampler.Batches(rows, 4, 3, dropLast: true), b => Assert.Equal(4, b.Length));
    }

    [Fact]
    public void JsonlRowsAcceptTheColumnConventions()
    {
        string dir = Directory.CreateTempSubdirectory("splade-rows").FullName;
        try
        {
            string p = Path.Combine(dir, "a.jsonl");
            File.WriteAllLines(p, [
                """{"query":"q","positive":"p","negative":"n"}""",
                "",
                """{"query":"q2","positive":"p2","negatives":["n2"],"label":1.5}""",
                """{"query":"q3","positive":"p3","negative_1":"x"}""",
            ]);
            var rows = JsonlTrainingRows.Read(p);
            Assert.Equal(3, rows.Count);
            Assert.Equal(["q", "p", "n"], rows[0].Texts());
            Assert.Equal([1.5f], rows[1].Labels!);
            Assert.Equal("x", rows[2].Negatives[0]);
            File.WriteAllLines(p, ["""{"query":"q","negative":"n"}"""]);
            var e = Assert.Throws<InvalidDataException>(() => JsonlTrainingRows.Read(p));
            Assert.Contains("a.jsonl:1", e.Message);
            Assert.Contains("positive", e.Message);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void BeirRowsSampleNonRelevantNegatives()
    {
        string dir = Directory.CreateTempSubdirectory("splade-beir").FullName;
        try
        {
            File.WriteAllLines(Path.Combine(dir, "corpus.jsonl"), Enumerable.Range(1, 6).Select(i => $$"""{"_id":"d{{i}}","title":"t{{i}}","text":"text {{i}}"}"""));
            File.WriteAllLines(Path.Combine(dir, "queries.jsonl"), ["""{"_id":"1","text":"first"}""", """{"_id":"2","text":"second"}"""]);
            Directory.CreateDirectory(Path.Combine(dir, "qrels"));
            File.WriteAllLines(Path.Combine(dir, "qrels", "test.tsv"), ["query-id\tcorpus-id\tscore", "1\td1\t1", "1\td2\t2", "2\td3\t1", "2\td4\t0"]);
            var rows = BeirTrainingRows.Read(dir, "test", negativesPerRow: 2, seed: 3);
            Assert.Equal(3, rows.Count);
            Assert.Equal(("first", "t1 text 1"), (rows[0].Query, rows[0].Positive));
            foreach (var r in rows.Take(2)) Assert.All(r.Negatives, n => Assert.DoesNotContain(n, new[] { "t1 text 1", "t2 text 2" }));
            Assert.All(rows[2].Negatives, n => Assert.NotEqual("t3 text 3", n));
            Assert.Equal(rows.Select(r => r.Negatives.ToArray()), BeirTrainingRows.Read(dir, "test", 2, 3).Select(r => r.Negatives.ToArray()));
        }
        finally { Directory.Delete(dir, true); }
    }
}
