using Half = ILGPU.Half;
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using Splade.Cuda;
using Splade.Models;
using Splade.Sparse;
using Splade.Tensors;

namespace Splade.Tests.Cuda;

/// <summary>An ILGPU CPU accelerator with the compiled kernels, shared by the kernel tests.</summary>
public sealed class IlgpuCpuKernels : IDisposable
{
    public IlgpuCpuKernels()
    {
        Context = CudaBackendProvider.CreateCpuContext();
        Accelerator = Context.GetCPUDevice(0).CreateCPUAccelerator(Context);
        Kernels = new DeviceKernels(Accelerator);
        Workspace = new DeviceWorkspace(Accelerator);
    }

    public Context Context { get; }
    public Accelerator Accelerator { get; }
    internal DeviceKernels Kernels { get; }
    internal DeviceWorkspace Workspace { get; }

    public void Dispose()
    {
        Workspace.Dispose();
        Accelerator.Dispose();
        Context.Dispose();
    }
}

/// <summary>
/// Every device kernel against a plain host twin (the double-precision references of the CPU kernels where there are
/// some) on awkward shapes: odd widths, a width below and above the group size, one-token and empty sequences.
/// </summary>
public sealed class KernelTwinTests(IlgpuCpuKernels k) : IClassFixture<IlgpuCpuKernels>
{
    private static float[] Random(int n, int seed, float scale = 1f)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 2 - 1) * scale).ToArray();
    }

    private ArrayView<float> Up(string name, float[] data) => k.Workspace.Upload(name, data);
    private ArrayView<int> Up(string name, int[] data) => k.Workspace.Upload(name, data);

    private static float[] Down(ArrayView<float> view, int n)
    {
        var host = new float[n];
        view.SubView(0, n).CopyToCPU(host);
        return host;
    }

    private static void AssertClose(float[] expected, float[] actual, float tolerance, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance * Math.Max(1, Math.Abs(expected[i])), $"{what}[{i}]: {expected[i]} vs {actual[i]}");
    }

    [Theory]
    [InlineData(1, 1, 1)]
    [InlineData(5, 7, 3)]
    [InlineData(9, 33, 17)]
    [InlineData(4, 30, 64)]
    public void Plain_gemm_equals_the_reference(int rows, int cols, int depth)
    {
        float[] x = Random(rows * depth, 1), w = Random(cols * depth, 2);
        var expected = new float[rows * cols];
        GemmReference.Linear(x, rows, depth, w, cols, default, expected);
        ArrayView<float> y = k.Workspace.Get<float>("y", rows * cols);
        new PlainGemm(k.Kernels).Linear(Up("x", x), rows, depth, Up("w", w), cols, y);
        AssertClose(expected, Down(y, rows * cols), 1e-5f, "y");
    }

    [Theory]
    [InlineData(1, 1, 1)]
    [InlineData(5, 7, 3)]
    [InlineData(9, 33, 17)]
    public void Fp16_gemm_equals_the_reference_on_fp16_rounded_inputs(int rows, int cols, int depth)
    {
        float[] x = Random(rows * depth, 21, 4f), w = Random(cols * depth, 22);
        ArrayView<float> xv = Up("x", x);
        ArrayView<Half> xh = k.Workspace.Get<Half>("xh", x.Length);
        k.Kernels.ToHalf(x.Length, xv, xh);
        var xhHost = new Half[x.Length];
        xh.SubView(0, x.Length).CopyToCPU(xhHost);
        for (int i = 0; i < x.Length; i++) Assert.Equal((float)(Half)x[i], (float)xhHost[i]);
        float[] xr = xhHost.Select(h => (float)h).ToArray(), wr = w.Select(v => (float)(Half)v).ToArray();
        var expected = new float[rows * cols];
        GemmReference.Linear(xr, rows, depth, wr, cols, default, expected);
        ArrayView<Half> wh = k.Workspace.Upload("wh", w.Select(v => (Half)v).ToArray());
        ArrayView<float> y = k.Workspace.Get<float>("y", rows * cols);
        new PlainGemm(k.Kernels).LinearHalf(xh, rows, depth, wh, cols, y);
        AssertClose(expected, Down(y, rows * cols), 1e-5f, "y");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    public void Bias_and_activation_equal_the_reference(int code)
    {
        const int Rows = 3, Cols = 37;
        float[] y = Random(Rows * Cols, 3, 6f), bias = Random(Cols, 4);
        float[] expected = y.Select((v, i) => v + bias[i % Cols]).ToArray();
        ActivationsReference.Apply((ElementTransform)code, expected);
        ArrayView<float> view = Up("y", y);
        k.Kernels.BiasActivation(Rows * Cols, view, Up("b", bias), Cols, code);
        AssertClose(expected, Down(view, Rows * Cols), 2e-6f, ((ElementTransform)code).ToString());
    }

    [Theory]
    [InlineData(7, 33, true)]
    [InlineData(7, 33, false)]
    [InlineData(1, 3, true)]
    [InlineData(2, 256, false)]
    public void LayerNorm_equals_the_reference(int rows, int cols, bool residual)
    {
        float[] x = Random(rows * cols, 5, 3f), r = Random(rows * cols, 6), gamma = Random(cols, 7), beta = Random(cols, 8);
        float[] input = residual ? x.Zip(r, (a, b) => a + b).ToArray() : x;
        var expected = new float[rows * cols];
        LayerNorm.Reference(input, rows, cols, gamma, beta, 1e-5f, expected);
        ArrayView<float> xv = Up("x", x), yv = k.Workspace.Get<float>("y", rows * cols);
        k.Kernels.RunLayerNorm(xv, residual ? Up("r", r) : null, yv, rows, cols, Up("g", gamma), Up("beta", beta), 1e-5f);
        AssertClose(expected, Down(yv, rows * cols), 1e-5f, "y");
        // In place, as the layers run it.
        k.Kernels.RunLayerNorm(xv, residual ? Up("r", r) : null, xv, rows, cols, Up("g", gamma), Up("beta", beta), 1e-5f);
        AssertClose(expected, Down(xv, rows * cols), 1e-5f, "in place");
    }

    [Theory]
    [InlineData(new[] { 1, 7, 0, 3 }, 3, 5)]
    [InlineData(new[] { 1 }, 1, 1)]
    [InlineData(new[] { 37, 2 }, 2, 8)]
    public void Attention_equals_the_reference_per_sequence(int[] lengths, int heads, int headDim)
    {
        int hidden = heads * headDim, ld = 3 * hidden, tokens = lengths.Sum(), maxLength = lengths.Max();
        float[] qkv = Random(Math.Max(1, tokens) * ld, 9, 2f);
        var starts = new int[lengths.Length];
        for (int s = 1; s < lengths.Length; s++) starts[s] = starts[s - 1] + lengths[s - 1];
        var tokenStart = new int[tokens];
        var tokenLength = new int[tokens];
        var expected = new float[tokens * hidden];
        for (int s = 0; s < lengths.Length; s++)
        {
            for (int p = 0; p < lengths[s]; p++) { tokenStart[starts[s] + p] = starts[s]; tokenLength[starts[s] + p] = lengths[s]; }
            if (lengths[s] == 0) continue;
            int o = starts[s] * ld;
            Attention.Reference(qkv.AsSpan(o), qkv.AsSpan(o + hidden), qkv.AsSpan(o + 2 * hidden), ld, lengths[s],
                Enumerable.Repeat(1, lengths[s]).ToArray(), heads, headDim, expected.AsSpan(starts[s] * hidden), hidden);
        }
        ArrayView<float> context = k.Workspace.Get<float>("context", tokens * hidden);
        k.Kernels.RunAttention(Up("qkv", qkv), context, Up("ts", tokenStart), Up("tl", tokenLength), tokens, heads, headDim, maxLength);
        AssertClose(expected, Down(context, tokens * hidden), 1e-5f, "context");
    }

    [Fact]
    public void Embeddings_sum_word_position_and_token_type_rows()
    {
        const int Hidden = 6, Vocab = 11, Positions = 5, Types = 2;
        float[] word = Random(Vocab * Hidden, 10), pos = Random(Positions * Hidden, 11), type = Random(Types * Hidden, 12);
        int[] ids = [3, 10, 0, 7], positions = [0, 1, 0, 4], types = [0, 1, 1, 0];
        var expected = new float[ids.Length * Hidden];
        for (int t = 0; t < ids.Length; t++)
            for (int c = 0; c < Hidden; c++)
                expected[t * Hidden + c] = word[ids[t] * Hidden + c] + pos[positions[t] * Hidden + c] + type[types[t] * Hidden + c];
        ArrayView<float> output = k.Workspace.Get<float>("out", expected.Length);
        k.Kernels.Embed(expected.Length, Up("ids", ids), Up("pos", positions), Up("types", types), Up("word", word), Up("p", pos), Up("t", type), output, Hidden);
        AssertClose(expected, Down(output, expected.Length), 0f, "embeddings");
    }

    [Theory]
    [InlineData(PoolingStrategy.Max, SpladeActivation.Relu)]
    [InlineData(PoolingStrategy.Max, SpladeActivation.Log1pRelu)]
    [InlineData(PoolingStrategy.Sum, SpladeActivation.Relu)]
    [InlineData(PoolingStrategy.Sum, SpladeActivation.Log1pRelu)]
    public void Pooling_of_a_chunk_equals_the_reference(PoolingStrategy strategy, SpladeActivation activation)
    {
        const int Vocab = 37;
        int[] lengths = [3, 1, 0, 5];
        int tokens = lengths.Sum();
        var starts = new int[lengths.Length];
        for (int s = 1; s < lengths.Length; s++) starts[s] = starts[s - 1] + lengths[s - 1];
        float[] logits = Random(tokens * Vocab, 13, 3f), bias = Random(Vocab, 14);
        var config = new SpladePoolingConfig(strategy, activation, null);
        var expected = new float[lengths.Length * Vocab];
        for (int s = 0; s < lengths.Length; s++)
        {
            float[] seq = new float[lengths[s] * Vocab];
            for (int i = 0; i < seq.Length; i++) seq[i] = logits[starts[s] * Vocab + i] + bias[i % Vocab];
            SpladePooling.Reference(seq, lengths[s], Vocab, config).CopyTo(expected, s * Vocab);
        }
        ArrayView<float> pooled = k.Workspace.Get<float>("pooled", expected.Length);
        // Two chunks: sequences 0..1 (tokens 0..3), then 2..3 (tokens 4..8), as the decoder loop runs them.
        ArrayView<float> all = Up("logits", logits);
        int isMax = strategy == PoolingStrategy.Max ? 1 : 0, code = (int)config.Transform;
        k.Kernels.Pool(2 * Vocab, all, Up("bias", bias), Up("ss", starts), Up("sl", lengths), pooled, Vocab, 0, 0, isMax, code);
        k.Kernels.Pool(2 * Vocab, all.SubView(4 * Vocab), Up("bias", bias), Up("ss", starts), Up("sl", lengths), pooled, Vocab, 2, 4, isMax, code);
        AssertClose(expected, Down(pooled, expected.Length), 1e-5f, "pooled");
    }

    [Theory]
    [InlineData(3, 600)]
    [InlineData(1, 256)]
    [InlineData(2, 5)]
    public void Compaction_keeps_exactly_the_non_zeros_in_order(int rows, int vocab)
    {
        var rng = new Random(15);
        float[] dense = Enumerable.Range(0, rows * vocab).Select(_ => rng.NextDouble() < 0.1 ? (float)rng.NextDouble() + 0.01f : 0f).ToArray();
        if (rows > 1) Array.Clear(dense, vocab, vocab); // an all-zero row
        SparseVector[] vectors = PooledCompaction.Run(k.Kernels, k.Workspace, Up("dense", dense), rows, vocab);
        for (int r = 0; r < rows; r++) Assert.Equal(SparseVector.FromDense(dense.AsSpan(r * vocab, vocab)), vectors[r]);
    }
}
