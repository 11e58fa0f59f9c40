namespace Splade.Training.Model;

/// <summary>A named float32 parameter with its gradient buffer (same length, accumulated by backward passes).</summary>
public sealed class TrainableTensor
{
    /// <summary>Canonical Hugging Face name (e.g. <c>bert.encoder.layer.0.attention.self.query.weight</c>).</summary>
    public string Name { get; }

    /// <summary>Name the tensor had in the checkpoint it was read from (e.g. an old <c>LayerNorm.gamma</c>); used when saving.</summary>
    public string SourceName { get; }

    /// <summary>Shape, PyTorch layout (Linear weights are [out, in]).</summary>
    public int[] Shape { get; }

    /// <summary>Values, row-major.</summary>
    public float[] Data { get; }

    /// <summary>Gradient of the loss with respect to <see cref="Data"/>.</summary>
    public float[] Grad { get; }

    /// <summary>Number of values.</summary>
    public int Length => Data.Length;

    /// <summary>Wraps <paramref name="data"/> (not copied).</summary>
    public TrainableTensor(string name, string sourceName, int[] shape, float[] data)
    {
        long n = shape.Aggregate(1L, (a, b) => a * b);
        if (n != data.Length) throw new ArgumentException($"tensor '{name}': shape [{string.Join(",", shape)}] holds {n} values, data has {data.Length}.");
        Name = name;
        SourceName = sourceName;
        Shape = shape;
        Data = data;
        Grad = new float[data.Length];
    }

    /// <summary>Sets the gradient to zero.</summary>
    public void ZeroGrad() => Array.Clear(Grad);

    /// <inheritdoc/>
    public override string ToString() => $"{Name} [{string.Join(",", Shape)}]";
}
