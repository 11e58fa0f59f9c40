using Splade.Cuda;
using Splade.Models;
using Splade.Tests.Models;

namespace Splade.Tests.Cuda;

/// <summary>
/// The tiny fixture checkpoints loaded once for the device tests: the CPU model and the ILGPU backend on the CPU
/// accelerator (compiling the kernels takes a few seconds, so it is shared by the tests of a class).
/// </summary>
public sealed class IlgpuCpuModels : IDisposable
{
    private readonly Dictionary<string, (SpladeModel Model, CudaForwardBackend Backend, ExpectedOutputs Expected)> _models = new();
    private readonly Lock _gate = new();

    internal (SpladeModel Model, CudaForwardBackend Backend, ExpectedOutputs Expected) Get(string name)
    {
        lock (_gate)
        {
            if (_models.TryGetValue(name, out var found)) return found;
            var model = SpladeModel.Load(TestData.Model(name), new SpladeModelOptions { Threads = 2 });
            var entry = (model, CudaBackendProvider.CreateCpu(model), ExpectedOutputs.Load(Path.Combine(TestData.Dir, "models", name + ".expected.json")));
            _models[name] = entry;
            return entry;
        }
    }

    public void Dispose()
    {
        foreach (var e in _models.Values) e.Backend.Dispose();
    }
}
