using System.Numerics.Tensors;
using Splade.Tensors;

namespace Splade.Models;

/// <summary>BertEmbeddings: LayerNorm(word[id] + position[p] + token_type[type]).</summary>
public sealed class BertEmbeddings
{
    private readonly BertConfig _config;

    /// <summary>Loads <c>word_embeddings</c>, <c>position_embeddings</c>, <c>token_type_embeddings</c>, <c>LayerNorm</c> under <paramref name="vb"/>.</summary>
    public BertEmbeddings(WeightView vb, BertConfig config)
    {
        _config = config;
        int h = config.HiddenSize;
        WordEmbeddings = vb.Get("word_embeddings.weight", config.VocabSize, h);
        PositionEmbeddings = vb.Get("position_embeddings.weight", config.MaxPositionEmbeddings, h);
        TokenTypeEmbeddings = vb.Get("token_type_embeddings.weight", config.TypeVocabSize, h);
        LayerNormWeight = vb.Get("LayerNorm.weight", h);
        LayerNormBias = vb.Get("LayerNorm.bias", h);
    }

    /// <summary>[vocab, hidden].</summary>
    public float[] WordEmbeddings { get; }
    /// <summary>[max_position_embeddings, hidden].</summary>
    public float[] PositionEmbeddings { get; }
    /// <summary>[type_vocab_size, hidden].</summary>
    public float[] TokenTypeEmbeddings { get; }
    /// <summary>γ [hidden].</summary>
    public float[] LayerNormWeight { get; }
    /// <summary>β [hidden].</summary>
    public float[] LayerNormBias { get; }

    /// <summary>Writes the embeddings of every token of <paramref name="batch"/> into <paramref name="output"/> [tokens, hidden].</summary>
    public void Forward(TokenBatch batch, Span<float> output)
    {
        int h = _config.HiddenSize;
        for (int s = 0; s < batch.SequenceCount; s++)
        {
            for (int p = 0; p < batch.Lengths[s]; p++)
            {
                int t = batch.Starts[s] + p;
                int type = batch.TokenTypeIds[t];
                if ((uint)type >= (uint)_config.TypeVocabSize) throw new ArgumentOutOfRangeException(nameof(batch), type, $"Token type id {type} is outside [0, {_config.TypeVocabSize}).");
                Span<float> row = output.Slice(t * h, h);
                TensorPrimitives.Add(WordEmbeddings.AsSpan(batch.InputIds[t] * h, h), PositionEmbeddings.AsSpan(p * h, h), row);
                TensorPrimitives.Add(row, TokenTypeEmbeddings.AsSpan(type * h, h), row);
            }
        }
        LayerNorm.Forward(output, batch.TokenCount, h, LayerNormWeight, LayerNormBias, _config.LayerNormEps, output);
    }
}
