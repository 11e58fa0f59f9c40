using ILGPU;

namespace Splade.Cuda.Kernels;

/// <summary>
/// Element-wise kernels: the embeddings sum and the bias + activation after a GEMM. Like every one-thread-per-element
/// kernel here they loop grid-stride (<see cref="Stride"/>): element e, e + threads, ... so that a launch of a few
/// groups covers any size (the CPU accelerator pays a synchronisation per group).
/// </summary>
internal static class ElementKernels
{
    /// <summary>
    /// output[t, c] = word[ids[t], c] + position[positions[t], c] + tokenType[types[t], c]; one thread per element of
    /// output [tokens, hidden]. LayerNorm follows as its own kernel.
    /// </summary>
    public static void Embed(int n, ArrayView<int> ids, ArrayView<int> positions, ArrayView<int> types,
        ArrayView<float> word, ArrayView<float> position, ArrayView<float> tokenType, ArrayView<float> output, int hidden)
    {
        for (int i = Stride.First; i < n; i += Stride.Step)
        {
            int t = i / hidden, c = i - t * hidden;
            output[i] = word[(long)ids[t] * hidden + c] + position[positions[t] * hidden + c] + tokenType[types[t] * hidden + c];
        }
    }

    /// <summary>y[r, c] = f(y[r, c] + bias[c]) on y [rows, cols]; one thread per element.</summary>
    public static void BiasActivation(int n, ArrayView<float> y, ArrayView<float> bias, int cols, int code)
    {
        for (int i = Stride.First; i < n; i += Stride.Step)
            y[i] = DeviceMath.Apply(code, y[i] + bias[i % cols]);
    }
}
