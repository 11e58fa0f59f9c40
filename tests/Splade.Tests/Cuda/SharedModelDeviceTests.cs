using Splade.Cuda;
using Splade.Models;
using Splade.Sparse;
using Xunit.Abstractions;

namespace Splade.Tests.Cuda;

/// <summary>
/// The device forward on bert-mini-random-splade of the shared data (hidden 256, head width 64: wider than a group)
/// against the CPU path; skipped when the shared data is absent.
/// </summary>
public sealed class SharedModelDeviceTests(ITestOutputHelper output)
{
    [Fact]
    public void BertMini_on_ilgpu_cpu_equals_the_cpu_path()
    {
        if (TestData.SharedData is null)
        {
            output.WriteLine("Skipped: shared data folder not found (set SPLADE_SHARED_DATA).");
            return;
        }
        string folder = Path.Combine(TestData.SharedData, "models", "bert-mini-random-splade");
        var model = SpladeModel.Load(folder, new SpladeModelOptions { Threads = 2 });
        using CudaForwardBackend backend = CudaBackendProvider.CreateCpu(model);
        var expected = Models.ExpectedOutputs.Load(folder + ".expected.json");
        int[][] ids = expected.Texts.Where(t => t.Ids.Length <= 40).Take(4).Select(t => t.Ids).ToArray();
        SparseVector[] cpu = model.Forward(ids);
        SparseVector[] device = backend.ForwardPooled(TokenBatch.FromSequences(ids, model.Config.VocabSize, model.Config.MaxPositionEmbeddings));
        for (int i = 0; i < ids.Length; i++) IlgpuCpuForwardTests.AssertClose(cpu[i], device[i], $"text {i} ({ids[i].Length} tokens)");
    }
}
