using Splade.Tensors;

namespace Splade.Models;

/// <summary>BertModel without pooler: embeddings followed by <c>num_hidden_layers</c> encoder layers.</summary>
public sealed class BertModel
{
    /// <summary>Loads <c>embeddings.*</c> and <c>encoder.layer.{i}.*</c> under <paramref name="vb"/> (usually the <c>bert</c> prefix); <paramref name="int8Linears"/> runs the layers' linear maps in byte integers.</summary>
    public BertModel(WeightView vb, BertConfig config, bool int8Linears = false)
    {
        Config = config;
        Embeddings = new BertEmbeddings(vb.Pp("embeddings"), config);
        WeightView encoder = vb.Pp("encoder");
        Layers = Enumerable.Range(0, config.NumHiddenLayers).Select(i => new BertLayer(encoder.Pp($"layer.{i}"), config, int8Linears)).ToArray();
    }

    /// <summary>The configuration the weights were checked against.</summary>
    public BertConfig Config { get; }
    /// <summary>The embedding block.</summary>
    public BertEmbeddings Embeddings { get; }
    /// <summary>The encoder layers in order.</summary>
    public IReadOnlyList<BertLayer> Layers { get; }

    /// <summary>
    /// Runs the encoder; the last hidden state is left in <c>ws.Hidden</c> [tokens, hidden].
    /// <paramref name="observer"/>, when given, sees the embeddings output (index 0) and each layer's output (1..n).
    /// </summary>
    public void Forward(TokenBatch batch, BertWorkspace ws, ComputePool pool, Action<int, ReadOnlySpan<float>>? observer = null)
    {
        int size = batch.TokenCount * Config.HiddenSize;
        Embeddings.Forward(batch, ws.Hidden.AsSpan(0, size));
        observer?.Invoke(0, ws.Hidden.AsSpan(0, size));
        for (int i = 0; i < Layers.Count; i++)
        {
            Layers[i].Forward(batch, ws, pool);
            observer?.Invoke(i + 1, ws.Hidden.AsSpan(0, size));
        }
    }
}
