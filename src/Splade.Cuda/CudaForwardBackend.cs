using ILGPU;
using ILGPU.Runtime;
using Splade.Cuda.Kernels;
using Splade.Devices;
using Splade.Models;
using Splade.Sparse;

namespace Splade.Cuda;

/// <summary>
/// The document forward of a <see cref="SpladeModel"/> on an ILGPU accelerator: embeddings + LayerNorm, the encoder
/// layers (QKV GEMM, attention, output dense + residual + LayerNorm, intermediate GEMM + activation, output GEMM +
/// residual + LayerNorm), the MLM transform, the decoder GEMM in chunks of whole sequences with SPLADE pooling on
/// the device, and the compaction of the pooled rows: only their non-zeros come back to the host. float32
/// throughout, or (<see cref="EncodePrecision.Float16"/>) fp16 weights and activations in the GEMMs with float32
/// accumulation. Calls are serialised (one stream).
/// </summary>
internal sealed class CudaForwardBackend : IForwardBackend
{
    /// <summary>Decoder logits held at once on the device, in floats (256 MiB by default).</summary>
    internal const long DefaultLogitsBudget = 64L << 20;

    private readonly Context _context;
    private readonly Accelerator _accelerator;
    private readonly IDeviceGemm _gemm;
    private readonly DeviceKernels _kernels;
    private readonly DeviceWeights _weights;
    private readonly DeviceWorkspace _ws;
    private readonly BertConfig _config;
    private readonly SpladePoolingConfig _pooling;
    private readonly Lock _gate = new();
    private bool _disposed;

    internal CudaForwardBackend(string device, Context context, Accelerator accelerator, Func<DeviceKernels, IDeviceGemm> gemm, SpladeModel model, EncodePrecision precision = EncodePrecision.Float32, long logitsBudget = DefaultLogitsBudget)
    {
        Device = device;
        _context = context;
        _accelerator = accelerator;
        _config = model.Config;
        _pooling = model.Pooling ?? throw new InvalidOperationException($"{model.Folder.Path} has no SpladePooling.");
        if (!model.HasMlmHead) throw new InvalidOperationException($"{model.Folder.Path} has no masked-LM head.");
        _ = _config.Activation; // unsupported hidden_act was rejected at load
        if (precision is not (EncodePrecision.Float32 or EncodePrecision.Float16))
            throw new NotSupportedException($"Device {device} computes in {EncodePrecision.Float32} or {EncodePrecision.Float16}, not {precision}.");
        Precision = precision;
        LogitsBudget = Math.Max(logitsBudget, _config.VocabSize);
        _kernels = new DeviceKernels(accelerator);
        _gemm = gemm(_kernels);
        _weights = new DeviceWeights(accelerator, model, half: precision == EncodePrecision.Float16);
        _ws = new DeviceWorkspace(accelerator);
        Description = $"{accelerator.Name} ({accelerator.AcceleratorType}, {device}), GEMM: {_gemm.Name}, {(precision == EncodePrecision.Float16 ? "fp16 weights and activations, fp32 accumulation" : "float32")}";
    }

    /// <inheritdoc/>
    public string Device { get; }

    /// <inheritdoc/>
    public string Description { get; }

    /// <inheritdoc/>
    public EncodePrecision Precision { get; }

    /// <inheritdoc/>
    public long DeviceMemoryBytes => _weights.Bytes + _ws.Bytes;

    /// <summary>Floats of decoder logits per chunk (at least one sequence runs per chunk).</summary>
    internal long LogitsBudget { get; }

    /// <inheritdoc/>
    public SparseVector[] ForwardPooled(TokenBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return Run(batch);
        }
    }

    private SparseVector[] Run(TokenBatch batch)
    {
        int tokens = batch.TokenCount, sequences = batch.SequenceCount, vocab = _config.VocabSize;
        int h = _config.HiddenSize, inter = _config.IntermediateSize;
        float eps = _config.LayerNormEps;
        int act = (int)_config.Activation;
        if (sequences == 0) return [];
        if (tokens == 0) return Enumerable.Range(0, sequences).Select(_ => SparseVector.Empty(vocab)).ToArray();

        // Host side of the batch: per token its position, its sequence's first token and length.
        var positions = new int[tokens];
        var tokenStart = new int[tokens];
        var tokenLength = new int[tokens];
        for (int s = 0; s < sequences; s++)
            for (int p = 0; p < batch.Lengths[s]; p++)
            {
                int t = batch.Starts[s] + p;
                if ((uint)batch.TokenTypeIds[t] >= (uint)_config.TypeVocabSize)
                    throw new ArgumentOutOfRangeException(nameof(batch), batch.TokenTypeIds[t], $"Token type id {batch.TokenTypeIds[t]} is outside [0, {_config.TypeVocabSize}).");
                positions[t] = p;
                tokenStart[t] = batch.Starts[s];
                tokenLength[t] = batch.Lengths[s];
            }
        ArrayView<int> ids = _ws.Upload("ids", batch.InputIds);
        ArrayView<int> types = _ws.Upload("types", batch.TokenTypeIds);
        ArrayView<int> pos = _ws.Upload("positions", positions);
        ArrayView<int> tStart = _ws.Upload("tokenStart", tokenStart);
        ArrayView<int> tLength = _ws.Upload("tokenLength", tokenLength);
        ArrayView<int> seqStart = _ws.Upload("seqStart", batch.Starts);
        ArrayView<int> seqLength = _ws.Upload("seqLength", batch.Lengths);

        ArrayView<float> hidden = _ws.Get<float>("hidden", (long)tokens * h);        // [tokens, hidden]
        ArrayView<float> qkv = _ws.Get<float>("qkv", (long)tokens * 3 * h);          // [tokens, 3·hidden]
        ArrayView<float> context = _ws.Get<float>("context", (long)tokens * h);      // [tokens, hidden]
        ArrayView<float> attention = _ws.Get<float>("attention", (long)tokens * h);  // [tokens, hidden]
        ArrayView<float> ffn = _ws.Get<float>("intermediate", (long)tokens * inter); // [tokens, intermediate]
        ArrayView<float> pooled = _ws.Get<float>("pooled", (long)sequences * vocab); // [sequences, vocab]

        var w = _weights;
        _kernels.Embed(tokens * h, ids, pos, types, w.WordEmbeddings.View, w.PositionEmbeddings.View, w.TokenTypeEmbeddings.View, hidden, h);
        _kernels.RunLayerNorm(hidden, null, hidden, tokens, h, w.EmbeddingsLnWeight.View, w.EmbeddingsLnBias.View, eps);
        foreach (DeviceLayer l in w.Layers)
        {
            Linear(hidden, tokens, l.QkvWeight, l.QkvBias.View, qkv, DeviceMath.None);
            _kernels.RunAttention(qkv, context, tStart, tLength, tokens, _config.NumAttentionHeads, _config.HeadDim, batch.MaxLength);
            Linear(context, tokens, l.AttentionOutputWeight, l.AttentionOutputBias.View, attention, DeviceMath.None);
            _kernels.RunLayerNorm(attention, hidden, attention, tokens, h, l.AttentionLnWeight.View, l.AttentionLnBias.View, eps);
            Linear(attention, tokens, l.IntermediateWeight, l.IntermediateBias.View, ffn, act);
            Linear(ffn, tokens, l.OutputWeight, l.OutputBias.View, hidden, DeviceMath.None);
            _kernels.RunLayerNorm(hidden, attention, hidden, tokens, h, l.OutputLnWeight.View, l.OutputLnBias.View, eps);
        }
        Linear(hidden, tokens, w.TransformWeight, w.TransformBias.View, context, act);
        _kernels.RunLayerNorm(context, null, context, tokens, h, w.TransformLnWeight.View, w.TransformLnBias.View, eps);

        // Decoder in chunks of whole sequences: logits [chunkTokens, vocab] stay on the device, pooled per column.
        int isMax = _pooling.Strategy == PoolingStrategy.Max ? 1 : 0, code = (int)_pooling.Transform;
        int chunkTokens = (int)Math.Min(int.MaxValue, LogitsBudget / vocab);
        ArrayView<Half> contextHalf = default;
        if (w.DecoderWeight.F16 is not null)
        {
            contextHalf = _ws.Get<Half>("contextHalf", (long)tokens * h);
            _kernels.ToHalf(tokens * h, context, contextHalf);
        }
        for (int s0 = 0, s1; s0 < sequences; s0 = s1)
        {
            int first = batch.Starts[s0], count = 0;
            s1 = s0;
            while (s1 < sequences && (s1 == s0 || count + batch.Lengths[s1] <= chunkTokens)) count += batch.Lengths[s1++];
            ArrayView<float> logits = _ws.Get<float>("logits", (long)Math.Max(count, 1) * vocab); // [chunkTokens, vocab]
            if (w.DecoderWeight.F16 is { } d16)
                _gemm.LinearHalf(contextHalf.SubView((long)first * h, (long)count * h), count, h, d16.View, vocab, logits);
            else
                _gemm.Linear(context.SubView((long)first * h, (long)count * h), count, h, w.DecoderWeight.F32!.View, vocab, logits);
            _kernels.Pool((s1 - s0) * vocab, logits, w.DecoderBias.View, seqStart, seqLength, pooled, vocab, s0, first, isMax, code);
        }
        return PooledCompaction.Run(_kernels, _ws, pooled, sequences, vocab);
    }

    /// <summary>y [rows, w.Rows] = f(x·wᵀ + bias) for x [rows, w.Cols]; an fp16 weight takes x rounded to fp16.</summary>
    private void Linear(ArrayView<float> x, int rows, DeviceMatrix w, ArrayView<float> bias, ArrayView<float> y, int code)
    {
        int k = w.Cols, cols = w.Rows;
        if (w.F16 is { } w16)
        {
            ArrayView<Half> xh = _ws.Get<Half>("xHalf", (long)rows * k);
            _kernels.ToHalf(rows * k, x, xh);
            _gemm.LinearHalf(xh, rows, k, w16.View, cols, y);
        }
        else _gemm.Linear(x, rows, k, w.F32!.View, cols, y);
        _kernels.BiasActivation(rows * cols, y, bias, cols, code);
    }

    /// <summary>The accelerator (for tests of single kernels).</summary>
    internal Accelerator Accelerator => _accelerator;

    /// <inheritdoc/>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            _ws.Dispose();
            _weights.Dispose();
            _gemm.Dispose();
            _accelerator.Dispose();
            _context.Dispose();
        }
    }
}
