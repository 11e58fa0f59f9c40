using Splade.Tensors;

namespace Splade.Models;

/// <summary>
/// The masked-LM head (<c>cls.predictions</c>): t = LN(act(x·Wtᵀ + bt)); logits = t·Dᵀ + bias, where D is
/// <c>decoder.weight</c> when the checkpoint has one and otherwise the tied word embeddings.
/// </summary>
public sealed class BertLMPredictionHead
{
    private readonly BertConfig _config;
    private readonly PackedMatrix _transform;   // [h, h]
    private readonly float[] _lnWeight, _lnBias; // [h]

    /// <summary>Loads <c>transform.*</c>, <c>decoder.weight</c> (or uses <paramref name="wordEmbeddings"/>) and <c>bias</c> under <paramref name="vb"/>; a reduced <paramref name="precision"/> also prepares <see cref="Int8Decoder"/>.</summary>
    public BertLMPredictionHead(WeightView vb, BertConfig config, float[] wordEmbeddings, EncodePrecision precision = EncodePrecision.Float32)
    {
        _config = config;
        int h = config.HiddenSize, v = config.VocabSize;
        _transform = PackedMatrix.Pack(vb.Get("transform.dense.weight", h, h), h, h, vb.Get("transform.dense.bias", h));
        _lnWeight = vb.Get("transform.LayerNorm.weight", h);
        _lnBias = vb.Get("transform.LayerNorm.bias", h);
        float[]? decoder = vb.TryGet("decoder.weight", v, h);
        if (decoder is null && !config.TieWordEmbeddings)
            throw new ModelLoadException(vb.File.Path, $"tensor '{vb.Prefix}.decoder.weight' not found and tie_word_embeddings is false.");
        IsDecoderTied = decoder is null;
        float[] bias = vb.TryGet("bias", v) ?? vb.TryGet("decoder.bias", v)
            ?? throw new ModelLoadException(vb.File.Path, $"neither '{vb.Prefix}.bias' nor '{vb.Prefix}.decoder.bias' found (expected shape [{v}]).");
        float[] weight = decoder ?? wordEmbeddings;
        if (precision != EncodePrecision.Float32)
        {
            Int8Decoder = Int8Matrix.Quantize(weight, v, h, bias);
            _decoder = new Lazy<PackedMatrix>(() => PackedMatrix.Pack(weight, v, h, bias));
        }
        else if (QuantizedMatrix.IsSupported)
        {
            ScreenedDecoder = QuantizedMatrix.Pack(weight, v, h, bias);
            _decoder = new Lazy<PackedMatrix>(() => PackedMatrix.Pack(weight, v, h, bias));
        }
        else
        {
            PackedMatrix packed = PackedMatrix.Pack(weight, v, h, bias);
            _decoder = new Lazy<PackedMatrix>(packed);
        }
    }

    private readonly Lazy<PackedMatrix> _decoder;

    /// <summary>The packed decoder, not yet packed until first read.</summary>
    internal Lazy<PackedMatrix> DecoderLazy => _decoder;

    /// <summary>Whether the decoder reuses the word embeddings.</summary>
    public bool IsDecoderTied { get; }

    /// <summary>The packed decoder [vocab, hidden] with its bias (packed on first use where <see cref="ScreenedDecoder"/> serves max pooling).</summary>
    public PackedMatrix Decoder => _decoder.Value;

    /// <summary>The decoder prepared for the screened exact column max (null where AVX-512 BW is missing).</summary>
    public QuantizedMatrix? ScreenedDecoder { get; }

    /// <summary>The decoder in byte integers for reduced-precision max pooling (null in float32 mode).</summary>
    public Int8Matrix? Int8Decoder { get; }

    /// <summary>transform: <paramref name="output"/> [tokens, hidden] = LN(act(dense(<paramref name="hidden"/>))).</summary>
    public void Transform(ReadOnlySpan<float> hidden, int tokens, float[] output, ComputePool pool)
    {
        int h = _config.HiddenSize;
        Gemm.Linear(hidden, tokens, h, _transform, output, h, _config.Activation, pool);
        BertLayer.AddLayerNorm(output, null, output, tokens, h, _lnWeight, _lnBias, _config.LayerNormEps, pool);
    }

    /// <summary>Full logits [tokens, vocab] of transformed states (the unfused path, for tests and inspection).</summary>
    public float[] Logits(ReadOnlySpan<float> transformed, int tokens, ComputePool pool)
    {
        var logits = new float[(long)tokens * _config.VocabSize];
        Gemm.Linear(transformed, tokens, _config.HiddenSize, Decoder, logits, _config.VocabSize, pool);
        return logits;
    }
}
