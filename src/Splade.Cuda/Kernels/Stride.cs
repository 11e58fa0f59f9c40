using ILGPU;

namespace Splade.Cuda.Kernels;

/// <summary>Grid-stride loop bounds: the first element of this thread and the number of threads of the launch.</summary>
internal static class Stride
{
    public static int First => Grid.IdxX * Group.DimX + Group.IdxX;
    public static int Step => Grid.DimX * Group.DimX;
}
