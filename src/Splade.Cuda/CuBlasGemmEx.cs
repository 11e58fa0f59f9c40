using System.Runtime.InteropServices;
using ILGPU;
using ILGPU.Runtime.Cuda;

namespace Splade.Cuda;

/// <summary>
/// cublasGemmEx for fp16 inputs with a float32 output and float32 accumulation (CUDA_R_16F × CUDA_R_16F → CUDA_R_32F,
/// CUBLAS_COMPUTE_32F), called on the handle of ILGPU.Algorithms' <see cref="CuBlas"/> (which binds only same-type
/// GEMMs). Host pointer mode: alpha and beta are host floats. CUDA 11 and 12 signature.
/// </summary>
internal static unsafe class CuBlasGemmEx
{
    private const int OpN = 0, OpT = 1, R32F = 0, R16F = 2, Compute32F = 68, GemmDefault = -1;

    private static readonly Lazy<nint> Function = new(() =>
    {
        foreach (string name in CudaProbe.CuBlasLibraries)
            if (NativeLibrary.TryLoad(name, out nint lib) && NativeLibrary.TryGetExport(lib, "cublasGemmEx", out nint f)) return f;
        throw new DllNotFoundException($"cublasGemmEx not found in {string.Join(" / ", CudaProbe.CuBlasLibraries)}.");
    });

    /// <summary>Whether the function could be resolved (loads the library on first call).</summary>
    public static void EnsureLoaded() => _ = Function.Value;

    /// <summary>Device address of the first element of <paramref name="view"/>.</summary>
    private static nint Ptr<T>(ArrayView<T> view) where T : unmanaged =>
        ((IArrayView)view).Buffer.NativePtr + (nint)((IContiguousArrayView)view).IndexInBytes;

    /// <summary>Row-major y [rows, cols] = x [rows, k] · wᵀ (w [cols, k]) as column-major yᵀ = w·xᵀ.</summary>
    public static void Linear(CuBlas blas, ArrayView<Half> x, int rows, int k, ArrayView<Half> w, int cols, ArrayView<float> y)
    {
        var gemm = (delegate* unmanaged<nint, int, int, int, int, int, float*, nint, int, int, nint, int, int, float*, nint, int, int, int, int, int>)Function.Value;
        float alpha = 1f, beta = 0f;
        int status = gemm(blas.Handle, OpT, OpN, cols, rows, k, &alpha, Ptr(w), R16F, k,
            Ptr(x), R16F, k, &beta, Ptr(y), R32F, cols, Compute32F, GemmDefault);
        if (status != 0) throw new InvalidOperationException($"cublasGemmEx failed with status {status} ({rows}x{k} · {cols}x{k}ᵀ).");
    }
}
