using ILGPU;
using ILGPU.Runtime;
using Splade.Models;

namespace Splade.Cuda;

/// <summary>The tensors of one encoder layer on the device (HF names; Q, K, V packed as one [3·hidden, hidden] matrix).</summary>
internal sealed record DeviceLayer(
    DeviceMatrix QkvWeight, MemoryBuffer1D<float, Stride1D.Dense> QkvBias,
    DeviceMatrix AttentionOutputWeight, MemoryBuffer1D<float, Stride1D.Dense> AttentionOutputBias,
    MemoryBuffer1D<float, Stride1D.Dense> AttentionLnWeight, MemoryBuffer1D<float, Stride1D.Dense> AttentionLnBias,
    DeviceMatrix IntermediateWeight, MemoryBuffer1D<float, Stride1D.Dense> IntermediateBias,
    DeviceMatrix OutputWeight, MemoryBuffer1D<float, Stride1D.Dense> OutputBias,
    MemoryBuffer1D<float, Stride1D.Dense> OutputLnWeight, MemoryBuffer1D<float, Stride1D.Dense> OutputLnBias);

/// <summary>
/// Every weight of BertForMaskedLM in float32 on the device, uploaded once from the checkpoint's model.safetensors
/// (read with the same names and checks as the CPU model; f16/bf16 files are widened to float32). With
/// <c>half</c>, the GEMM weights (Q/K/V, attention output, intermediate, output, MLM transform, decoder) are stored
/// in fp16 instead; biases, LayerNorm and the embedding tables stay float32.
/// </summary>
internal sealed class DeviceWeights : IDisposable
{
    private readonly List<MemoryBuffer> _buffers = new();

    public DeviceWeights(Accelerator accelerator, SpladeModel model, bool half)
    {
        BertConfig config = model.Config;
        int h = config.HiddenSize, inter = config.IntermediateSize, v = config.VocabSize;
        using SafeTensorsFile file = SafeTensorsFile.Open(Path.Combine(model.Folder.TransformerDirectory, "model.safetensors"));
        var root = new WeightView(file);
        MemoryBuffer1D<float, Stride1D.Dense> Up(float[] data)
        {
            var buffer = accelerator.Allocate1D(data);
            _buffers.Add(buffer);
            Bytes += data.LongLength * sizeof(float);
            return buffer;
        }
        DeviceMatrix Matrix(float[] data, int rows, int cols)
        {
            if (!half) return new DeviceMatrix(Up(data), null, rows, cols);
            var h16 = new Half[data.Length];
            for (int i = 0; i < data.Length; i++) h16[i] = (Half)data[i];
            var buffer = accelerator.Allocate1D(h16);
            _buffers.Add(buffer);
            Bytes += data.LongLength * 2;
            return new DeviceMatrix(null, buffer, rows, cols);
        }
        WeightView emb = root.Pp("bert.embeddings");
        float[] word = emb.Get("word_embeddings.weight", v, h);
        WordEmbeddings = Up(word);
        PositionEmbeddings = Up(emb.Get("position_embeddings.weight", config.MaxPositionEmbeddings, h));
        TokenTypeEmbeddings = Up(emb.Get("token_type_embeddings.weight", config.TypeVocabSize, h));
        EmbeddingsLnWeight = Up(emb.Get("LayerNorm.weight", h));
        EmbeddingsLnBias = Up(emb.Get("LayerNorm.bias", h));

        var layers = new DeviceLayer[config.NumHiddenLayers];
        for (int i = 0; i < layers.Length; i++)
        {
            WeightView l = root.Pp($"bert.encoder.layer.{i}");
            WeightView self = l.Pp("attention.self"), ao = l.Pp("attention.output");
            layers[i] = new DeviceLayer(
                Matrix([.. self.Get("query.weight", h, h), .. self.Get("key.weight", h, h), .. self.Get("value.weight", h, h)], 3 * h, h),
                Up([.. self.Get("query.bias", h), .. self.Get("key.bias", h), .. self.Get("value.bias", h)]),
                Matrix(ao.Get("dense.weight", h, h), h, h), Up(ao.Get("dense.bias", h)),
                Up(ao.Get("LayerNorm.weight", h)), Up(ao.Get("LayerNorm.bias", h)),
                Matrix(l.Get("intermediate.dense.weight", inter, h), inter, h), Up(l.Get("intermediate.dense.bias", inter)),
                Matrix(l.Get("output.dense.weight", h, inter), h, inter), Up(l.Get("output.dense.bias", h)),
                Up(l.Get("output.LayerNorm.weight", h)), Up(l.Get("output.LayerNorm.bias", h)));
        }
        Layers = layers;

        WeightView head = root.Pp("cls.predictions");
        TransformWeight = Matrix(head.Get("transform.dense.weight", h, h), h, h);
        TransformBias = Up(head.Get("transform.dense.bias", h));
        TransformLnWeight = Up(head.Get("transform.LayerNorm.weight", h));
        TransformLnBias = Up(head.Get("transform.LayerNorm.bias", h));
        float[]? decoder = head.TryGet("decoder.weight", v, h);
        if (decoder is null && !config.TieWordEmbeddings)
            throw new ModelLoadException(file.Path, "tensor 'cls.predictions.decoder.weight' not found and tie_word_embeddings is false.");
        DecoderWeight = decoder is null && !half ? new DeviceMatrix(WordEmbeddings, null, v, h) : Matrix(decoder ?? word, v, h);
        float[] bias = head.TryGet("bias", v) ?? head.TryGet("decoder.bias", v)
            ?? throw new ModelLoadException(file.Path, $"neither 'cls.predictions.bias' nor 'cls.predictions.decoder.bias' found (expected shape [{v}]).");
        DecoderBias = Up(bias);
    }

    /// <summary>Bytes uploaded.</summary>
    public long Bytes { get; private set; }

    public MemoryBuffer1D<float, Stride1D.Dense> WordEmbeddings { get; }          // [vocab, hidden]
    public MemoryBuffer1D<float, Stride1D.Dense> PositionEmbeddings { get; }      // [max_position_embeddings, hidden]
    public MemoryBuffer1D<float, Stride1D.Dense> TokenTypeEmbeddings { get; }     // [type_vocab_size, hidden]
    public MemoryBuffer1D<float, Stride1D.Dense> EmbeddingsLnWeight { get; }      // [hidden]
    public MemoryBuffer1D<float, Stride1D.Dense> EmbeddingsLnBias { get; }        // [hidden]
    public IReadOnlyList<DeviceLayer> Layers { get; }
    public DeviceMatrix TransformWeight { get; }                                  // [hidden, hidden]
    public MemoryBuffer1D<float, Stride1D.Dense> TransformBias { get; }           // [hidden]
    public MemoryBuffer1D<float, Stride1D.Dense> TransformLnWeight { get; }       // [hidden]
    public MemoryBuffer1D<float, Stride1D.Dense> TransformLnBias { get; }         // [hidden]
    public DeviceMatrix DecoderWeight { get; }                                    // [vocab, hidden] (the word embeddings when tied, in float32)
    public MemoryBuffer1D<float, Stride1D.Dense> DecoderBias { get; }             // [vocab]

    public void Dispose()
    {
        foreach (MemoryBuffer b in _buffers) b.Dispose();
        _buffers.Clear();
    }
}
