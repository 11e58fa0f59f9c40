using ILGPU;
using ILGPU.Runtime.Cuda;

namespace Splade.Cuda;

/// <summary>
/// The GEMM through cuBLAS sgemm (float32 in and out, float32 accumulation; tensor-op math stays at cuBLAS's default,
/// so no TF32 rounding); fp16 products through <see cref="CuBlasGemmEx"/>. Row-major y = x·wᵀ is column-major yᵀ = w·xᵀ: gemm(T, N, cols, rows, k, w, k, x, k, y, cols).
/// </summary>
internal sealed class CuBlasGemm : IDeviceGemm
{
    private readonly CuBlas _blas;

    public CuBlasGemm(CudaAccelerator accelerator)
    {
        _blas = new CuBlas(accelerator) { PointerMode = CuBlasPointerMode.Host };
        _blas.Stream = (CudaStream)accelerator.DefaultStream;
    }

    public string Name => "cuBLAS (sgemm; GemmEx for fp16)";

    public void Linear(ArrayView<float> x, int rows, int k, ArrayView<float> w, int cols, ArrayView<float> y)
    {
        if (rows == 0) return;
        _blas.Gemm(CuBlasOperation.Transpose, CuBlasOperation.NonTranspose, cols, rows, k, 1f, w, k, x, k, 0f, y, cols);
    }

    public void LinearHalf(ArrayView<Half> x, int rows, int k, ArrayView<Half> w, int cols, ArrayView<float> y)
    {
        if (rows == 0) return;
        CuBlasGemmEx.Linear(_blas, x, rows, k, w, cols, y);
    }

    public void Dispose() => _blas.Dispose();
}
