using Splade.Evaluation;
using Splade.Models;
using Splade.Sparse;
using Splade.Tensors;
using Splade.Tests.Models;
using Xunit.Abstractions;

namespace Splade.Tests.Encoder;

/// <summary>
/// The reduced-precision modes end to end: vectors close to float32 on the fixture texts (bounds set a
/// little below the measured agreement), retrieval metrics barely moved, batching and threads
/// without effect, and the default mode untouched.
/// </summary>
public sealed class ReducedPrecisionTests(ITestOutputHelper output)
{
    private static SparseEncoder Load(string folder, EncodePrecision precision, int threads = 2) =>
        SparseEncoder.Load(folder, new SparseEncoderOptions { Threads = threads, Precision = precision });

    private static string[] FixtureTexts(string expectedPath) => ExpectedOutputs.Load(expectedPath).Texts.Select(t => t.Text).ToArray();

    private VectorAgreement Agreement(string folder, string[] texts, EncodePrecision precision)
    {
        var reference = Load(folder, EncodePrecision.Float32).EncodeDocuments(texts);
        var reduced = Load(folder, precision).EncodeDocuments(texts);
        var a = VectorAgreement.Compare(reference, reduced);
        output.WriteLine($"{Path.GetFileName(folder)} {precision}: {a}");
        return a;
    }

    [Theory]
    // Measured on the 28 fixture texts: int8-decoder Jaccard 0.960 mean / 0.912 min, max |dw| 0.161, rel L2 0.045;
    // int8 0.925 / 0.800, 0.250, 0.083.
    [InlineData(EncodePrecision.Int8Decoder, 0.93, 0.85, 0.25, 0.07)]
    [InlineData(EncodePrecision.Int8, 0.90, 0.72, 0.4, 0.11)]
    public void Tiny_splade_fixture_vectors_stay_close_to_float32(EncodePrecision precision, double meanJaccard, double minJaccard, double maxAbsDiff, double relL2)
    {
        if (!Int8Matrix.IsSupported) { output.WriteLine("SKIPPED: no AVX-512 BW"); return; }
        string folder = TestData.Model("tiny-splade");
        var a = Agreement(folder, FixtureTexts(TestData.Model("tiny-splade.expected.json")), precision);
        Assert.Equal(28, a.Count);
        Assert.True(a.MeanJaccard >= meanJaccard, $"mean Jaccard {a.MeanJaccard}");
        Assert.True(a.MinJaccard >= minJaccard, $"min Jaccard {a.MinJaccard}");
        Assert.True(a.MaxAbsDiff <= maxAbsDiff, $"max abs diff {a.MaxAbsDiff}");
        Assert.True(a.MeanRelativeL2 <= relL2, $"relative L2 {a.MeanRelativeL2}");
        Assert.True(a.MeanJaccard < 1, "the reduced mode changed nothing: it is not in use");
    }

    [Theory]
    // Measured: int8-decoder Jaccard 0.960 / 0.882, max |dw| 0.177; int8 0.898 / 0.837, 0.492.
    [InlineData(EncodePrecision.Int8Decoder, 0.93, 0.83, 0.3)]
    [InlineData(EncodePrecision.Int8, 0.86, 0.75, 0.7)]
    public void Bert_mini_fixture_vectors_stay_close_to_float32(EncodePrecision precision, double meanJaccard, double minJaccard, double maxAbsDiff)
    {
        if (!Int8Matrix.IsSupported) { output.WriteLine("SKIPPED: no AVX-512 BW"); return; }
        if (TestData.SharedData is not { } shared)
        {
            output.WriteLine("SKIPPED: shared data (bert-mini-random-splade) not found; set SPLADE_SHARED_DATA to run.");
            return;
        }
        string folder = Path.Combine(shared, "models", "bert-mini-random-splade");
        var a = Agreement(folder, FixtureTexts(Path.Combine(shared, "models", "bert-mini-random-splade.expected.json")), precision);
        Assert.True(a.MeanJaccard >= meanJaccard, $"mean Jaccard {a.MeanJaccard}");
        Assert.True(a.MinJaccard >= minJaccard, $"min Jaccard {a.MinJaccard}");
        Assert.True(a.MaxAbsDiff <= maxAbsDiff, $"max abs diff {a.MaxAbsDiff}");
    }

    [Theory]
    // Measured on adi (82 documents, 35 queries), ndcg@10 0.1513 in float32: int8-decoder +0.0035, int8 −0.0035.
    [InlineData(EncodePrecision.Int8Decoder, 0.012)]
    [InlineData(EncodePrecision.Int8, 0.015)]
    public void Retrieval_metrics_on_adi_barely_move(EncodePrecision precision, double maxNdcgChange)
    {
        if (!Int8Matrix.IsSupported) { output.WriteLine("SKIPPED: no AVX-512 BW"); return; }
        var data = IrDataset.LoadBeir(TestData.Path_("ir", "adi"));
        string folder = TestData.Model("tiny-splade");
        double reference = new SparseInformationRetrievalEvaluator(data).Evaluate(Load(folder, EncodePrecision.Float32))["dot_ndcg@10"];
        double reduced = new SparseInformationRetrievalEvaluator(data).Evaluate(Load(folder, precision))["dot_ndcg@10"];
        output.WriteLine($"adi ndcg@10: float32 {reference:F4}, {precision} {reduced:F4} ({reduced - reference:+0.0000;-0.0000})");
        Assert.True(Math.Abs(reduced - reference) <= maxNdcgChange, $"ndcg@10 {reference} -> {reduced}");
        Assert.True(reference > 0.1, $"float32 ndcg@10 {reference}: the comparison needs a model that ranks something");
    }

    [Theory]
    [InlineData(EncodePrecision.Int8Decoder)]
    [InlineData(EncodePrecision.Int8)]
    public void Batched_equals_single_and_threads_do_not_matter(EncodePrecision precision)
    {
        if (!Int8Matrix.IsSupported) { output.WriteLine("SKIPPED: no AVX-512 BW"); return; }
        string folder = TestData.Model("tiny-splade");
        string[] texts = FixtureTexts(TestData.Model("tiny-splade.expected.json"));
        var two = Load(folder, precision, threads: 2);
        var batched = two.EncodeDocuments(texts);
        var one = Load(folder, precision, threads: 1);
        for (int i = 0; i < texts.Length; i++)
        {
            Assert.Equal(batched[i], two.EncodeDocument(texts[i]));
            Assert.Equal(batched[i], one.EncodeDocument(texts[i]));
        }
    }

    [Fact]
    public void Default_mode_is_float32_and_unchanged()
    {
        string folder = TestData.Model("tiny-splade");
        string[] texts = FixtureTexts(TestData.Model("tiny-splade.expected.json"));
        var byDefault = SparseEncoder.Load(folder, new SparseEncoderOptions { Threads = 2 });
        Assert.Equal(EncodePrecision.Float32, byDefault.Model.Precision);
        var vectors = byDefault.EncodeDocuments(texts);
        var explicitFloat = Load(folder, EncodePrecision.Float32).EncodeDocuments(texts);
        Assert.Equal(vectors, explicitFloat);
        // The float path is still exact max pooling: equal to the unfused logits + pooling twin.
        var ids = byDefault.TokenIds(texts[3]);
        var twin = byDefault.Model.ForwardUnfused(ids);
        Assert.Equal(twin.Indices.ToArray(), vectors[3].Indices.ToArray());
        for (int k = 0; k < twin.Count; k++) Assert.True(Math.Abs(twin.Values[k] - vectors[3].Values[k]) <= 1e-5f);
    }

    [Fact]
    public void Sum_pooling_keeps_the_float_decoder_in_int8_decoder_mode()
    {
        if (!Int8Matrix.IsSupported) { output.WriteLine("SKIPPED: no AVX-512 BW"); return; }
        string folder = TestData.Model("tiny-splade-variant"); // pooling_strategy sum
        string[] texts = FixtureTexts(TestData.Model("tiny-splade-variant.expected.json"));
        Assert.Equal(Load(folder, EncodePrecision.Float32).EncodeDocuments(texts), Load(folder, EncodePrecision.Int8Decoder).EncodeDocuments(texts));
        Assert.NotEqual(Load(folder, EncodePrecision.Float32).EncodeDocuments(texts), Load(folder, EncodePrecision.Int8).EncodeDocuments(texts));
    }

    [Fact]
    public void Vector_agreement_counts_overlap_and_differences()
    {
        var a = new SparseVector(10, [1, 3, 5], [1f, 2f, 3f]);
        var b = new SparseVector(10, [3, 5, 7], [2f, 2.5f, 0.25f]);
        var r = VectorAgreement.Compare([a, a, SparseVector.Empty(10)], [b, a, SparseVector.Empty(10)]);
        Assert.Equal((0.5 + 1 + 1) / 3, r.MeanJaccard, 12); // {3,5} of {1,3,5,7}
        Assert.Equal(0.5, r.MinJaccard, 12);
        Assert.Equal(1.0, r.MaxAbsDiff, 6); // index 1: 1 vs missing
        Assert.Equal(Math.Sqrt((1 + 0.25 + 0.0625) / 14.0) / 3, r.MeanRelativeL2, 6);
        Assert.Throws<ArgumentException>(() => VectorAgreement.Compare([a], []));
    }
}
