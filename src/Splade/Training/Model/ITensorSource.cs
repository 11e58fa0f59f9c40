using Splade.Training.Checkpoint;

namespace Splade.Training.Model;

/// <summary>Where parameters come from: any store of named float tensors (a safetensors file, memory, ...).</summary>
public interface ITensorSource
{
    /// <summary>Names of every tensor available.</summary>
    IEnumerable<string> Names { get; }

    /// <summary>Returns the tensor converted to float32 with its shape, or false when absent.</summary>
    bool TryGet(string name, out float[] data, out int[] shape);
}

/// <summary>Tensors of one safetensors file (F32, F16 or BF16 are converted to float32).</summary>
public sealed class SafeTensorsTensorSource : ITensorSource
{
    private readonly Dictionary<string, SafeTensorEntry> _tensors;

    /// <summary>Path of the file read.</summary>
    public string Path { get; }

    /// <summary>String metadata of the file header.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>Reads the whole file.</summary>
    public SafeTensorsTensorSource(string path)
    {
        Path = path;
        (_tensors, var meta) = SafeTensorsFormat.Read(path);
        Metadata = meta;
    }

    /// <inheritdoc/>
    public IEnumerable<string> Names => _tensors.Keys;

    /// <summary>Tensors that are not floating point (kept as stored, e.g. I64 position_ids).</summary>
    internal IEnumerable<SafeTensorEntry> NonFloatTensors => _tensors.Values.Where(t => !t.IsFloat);

    /// <inheritdoc/>
    public bool TryGet(string name, out float[] data, out int[] shape)
    {
        if (_tensors.TryGetValue(name, out var e) && e.IsFloat)
        {
            data = SafeTensorsFormat.ToFloat32(e);
            shape = e.Shape;
            return true;
        }
        data = [];
        shape = [];
        return false;
    }
}

/// <summary>Tensors held in memory (tests, converted checkpoints).</summary>
public sealed class InMemoryTensorSource(IReadOnlyDictionary<string, (float[] Data, int[] Shape)> tensors) : ITensorSource
{
    /// <inheritdoc/>
    public IEnumerable<string> Names => tensors.Keys;

    /// <inheritdoc/>
    public bool TryGet(string name, out float[] data, out int[] shape)
    {
        if (tensors.TryGetValue(name, out var t)) { data = (float[])t.Data.Clone(); shape = t.Shape; return true; }
        data = []; shape = [];
        return false;
    }
}
