using ILGPU;

namespace Splade.Cuda.Kernels;

/// <summary>
/// Tree reductions over one group (a power of two of at most <see cref="MaxGroupSize"/> threads) through a shared
/// buffer of <see cref="MaxGroupSize"/> floats; every thread gets the result.
/// </summary>
internal static class GroupReduce
{
    /// <summary>Largest group the kernels are launched with (one warp on NVIDIA GPUs).</summary>
    public const int MaxGroupSize = 32;

    public static float Sum(ArrayView<float> red, float value, int tid)
    {
        red[tid] = value;
        Group.Barrier();
        for (int s = Group.DimX / 2; s > 0; s >>= 1)
        {
            if (tid < s) red[tid] += red[tid + s];
            Group.Barrier();
        }
        float result = red[0];
        Group.Barrier();
        return result;
    }

    public static float Max(ArrayView<float> red, float value, int tid)
    {
        red[tid] = value;
        Group.Barrier();
        for (int s = Group.DimX / 2; s > 0; s >>= 1)
        {
            if (tid < s) red[tid] = ILGPU.Algorithms.XMath.Max(red[tid], red[tid + s]);
            Group.Barrier();
        }
        float result = red[0];
        Group.Barrier();
        return result;
    }
}
