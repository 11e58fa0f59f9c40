using ILGPU;
using Splade.Cuda.Kernels;

namespace Splade.Cuda;

/// <summary>The GEMM as a plain ILGPU kernel (<see cref="GemmKernel"/>): used on ILGPU's CPU accelerator, and the twin of cuBLAS in tests.</summary>
internal sealed class PlainGemm(DeviceKernels kernels) : IDeviceGemm
{
    public string Name => "plain ILGPU GEMM";

    public void Linear(ArrayView<float> x, int rows, int k, ArrayView<float> w, int cols, ArrayView<float> y)
    {
        if (rows == 0) return;
        kernels.Gemm(x, rows, k, w, cols, y);
    }

    public void LinearHalf(ArrayView<Half> x, int rows, int k, ArrayView<Half> w, int cols, ArrayView<float> y)
    {
        if (rows == 0) return;
        kernels.GemmHalf(x, rows, k, w, cols, y);
    }

    public void Dispose() { }
}
