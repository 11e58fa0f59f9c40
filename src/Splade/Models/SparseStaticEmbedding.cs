using Splade.Sparse;

namespace Splade.Models;

/// <summary>
/// The inference-free query encoder: one learned weight per vocabulary entry; a query's vector is
/// weight[id] for every distinct id it contains (counts do not matter). Queries for this module are
/// tokenized without special tokens.
/// </summary>
public sealed class SparseStaticEmbedding
{
    /// <summary>Wraps a weight vector [vocab].</summary>
    public SparseStaticEmbedding(float[] weight) => Weight = weight;

    /// <summary>Weights [vocab].</summary>
    public float[] Weight { get; }

    /// <summary>Loads <c>model.safetensors</c> (one float tensor <c>weight</c> of shape [vocab]) from <paramref name="directory"/>.</summary>
    public static SparseStaticEmbedding Load(string directory, int vocabSize)
    {
        using SafeTensorsFile file = SafeTensorsFile.Open(Path.Combine(directory, "model.safetensors"));
        return new SparseStaticEmbedding(new WeightView(file).Get("weight", vocabSize));
    }

    /// <summary>The vector of one id sequence (ids already validated).</summary>
    public SparseVector Encode(ReadOnlySpan<int> ids)
    {
        int[] distinct = ids.ToArray().Distinct().Where(id => Weight[id] != 0f).Order().ToArray();
        return new SparseVector(Weight.Length, distinct, distinct.Select(id => Weight[id]).ToArray());
    }
}
