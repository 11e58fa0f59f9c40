using Splade.Models;
using Splade.Sparse;
using Xunit.Abstractions;

namespace Splade.Tests.Models;

/// <summary>
/// The network and pooling against the expected outputs of the fixture checkpoints (max abs diff
/// 1e-4 everywhere; identical non-zero index sets).
/// </summary>
public sealed class SpladeModelFixtureTests(ITestOutputHelper output)
{
    private const float Tolerance = 1e-4f;

    public static TheoryData<string> TinyModels => new() { "tiny-splade", "tiny-splade-variant" };

    private static (SpladeModel Model, ExpectedOutputs Expected) LoadTiny(string name, int threads = 2) =>
        (SpladeModel.Load(TestData.Model(name), new SpladeModelOptions { Threads = threads }),
         ExpectedOutputs.Load(Path.Combine(TestData.Dir, "models", name + ".expected.json")));

    [Theory]
    [MemberData(nameof(TinyModels))]
    public void HiddenStates_of_first_text_match_fixture(string name)
    {
        var (model, expected) = LoadTiny(name);
        ExpectedText first = expected.Texts[0];
        float[][] states = model.HiddenStates(first.Ids);
        Assert.Equal(first.HiddenStates!.Length, states.Length);
        int h = model.Config.HiddenSize;
        for (int layer = 0; layer < states.Length; layer++)
        {
            float[] flat = first.HiddenStates[layer].SelectMany(r => r).ToArray();
            Assert.Equal(flat.Length, states[layer].Length);
            Assert.Equal(first.Ids.Length * h, flat.Length);
            float diff = MaxAbsDiff(flat, states[layer]);
            Assert.True(diff <= Tolerance, $"layer {layer}: max abs diff {diff}");
        }
    }

    [Theory]
    [MemberData(nameof(TinyModels))]
    public void Logits_of_first_token_top5_match_fixture(string name)
    {
        var (model, expected) = LoadTiny(name);
        ExpectedText first = expected.Texts[0];
        float[] logits = model.Logits(first.Ids);
        var top = logits.Take(model.Dimension).Select((v, i) => (Id: i, Logit: v)).OrderByDescending(p => p.Logit).Take(5).ToArray();
        var expectedTop = first.LogitsTop5 ?? throw new InvalidDataException("The fixture has no logits_top5 for its first text.");
        Assert.Equal(expectedTop.Select(p => p.Id), top.Select(p => p.Id));
        for (int i = 0; i < 5; i++) Assert.True(Math.Abs(expectedTop[i].Logit - top[i].Logit) <= Tolerance);
    }

    [Theory]
    [MemberData(nameof(TinyModels))]
    public void Every_vector_and_similarity_matches_fixture(string name)
    {
        var (model, expected) = LoadTiny(name);
        SparseVector[] vectors = model.Forward(expected.Texts.Select(t => t.Ids).ToArray());
        AssertVectors(expected, vectors);
        for (int q = 0; q < expected.QueryRows.Length; q++)
            for (int d = 0; d < expected.DocumentColumns.Length; d++)
            {
                float score = vectors[expected.QueryRows[q]].Dot(vectors[expected.DocumentColumns[d]]);
                Assert.True(Math.Abs(score - expected.Scores[q][d]) <= Tolerance * Math.Max(1, Math.Abs(expected.Scores[q][d])),
                    $"score[{q}][{d}] {score} vs {expected.Scores[q][d]}");
            }
    }

    [Theory]
    [MemberData(nameof(TinyModels))]
    public void Batched_equals_one_by_one(string name)
    {
        var (model, expected) = LoadTiny(name);
        int[][] ids = expected.Texts.Select(t => t.Ids).ToArray();
        SparseVector[] batched = model.Forward(ids);
        for (int i = 0; i < ids.Length; i++)
        {
            SparseVector single = model.Forward([ids[i]])[0];
            Assert.Equal(single.Indices.ToArray(), batched[i].Indices.ToArray());
            Assert.True(MaxAbsDiff(single.Values, batched[i].Values) <= 1e-6f, $"text {i}");
        }
    }

    [Theory]
    [MemberData(nameof(TinyModels))]
    public void One_thread_equals_two_threads_bitwise(string name)
    {
        var (two, expected) = LoadTiny(name, threads: 2);
        SpladeModel one = SpladeModel.Load(TestData.Model(name), new SpladeModelOptions { Threads = 1 });
        int[][] ids = expected.Texts.Select(t => t.Ids).ToArray();
        SparseVector[] a = one.Forward(ids), b = two.Forward(ids);
        for (int i = 0; i < ids.Length; i++) Assert.Equal(a[i], b[i]);
    }

    [Theory]
    [MemberData(nameof(TinyModels))]
    public void Fused_pooling_equals_unfused_reference(string name)
    {
        var (model, expected) = LoadTiny(name);
        foreach (ExpectedText text in expected.Texts.Where((_, i) => i % 4 == 0))
        {
            SparseVector fused = model.Forward([text.Ids])[0];
            SparseVector reference = model.ForwardUnfused(text.Ids);
            Assert.Equal(reference.Indices.ToArray(), fused.Indices.ToArray());
            Assert.True(MaxAbsDiff(reference.Values, fused.Values) <= 1e-5f);
        }
    }

    [Fact]
    public void Variant_reads_its_options_from_the_files()
    {
        SpladeModel model = SpladeModel.Load(TestData.Model("tiny-splade-variant"));
        Assert.Equal(2, model.Config.NumAttentionHeads);
        Assert.Equal(1e-5f, model.Config.LayerNormEps);
        Assert.Equal(PoolingStrategy.Sum, model.Pooling!.Strategy);
        Assert.Equal(SpladeActivation.Log1pRelu, model.Pooling.Activation);
        Assert.Equal(64, model.Folder.Settings.MaxSeqLength);
    }

    [Fact]
    public void BertMiniRandomSplade_every_vector_matches_fixture()
    {
        if (TestData.SharedData is null)
        {
            output.WriteLine("Skipped: shared data folder not found (set SPLADE_SHARED_DATA).");
            return;
        }
        string folder = Path.Combine(TestData.SharedData, "models", "bert-mini-random-splade");
        var model = SpladeModel.Load(folder, new SpladeModelOptions { Threads = 2 });
        var expected = ExpectedOutputs.Load(folder + ".expected.json");
        Assert.Contains(expected.Texts, t => t.Ids.Length == 512);
        SparseVector[] vectors = model.Forward(expected.Texts.Select(t => t.Ids).ToArray());
        AssertVectors(expected, vectors);
    }

    [Fact]
    public void AllMiniLM_f16_last_hidden_state_matches_fixture()
    {
        string? folder = TestData.SharedData is null ? null : Path.Combine(TestData.SharedData, "models", "all-MiniLM-L6-v2-f16");
        if (folder is null || !Directory.Exists(folder))
        {
            output.WriteLine("Skipped: all-MiniLM-L6-v2-f16 not found in the shared data folder.");
            return;
        }
        var model = SpladeModel.Load(folder, new SpladeModelOptions { Threads = 2 });
        Assert.False(model.HasMlmHead);
        Assert.Throws<InvalidOperationException>(() => model.Forward([[101, 102]]));
        foreach (var (ids, state) in ExpectedOutputs.LoadHiddenStates(folder + ".expected.json"))
        {
            float diff = MaxAbsDiff(state.SelectMany(r => r).ToArray(), model.LastHiddenState(ids));
            Assert.True(diff <= Tolerance, $"{ids.Length} tokens: max abs diff {diff}");
        }
    }

    private void AssertVectors(ExpectedOutputs expected, SparseVector[] vectors)
    {
        float worst = 0;
        for (int i = 0; i < expected.Texts.Length; i++)
        {
            ExpectedText t = expected.Texts[i];
            Assert.True(t.Indices.SequenceEqual(vectors[i].Indices.ToArray()),
                $"text {i}: index sets differ ({t.Indices.Length} expected, {vectors[i].Count} found)");
            float diff = MaxAbsDiff(t.Values, vectors[i].Values);
            worst = Math.Max(worst, diff);
            Assert.True(diff <= Tolerance, $"text {i}: max abs diff {diff}");
        }
        output.WriteLine($"max abs diff over {vectors.Length} vectors: {worst:E2}");
    }

    internal static float MaxAbsDiff(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        Assert.Equal(a.Length, b.Length);
        float m = 0;
        for (int i = 0; i < a.Length; i++) m = Math.Max(m, Math.Abs(a[i] - b[i]));
        return m;
    }
}
