using ILGPU;
using ILGPU.Runtime;

namespace Splade.Cuda;

/// <summary>
/// Activation buffers on the device, grown when a larger batch arrives and reused otherwise. The decoder logits live
/// only here, one chunk of whole sequences at a time ([chunkTokens, vocab]); they are never copied to the host.
/// </summary>
internal sealed class DeviceWorkspace(Accelerator accelerator) : IDisposable
{
    private readonly Dictionary<string, MemoryBuffer> _buffers = new();

    /// <summary>Bytes currently allocated.</summary>
    public long Bytes { get; private set; }

    /// <summary>A buffer of at least <paramref name="length"/> elements named <paramref name="name"/> (contents undefined when grown).</summary>
    public ArrayView<T> Get<T>(string name, long length) where T : unmanaged
    {
        length = Math.Max(1, length);
        if (_buffers.TryGetValue(name, out MemoryBuffer? existing) && existing.Length >= length)
            return ((MemoryBuffer1D<T, Stride1D.Dense>)existing).View.SubView(0, length);
        if (existing is not null)
        {
            Bytes -= existing.LengthInBytes;
            existing.Dispose();
        }
        // Grow by at least a quarter so that slowly rising batch sizes do not reallocate every time.
        long size = existing is null ? length : Math.Max(length, existing.Length + existing.Length / 4);
        var buffer = accelerator.Allocate1D<T>(size);
        _buffers[name] = buffer;
        Bytes += buffer.LengthInBytes;
        return buffer.View.SubView(0, length);
    }

    /// <summary>Copies <paramref name="data"/> into the buffer <paramref name="name"/> and returns its view.</summary>
    public ArrayView<T> Upload<T>(string name, T[] data) where T : unmanaged
    {
        ArrayView<T> view = Get<T>(name, data.Length);
        if (data.Length > 0) view.SubView(0, data.Length).CopyFromCPU(data);
        return view;
    }

    public void Dispose()
    {
        foreach (MemoryBuffer b in _buffers.Values) b.Dispose();
        _buffers.Clear();
        Bytes = 0;
    }
}
