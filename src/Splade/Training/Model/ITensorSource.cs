using System.Runtime.InteropServices;
using Splade.Models;
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

/// <summary>
/// Tensors of one safetensors file, read through the library's memory-mapped <see cref="SafeTensorsFile"/>
/// (F32, F16 or BF16 are widened to float32 on request). Dispose to unmap the file.
/// </summary>
public sealed class SafeTensorsTensorSource : ITensorSource, IDisposable
{
    private readonly SafeTensorsFile _file;

    /// <summary>Path of the file read.</summary>
    public string Path => _file.Path;

    /// <summary>String metadata of the file header.</summary>
    public IReadOnlyDictionary<string, string> Metadata => _file.Metadata;

    /// <summary>Opens and validates the file (header only; tensors are read on demand).</summary>
    /// <exception cref="ModelLoadException">The file is missing or not a valid safetensors file.</exception>
    public SafeTensorsTensorSource(string path) => _file = SafeTensorsFile.Open(path);

    /// <inheritdoc/>
    public IEnumerable<string> Names => _file.Tensors.Keys;

    /// <summary>Tensors that are not floating point (kept as stored, e.g. I64 position_ids), to be written back unchanged.</summary>
    internal IEnumerable<SafeTensorsFormat.RawTensor> NonFloatTensors =>
        _file.Tensors.Values.Where(t => t.DType == SafeTensorDType.I64)
            .Select(t => new SafeTensorsFormat.RawTensor(t.Name, "I64", t.Shape, MemoryMarshal.AsBytes(_file.ReadInt64(t.Name).AsSpan()).ToArray()))
            .ToList();

    /// <inheritdoc/>
    public bool TryGet(string name, out float[] data, out int[] shape)
    {
        if (_file.Tensors.TryGetValue(name, out var info) && info.DType is SafeTensorDType.F32 or SafeTensorDType.F16 or SafeTensorDType.BF16)
        {
            data = _file.ReadFloat32(name);
            shape = info.Shape;
            return true;
        }
        data = [];
        shape = [];
        return false;
    }

    /// <inheritdoc/>
    public void Dispose() => _file.Dispose();
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
