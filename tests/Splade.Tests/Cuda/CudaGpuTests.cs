using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;
using Splade.Cuda;
using Splade.Devices;
using Splade.Models;
using Splade.Sparse;
using Splade.Tensors;
using Splade.Tests.Models;
using Xunit.Abstractions;

namespace Splade.Tests.Cuda;

/// <summary>
/// On a machine with a CUDA GPU: the cuda backend against the CPU path and the fixtures, and cuBLAS against the plain
/// GEMM kernel on the same GPU. Without one these tests say why and return (they pass as skipped).
/// </summary>
public sealed class CudaGpuTests(ITestOutputHelper output)
{
    private CudaForwardBackend? OpenOrSkip(SpladeModel model)
    {
        try { return (CudaForwardBackend)new CudaBackendProvider().Create(model, "cuda:0", EncodePrecision.Float32); }
        catch (DeviceUnavailableException e)
        {
            output.WriteLine($"Skipped: {e.Message}");
            return null;
        }
    }

    [Theory]
    [InlineData("tiny-splade")]
    [InlineData("tiny-splade-variant")]
    public void Cuda_vectors_equal_the_cpu_path_and_the_fixture(string name)
    {
        var model = SpladeModel.Load(TestData.Model(name), new SpladeModelOptions { Threads = 2 });
        using CudaForwardBackend? backend = OpenOrSkip(model);
        if (backend is null) return;
        output.WriteLine(backend.Description);
        var expected = ExpectedOutputs.Load(Path.Combine(TestData.Dir, "models", name + ".expected.json"));
        int[][] ids = expected.Texts.Select(t => t.Ids).ToArray();
        SparseVector[] cpu = model.Forward(ids);
        SparseVector[] gpu = backend.ForwardPooled(TokenBatch.FromSequences(ids, model.Config.VocabSize, model.Config.MaxPositionEmbeddings));
        for (int i = 0; i < ids.Length; i++)
        {
            IlgpuCpuForwardTests.AssertClose(cpu[i], gpu[i], $"text {i}");
            Assert.Equal(expected.Texts[i].Indices, gpu[i].Indices.ToArray());
        }
        SparseVector single = backend.ForwardPooled(TokenBatch.FromSequences([ids[3]], model.Config.VocabSize, model.Config.MaxPositionEmbeddings))[0];
        IlgpuCpuForwardTests.AssertClose(gpu[3], single, "batch 1 vs batched");
    }

    [Theory]
    [InlineData(5, 7, 3)]
    [InlineData(37, 30522, 32)]
    [InlineData(129, 768, 256)]
    public void CuBlas_GemmEx_fp16_equals_the_plain_fp16_kernel(int rows, int cols, int depth)
    {
        var model = SpladeModel.Load(TestData.Model("tiny-splade"), new SpladeModelOptions { Threads = 1 });
        using CudaForwardBackend? backend = OpenOrSkip(model);
        if (backend is null) return;
        var accelerator = (CudaAccelerator)backend.Accelerator;
        var rng = new Random(2);
        var x = Enumerable.Range(0, rows * depth).Select(_ => (ILGPU.Half)((float)rng.NextDouble() - 0.5f)).ToArray();
        var w = Enumerable.Range(0, cols * depth).Select(_ => (ILGPU.Half)((float)rng.NextDouble() - 0.5f)).ToArray();
        using var xb = accelerator.Allocate1D(x);
        using var wb = accelerator.Allocate1D(w);
        using var y1 = accelerator.Allocate1D<float>(rows * cols);
        using var y2 = accelerator.Allocate1D<float>(rows * cols);
        using var blas = new CuBlasGemm(accelerator);
        blas.LinearHalf(xb.View, rows, depth, wb.View, cols, y1.View);
        new PlainGemm(new DeviceKernels(accelerator)).LinearHalf(xb.View, rows, depth, wb.View, cols, y2.View);
        float[] a = y1.GetAsArray1D(), b = y2.GetAsArray1D();
        for (int i = 0; i < a.Length; i++) Assert.True(Math.Abs(a[i] - b[i]) <= 1e-4f, $"[{i}] GemmEx {a[i]} vs plain {b[i]}");
    }

    [Fact]
    public void Cuda_fp16_vectors_stay_close_to_float32()
    {
        var model = SpladeModel.Load(TestData.Model("tiny-splade"), new SpladeModelOptions { Threads = 2 });
        CudaForwardBackend backend;
        try { backend = (CudaForwardBackend)new CudaBackendProvider().Create(model, "cuda:0", EncodePrecision.Float16); }
        catch (DeviceUnavailableException e) { output.WriteLine($"Skipped: {e.Message}"); return; }
        using (backend)
        {
            var expected = ExpectedOutputs.Load(Path.Combine(TestData.Dir, "models", "tiny-splade.expected.json"));
            int[][] ids = expected.Texts.Select(t => t.Ids).ToArray();
            SparseVector[] cpu = model.Forward(ids);
            SparseVector[] half = backend.ForwardPooled(TokenBatch.FromSequences(ids, model.Config.VocabSize, model.Config.MaxPositionEmbeddings));
            for (int i = 0; i < ids.Length; i++) Assert.True(cpu[i].Cosine(half[i]) >= 0.999, $"text {i}: cosine {cpu[i].Cosine(half[i])}");
        }
    }

    [Theory]
    [InlineData(1, 1, 1)]
    [InlineData(5, 7, 3)]
    [InlineData(37, 30522, 32)]
    [InlineData(129, 768, 256)]
    public void CuBlas_equals_the_plain_gemm_kernel(int rows, int cols, int depth)
    {
        var model = SpladeModel.Load(TestData.Model("tiny-splade"), new SpladeModelOptions { Threads = 1 });
        using CudaForwardBackend? backend = OpenOrSkip(model);
        if (backend is null) return;
        var accelerator = (CudaAccelerator)backend.Accelerator;
        var rng = new Random(1);
        float[] x = Enumerable.Range(0, rows * depth).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray();
        float[] w = Enumerable.Range(0, cols * depth).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray();
        var reference = new float[rows * cols];
        GemmReference.Linear(x, rows, depth, w, cols, default, reference);
        using var xb = accelerator.Allocate1D(x);
        using var wb = accelerator.Allocate1D(w);
        using var y1 = accelerator.Allocate1D<float>(rows * cols);
        using var y2 = accelerator.Allocate1D<float>(rows * cols);
        using var blas = new CuBlasGemm(accelerator);
        blas.Linear(xb.View, rows, depth, wb.View, cols, y1.View);
        new PlainGemm(new DeviceKernels(accelerator)).Linear(xb.View, rows, depth, wb.View, cols, y2.View);
        float[] a = y1.GetAsArray1D(), b = y2.GetAsArray1D();
        for (int i = 0; i < a.Length; i++)
        {
            Assert.True(Math.Abs(a[i] - reference[i]) <= 1e-4f, $"cuBLAS [{i}] {a[i]} vs {reference[i]}");
            Assert.True(Math.Abs(b[i] - reference[i]) <= 1e-4f, $"plain [{i}] {b[i]} vs {reference[i]}");
        }
    }
}
