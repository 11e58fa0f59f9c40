using ILGPU;
using ILGPU.Runtime;
using Splade.Cuda.Kernels;
using Splade.Sparse;

namespace Splade.Cuda;

/// <summary>
/// Turns pooled rows [rows, vocab] on the device into sparse vectors, copying only their non-zeros (and one count per
/// block of 256 columns) to the host.
/// </summary>
internal static class PooledCompaction
{
    /// <summary>The non-zeros of the pooled rows: counts per block, a prefix sum on the host, then (index, value) pairs.</summary>
    public static SparseVector[] Run(DeviceKernels kernels, DeviceWorkspace ws, ArrayView<float> pooled, int rows, int vocab)
    {
        int blocks = (vocab + PoolingKernels.Block - 1) / PoolingKernels.Block;
        ArrayView<int> counts = ws.Get<int>("counts", (long)rows * blocks);
        kernels.CountNonZero(rows * blocks, pooled, counts, vocab, blocks);
        var hostCounts = new int[rows * blocks];
        counts.SubView(0, hostCounts.Length).CopyToCPU(hostCounts);
        var offsets = new int[hostCounts.Length];
        var rowStart = new int[rows + 1];
        int total = 0;
        for (int i = 0; i < hostCounts.Length; i++)
        {
            if (i % blocks == 0) rowStart[i / blocks] = total;
            offsets[i] = total;
            total += hostCounts[i];
        }
        rowStart[rows] = total;
        var result = new SparseVector[rows];
        if (total == 0)
        {
            for (int r = 0; r < rows; r++) result[r] = SparseVector.Empty(vocab);
            return result;
        }
        ArrayView<int> offsetView = ws.Upload("offsets", offsets);
        ArrayView<int> indices = ws.Get<int>("nzIndices", total);
        ArrayView<float> values = ws.Get<float>("nzValues", total);
        kernels.Compact(rows * blocks, pooled, offsetView, indices, values, vocab, blocks);
        var hostIndices = new int[total];
        var hostValues = new float[total];
        indices.SubView(0, total).CopyToCPU(hostIndices);
        values.SubView(0, total).CopyToCPU(hostValues);
        for (int r = 0; r < rows; r++)
        {
            int a = rowStart[r], n = rowStart[r + 1] - a;
            result[r] = new SparseVector(vocab, hostIndices.AsSpan(a, n), hostValues.AsSpan(a, n));
        }
        return result;
    }

}
