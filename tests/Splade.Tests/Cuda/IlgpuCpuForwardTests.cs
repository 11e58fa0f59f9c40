using Splade.Cuda;
using Splade.Models;
using Splade.Sparse;
using Splade.Tests.Models;

namespace Splade.Tests.Cuda;

/// <summary>
/// The device forward (the kernels the GPU runs, on ILGPU's CPU accelerator with the plain GEMM kernel) against the
/// managed CPU path and the PyTorch fixtures: identical non-zero sets, max abs diff 1e-4.
/// </summary>
public sealed class IlgpuCpuForwardTests(IlgpuCpuModels models) : IClassFixture<IlgpuCpuModels>
{
    private const float Tolerance = 1e-4f;

    public static TheoryData<string> TinyModels => new() { "tiny-splade", "tiny-splade-variant" };

    [Theory]
    [MemberData(nameof(TinyModels))]
    public void Every_vector_equals_the_cpu_path_and_the_fixture(string name)
    {
        var (model, backend, expected) = models.Get(name);
        int[][] ids = expected.Texts.Select(t => t.Ids).ToArray();
        TokenBatch batch = TokenBatch.FromSequences(ids, model.Config.VocabSize, model.Config.MaxPositionEmbeddings);
        SparseVector[] device = backend.ForwardPooled(batch);
        SparseVector[] cpu = model.Forward(ids);
        Assert.Equal(ids.Length, device.Length);
        for (int i = 0; i < ids.Length; i++)
        {
            AssertClose(cpu[i], device[i], $"text {i} vs cpu");
            Assert.Equal(expected.Texts[i].Indices, device[i].Indices.ToArray());
            float diff = SpladeModelFixtureTests.MaxAbsDiff(expected.Texts[i].Values, device[i].Values);
            Assert.True(diff <= Tolerance, $"text {i} vs fixture: max abs diff {diff}");
        }
    }

    [Theory]
    [MemberData(nameof(TinyModels))]
    public void Batched_equals_one_by_one(string name)
    {
        var (model, backend, expected) = models.Get(name);
        int[][] ids = expected.Texts.Select(t => t.Ids).ToArray();
        SparseVector[] batched = backend.ForwardPooled(Batch(model, ids));
        foreach (int i in new[] { 0, ids.Length / 2, ids.Length - 1 })
        {
            SparseVector single = backend.ForwardPooled(Batch(model, [ids[i]]))[0];
            Assert.Equal(single.Indices.ToArray(), batched[i].Indices.ToArray());
            Assert.True(SpladeModelFixtureTests.MaxAbsDiff(single.Values, batched[i].Values) <= 1e-5f, $"text {i}");
        }
    }

    [Fact]
    public void Decoder_chunks_of_a_few_tokens_give_the_same_vectors()
    {
        var (model, backend, expected) = models.Get("tiny-splade");
        int[][] ids = expected.Texts.Take(5).Select(t => t.Ids).ToArray();
        // 9 tokens per chunk: several chunks, and sequences longer than a chunk run alone.
        using CudaForwardBackend small = CudaBackendProvider.CreateCpu(model, logitsBudget: 9L * model.Config.VocabSize);
        SparseVector[] a = backend.ForwardPooled(Batch(model, ids)), b = small.ForwardPooled(Batch(model, ids));
        for (int i = 0; i < ids.Length; i++) AssertClose(a[i], b[i], $"text {i}");
    }

    [Fact]
    public void Empty_sequences_and_a_one_token_sequence_give_what_the_cpu_gives()
    {
        var (model, backend, _) = models.Get("tiny-splade");
        int[][] ids = [[101, 2054, 102], [], [101], [101, 7592, 2088, 2003, 102]];
        SparseVector[] cpu = model.Forward(ids), device = backend.ForwardPooled(Batch(model, ids));
        Assert.Equal(0, device[1].Count);
        for (int i = 0; i < ids.Length; i++) AssertClose(cpu[i], device[i], $"sequence {i}");
        Assert.All(backend.ForwardPooled(Batch(model, [[]])), v => Assert.Equal(0, v.Count));
    }

    [Fact]
    public void Encoder_with_device_ilgpu_cpu_equals_the_cpu_encoder()
    {
        string folder = TestData.Model("tiny-splade");
        var cpu = SparseEncoder.Load(folder, new SparseEncoderOptions { Threads = 2 });
        using var device = SparseEncoder.Load(folder, new SparseEncoderOptions { Threads = 2, Device = "ilgpu-cpu", MaxActiveDims = 20 });
        Assert.Equal("ilgpu-cpu", device.Device);
        Assert.Equal("cpu", cpu.Device);
        Assert.True(device.Model.Backend!.DeviceMemoryBytes > 0);
        string[] texts = ["where is oestrogen produced", "The ovaries produce estrogen, a hormone.", "a"];
        var a = cpu.EncodeDocuments(texts, maxActiveDims: 20);
        var b = device.EncodeDocuments(texts);
        for (int i = 0; i < texts.Length; i++) AssertClose(a[i], b[i], texts[i]);
        AssertClose(cpu.EncodeQuery("oestrogen", 20), device.EncodeQuery("oestrogen"), "query");
    }

    [Fact]
    public void A_disposed_backend_refuses_work()
    {
        var (model, _, _) = models.Get("tiny-splade");
        CudaForwardBackend backend = CudaBackendProvider.CreateCpu(model);
        backend.Dispose();
        backend.Dispose(); // twice is harmless
        Assert.Throws<ObjectDisposedException>(() => backend.ForwardPooled(Batch(model, [[101, 102]])));
    }

    private static TokenBatch Batch(SpladeModel model, int[][] ids) =>
        TokenBatch.FromSequences(ids, model.Config.VocabSize, model.Config.MaxPositionEmbeddings);

    internal static void AssertClose(SparseVector expected, SparseVector actual, string what)
    {
        Assert.True(expected.Indices.SequenceEqual(actual.Indices), $"{what}: non-zero sets differ ({expected.Count} vs {actual.Count})");
        float diff = SpladeModelFixtureTests.MaxAbsDiff(expected.Values, actual.Values);
        Assert.True(diff <= Tolerance, $"{what}: max abs diff {diff}");
    }
}

/// <summary>
/// fp16 GEMMs (weights and activations rounded to fp16, float32 accumulation) on the CPU accelerator against the
/// float32 CPU path: not equal, close. Measured on the texts of up to 40 tokens: max abs diff 1.8e-2 and 1.2e-2, min
/// cosine 0.99995 and 0.99997, min Jaccard of the non-zero sets 0.969 and 0.966; the bounds leave room above that.
/// </summary>
public sealed class IlgpuCpuFloat16Tests(Xunit.Abstractions.ITestOutputHelper output)
{
    [Theory]
    [InlineData("tiny-splade")]
    [InlineData("tiny-splade-variant")]
    public void Fp16_vectors_stay_close_to_float32(string name)
    {
        var model = SpladeModel.Load(TestData.Model(name), new SpladeModelOptions { Threads = 2 });
        using CudaForwardBackend backend = CudaBackendProvider.CreateCpu(model, precision: EncodePrecision.Float16);
        Assert.Equal(EncodePrecision.Float16, backend.Precision);
        var expected = ExpectedOutputs.Load(Path.Combine(TestData.Dir, "models", name + ".expected.json"));
        int[][] ids = expected.Texts.Where(t => t.Ids.Length <= 40).Select(t => t.Ids).ToArray();
        SparseVector[] cpu = model.Forward(ids);
        SparseVector[] half = backend.ForwardPooled(TokenBatch.FromSequences(ids, model.Config.VocabSize, model.Config.MaxPositionEmbeddings));
        double worstCosine = 1, worstDiff = 0, worstJaccard = 1;
        for (int i = 0; i < ids.Length; i++)
        {
            float[] a = cpu[i].ToDense(), b = half[i].ToDense();
            worstDiff = Math.Max(worstDiff, a.Zip(b).Max(p => Math.Abs(p.First - p.Second)));
            worstCosine = Math.Min(worstCosine, cpu[i].Cosine(half[i]));
            var sa = cpu[i].Indices.ToArray().ToHashSet();
            var sb = half[i].Indices.ToArray().ToHashSet();
            worstJaccard = Math.Min(worstJaccard, sa.Count == 0 ? 1 : (double)sa.Intersect(sb).Count() / sa.Union(sb).Count());
        }
        output.WriteLine($"{name}: {ids.Length} texts, max abs diff {worstDiff:E2}, min cosine {worstCosine:F6}, min Jaccard of non-zero sets {worstJaccard:F4}");
        Assert.True(worstCosine >= 0.999, $"min cosine {worstCosine}");
        Assert.True(worstDiff <= 0.05, $"max abs diff {worstDiff}");
    }
}
