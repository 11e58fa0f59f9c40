using ILGPU;
using ILGPU.Runtime;
using Splade.Cuda.Kernels;

namespace Splade.Cuda;

/// <summary>The kernels of the forward, compiled once per accelerator.</summary>
internal sealed class DeviceKernels
{
    public DeviceKernels(Accelerator a)
    {
        // One warp per group on a GPU; the CPU accelerator runs one OS thread per group thread, so it gets small groups.
        GroupSize = Math.Min(GroupReduce.MaxGroupSize, a.MaxNumThreadsPerGroup);
        if (GroupSize < 1 || (GroupSize & (GroupSize - 1)) != 0) GroupSize = 1;
        _strideGroup = a.AcceleratorType == AcceleratorType.CPU ? GroupSize : 256;
        _strideGroups = a.AcceleratorType == AcceleratorType.CPU ? 2 * a.NumMultiprocessors : 0;
        var embed = a.LoadStreamKernel<int, ArrayView<int>, ArrayView<int>, ArrayView<int>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int>(ElementKernels.Embed);
        Embed = (n, ids, pos, types, w, p, t, o, h) => { if (n > 0) embed(Stride(n), n, ids, pos, types, w, p, t, o, h); };
        var bias = a.LoadStreamKernel<int, ArrayView<float>, ArrayView<float>, int, int>(ElementKernels.BiasActivation);
        BiasActivation = (n, y, b, cols, code) => { if (n > 0) bias(Stride(n), n, y, b, cols, code); };
        LayerNorm = a.LoadStreamKernel<ArrayView<float>, ArrayView<float>, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, float>(LayerNormKernel.Forward);
        Attention = a.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<int>, ArrayView<int>, int, int, float>(AttentionKernel.Forward);
        var pool = a.LoadStreamKernel<int, ArrayView<float>, ArrayView<float>, ArrayView<int>, ArrayView<int>, ArrayView<float>, int, int, int, int, int>(PoolingKernels.Pool);
        Pool = (n, l, b, ss, sl, p, v, f, c, m, code) => { if (n > 0) pool(Stride(n), n, l, b, ss, sl, p, v, f, c, m, code); };
        var count = a.LoadStreamKernel<int, ArrayView<float>, ArrayView<int>, int, int>(PoolingKernels.CountNonZero);
        CountNonZero = (n, p, c, v, b) => { if (n > 0) count(Stride(n), n, p, c, v, b); };
        var compact = a.LoadStreamKernel<int, ArrayView<float>, ArrayView<int>, ArrayView<int>, ArrayView<float>, int, int>(PoolingKernels.Compact);
        Compact = (n, p, o, i, v, voc, b) => { if (n > 0) compact(Stride(n), n, p, o, i, v, voc, b); };
        var toHalf = a.LoadStreamKernel<int, ArrayView<float>, ArrayView<Half>>(HalfKernels.ToHalf);
        ToHalf = (n, src, dst) => { if (n > 0) toHalf(Stride(n), n, src, dst); };
        var gemmHalf = a.LoadStreamKernel<int, ArrayView<Half>, ArrayView<Half>, ArrayView<float>, int, int, int>(HalfKernels.Gemm);
        GemmHalf = (x, rows, k, w, cols, y) =>
        {
            int n = GemmKernel.Tiles(rows, cols);
            if (n > 0) gemmHalf(Stride(n), n, x, w, y, rows, cols, k);
        };
        var gemm = a.LoadStreamKernel<int, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int>(GemmKernel.Linear);
        Gemm = (x, rows, k, w, cols, y) =>
        {
            int n = GemmKernel.Tiles(rows, cols);
            if (n > 0) gemm(Stride(n), n, x, w, y, rows, cols, k);
        };
    }

    private readonly int _strideGroup, _strideGroups;

    /// <summary>
    /// Launch of a grid-stride kernel over n elements: on a GPU one thread per element in groups of 256 (up to 2¹⁶
    /// groups, the rest by striding); on the CPU accelerator two groups per multiprocessor, each thread striding.
    /// </summary>
    public KernelConfig Stride(long n)
    {
        int groups = _strideGroups > 0 ? _strideGroups : (int)Math.Clamp((n + _strideGroup - 1) / _strideGroup, 1, 1 << 16);
        return new KernelConfig(groups, _strideGroup);
    }

    /// <summary>Threads per group of the LayerNorm and attention kernels (a power of two).</summary>
    public int GroupSize { get; }

    public Action<int, ArrayView<int>, ArrayView<int>, ArrayView<int>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int> Embed { get; }
    public Action<int, ArrayView<float>, ArrayView<float>, int, int> BiasActivation { get; }
    public Action<KernelConfig, ArrayView<float>, ArrayView<float>, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, float> LayerNorm { get; }
    public Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<int>, ArrayView<int>, int, int, float> Attention { get; }
    public Action<int, ArrayView<float>, ArrayView<float>, ArrayView<int>, ArrayView<int>, ArrayView<float>, int, int, int, int, int> Pool { get; }
    public Action<int, ArrayView<float>, ArrayView<int>, int, int> CountNonZero { get; }
    public Action<int, ArrayView<float>, ArrayView<int>, ArrayView<int>, ArrayView<float>, int, int> Compact { get; }
    /// <summary>The plain GEMM kernel: y [rows, cols] = x [rows, k]·wᵀ (w [cols, k]); arguments x, rows, k, w, cols, y.</summary>
    public Action<ArrayView<float>, int, int, ArrayView<float>, int, ArrayView<float>> Gemm { get; }
    /// <summary>dst = fp16(src), n elements.</summary>
    public Action<int, ArrayView<float>, ArrayView<Half>> ToHalf { get; }
    /// <summary>The plain fp16 GEMM kernel (float32 accumulation): x, rows, k, w, cols, y.</summary>
    public Action<ArrayView<Half>, int, int, ArrayView<Half>, int, ArrayView<float>> GemmHalf { get; }

    /// <summary>y = LayerNorm(x + residual) on rows [0, rows) (residual null: LayerNorm(x)).</summary>
    public void RunLayerNorm(ArrayView<float> x, ArrayView<float>? residual, ArrayView<float> y, int rows, int cols,
        ArrayView<float> gamma, ArrayView<float> beta, float eps)
    {
        if (rows == 0) return;
        LayerNorm(new KernelConfig(rows, GroupSize), x, residual ?? x, residual is null ? 0 : 1, y, gamma, beta, cols, eps);
    }

    /// <summary>Attention of every (token, head); maxLength sizes the dynamic shared score row.</summary>
    public void RunAttention(ArrayView<float> qkv, ArrayView<float> context, ArrayView<int> tokenStart, ArrayView<int> tokenLength,
        int tokens, int heads, int headDim, int maxLength)
    {
        if (tokens == 0) return;
        var config = new KernelConfig(new Index1D(tokens * heads), new Index1D(GroupSize), SharedMemoryConfig.RequestDynamic<float>(maxLength));
        Attention(config, qkv, context, tokenStart, tokenLength, heads, headDim, 1f / MathF.Sqrt(headDim));
    }
}
