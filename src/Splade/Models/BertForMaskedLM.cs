using Splade.Tensors;

namespace Splade.Models;

/// <summary>BertForMaskedLM: <see cref="BertModel"/> under <c>bert</c> plus the <c>cls.predictions</c> head.</summary>
public sealed class BertForMaskedLM
{
    /// <summary>Loads the whole model from the root view of a checkpoint, with the matrix products in <paramref name="precision"/>.</summary>
    public BertForMaskedLM(WeightView root, BertConfig config, EncodePrecision precision = EncodePrecision.Float32)
    {
        Bert = new BertModel(root.Pp("bert"), config, precision == EncodePrecision.Int8);
        Head = new BertLMPredictionHead(root.Pp("cls.predictions"), config, Bert.Embeddings.WordEmbeddings, precision);
    }

    /// <summary>The encoder.</summary>
    public BertModel Bert { get; }
    /// <summary>The masked-LM head.</summary>
    public BertLMPredictionHead Head { get; }

    /// <summary>Whether a checkpoint carries an MLM head (its <c>cls.predictions.transform</c> tensors).</summary>
    public static bool HasHead(WeightView root) => root.Contains("cls.predictions.transform.dense.weight");

    /// <summary>
    /// Encoder, MLM transform and SPLADE pooling fused with the decoder: <c>ws.Pooled</c> [sequences, vocab]
    /// receives the pooled vector of each sequence, the [tokens × vocab] logits are never stored.
    /// </summary>
    public void ForwardPooled(TokenBatch batch, BertWorkspace ws, SpladePoolingConfig pooling, ComputePool pool)
    {
        ws.EnsureCapacity(batch, pooled: true);
        Bert.Forward(batch, ws, pool);
        Head.Transform(ws.Hidden, batch.TokenCount, ws.Context, pool);
        if (Head.Int8Decoder is { } int8 && pooling.Strategy == PoolingStrategy.Max)
            SpladePoolingInt8.PoolMax(ws.Context, batch, int8, pooling, ws.Pooled, pool);
        else
            SpladePooling.PoolFused(ws.Context, batch, Head.DecoderLazy, Head.ScreenedDecoder, pooling, ws.Pooled, pool);
    }

    /// <summary>Full logits [tokens, vocab] of <paramref name="batch"/> (unfused; for tests).</summary>
    public float[] Logits(TokenBatch batch, BertWorkspace ws, ComputePool pool)
    {
        ws.EnsureCapacity(batch, pooled: false);
        Bert.Forward(batch, ws, pool);
        Head.Transform(ws.Hidden, batch.TokenCount, ws.Context, pool);
        return Head.Logits(ws.Context, batch.TokenCount, pool);
    }
}
