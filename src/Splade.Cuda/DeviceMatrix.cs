using ILGPU;
using ILGPU.Runtime;

namespace Splade.Cuda;

/// <summary>A GEMM weight [rows, cols] on the device (nn.Linear layout, rows = outputs), in float32 or in fp16.</summary>
internal sealed class DeviceMatrix(MemoryBuffer1D<float, Stride1D.Dense>? f32, MemoryBuffer1D<Half, Stride1D.Dense>? f16, int rows, int cols)
{
    public MemoryBuffer1D<float, Stride1D.Dense>? F32 { get; } = f32;
    public MemoryBuffer1D<Half, Stride1D.Dense>? F16 { get; } = f16;
    public int Rows { get; } = rows;
    public int Cols { get; } = cols;
}
