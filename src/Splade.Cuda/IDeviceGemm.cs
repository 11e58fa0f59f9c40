using ILGPU;

namespace Splade.Cuda;

/// <summary>y [rows, cols] = x [rows, k] · wᵀ (w [cols, k], the nn.Linear layout), on the accelerator's stream.</summary>
internal interface IDeviceGemm : IDisposable
{
    /// <summary>Name for descriptions (cuBLAS or the plain kernel).</summary>
    string Name { get; }

    void Linear(ArrayView<float> x, int rows, int k, ArrayView<float> w, int cols, ArrayView<float> y);

    /// <summary>The same with x and w in fp16, accumulation and y in float32.</summary>
    void LinearHalf(ArrayView<Half> x, int rows, int k, ArrayView<Half> w, int cols, ArrayView<float> y);
}
