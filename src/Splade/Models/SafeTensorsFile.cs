using System.IO.MemoryMappedFiles;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace Splade.Models;

/// <summary>Element types of safetensors that can be read.</summary>
public enum SafeTensorDType
{
    /// <summary>IEEE binary32.</summary>
    F32,
    /// <summary>IEEE binary16.</summary>
    F16,
    /// <summary>bfloat16 (upper half of a binary32).</summary>
    BF16,
    /// <summary>Signed 64-bit integer.</summary>
    I64,
}

/// <summary>One tensor entry of a safetensors header.</summary>
/// <param name="Name">Tensor name.</param>
/// <param name="DType">Element type.</param>
/// <param name="Shape">Dimensions.</param>
/// <param name="Begin">Start byte, relative to the data area.</param>
/// <param name="End">End byte (exclusive), relative to the data area.</param>
public sealed record SafeTensorInfo(string Name, SafeTensorDType DType, int[] Shape, long Begin, long End)
{
    /// <summary>Product of the dimensions.</summary>
    public long ElementCount => Shape.Aggregate(1L, (a, d) => a * d);

    /// <summary>Shape written as [a, b].</summary>
    public string ShapeText => SafeTensorsFile.FormatShape(Shape);
}

/// <summary>
/// A memory-mapped safetensors file (8-byte little-endian header length N, N bytes of JSON, then the
/// raw data). The header is validated when opened: sane length, well-formed JSON, known dtypes, and
/// every tensor's byte range inside the data area, matching its shape, and not overlapping another.
/// </summary>
public sealed unsafe class SafeTensorsFile : IDisposable
{
    private const long MaxHeaderBytes = 100L * 1024 * 1024;
    private readonly MemoryMappedFile _map;
    private readonly MemoryMappedViewAccessor _view;
    private readonly byte* _base;
    private readonly long _dataStart;
    private readonly Dictionary<string, SafeTensorInfo> _tensors;

    private SafeTensorsFile(string path, MemoryMappedFile map, MemoryMappedViewAccessor view, byte* basePtr, long dataStart,
        Dictionary<string, SafeTensorInfo> tensors, IReadOnlyDictionary<string, string> metadata)
    {
        Path = path;
        _map = map;
        _view = view;
        _base = basePtr;
        _dataStart = dataStart;
        _tensors = tensors;
        Metadata = metadata;
    }

    /// <summary>Path of the file.</summary>
    public string Path { get; }

    /// <summary>Tensor entries by name.</summary>
    public IReadOnlyDictionary<string, SafeTensorInfo> Tensors => _tensors;

    /// <summary>The <c>__metadata__</c> strings.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>Opens and validates <paramref name="path"/>.</summary>
    /// <exception cref="ModelLoadException">The file is not a valid safetensors file.</exception>
    public static SafeTensorsFile Open(string path)
    {
        if (!File.Exists(path)) throw new ModelLoadException(path, "file not found.");
        // The length of the file's content: a Hub snapshot entry is a symlink to its blob, and FileInfo.Length
        // would give the length of the link itself.
        long length;
        using (var probe = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1)) length = probe.Length;
        if (length < 8) throw new ModelLoadException(path, $"file is {length} bytes, too short for the 8-byte header length.");
        var map = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
        MemoryMappedViewAccessor? view = null;
        try
        {
            view = map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
            byte* basePtr = null;
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref basePtr);
            basePtr += view.PointerOffset;
            ulong headerLength = *(ulong*)basePtr;
            if (!BitConverter.IsLittleEndian) headerLength = System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(headerLength);
            if (headerLength > (ulong)MaxHeaderBytes || (long)headerLength > length - 8)
                throw new ModelLoadException(path, $"header length {headerLength} goes beyond the file ({length} bytes) or over {MaxHeaderBytes} bytes.");
            long dataStart = 8 + (long)headerLength;
            var header = new ReadOnlySpan<byte>(basePtr + 8, (int)headerLength);
            var (tensors, metadata) = ParseHeader(path, header, length - dataStart);
            return new SafeTensorsFile(path, map, view, basePtr, dataStart, tensors, metadata);
        }
        catch
        {
            if (view is not null)
            {
                view.SafeMemoryMappedViewHandle.ReleasePointer();
                view.Dispose();
            }
            map.Dispose();
            throw;
        }
    }

    private static (Dictionary<string, SafeTensorInfo>, Dictionary<string, string>) ParseHeader(string path, ReadOnlySpan<byte> header, long dataLength)
    {
        ModelJson.RequireUtf8(path, header);
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(header.ToArray());
        }
        catch (JsonException e)
        {
            throw new ModelLoadException(path, $"header is not well-formed JSON: {e.Message}", e);
        }
        ModelJson.RequireReadableStrings(path, header, doc);
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object) throw new ModelLoadException(path, "header JSON is not an object.");
            var tensors = new Dictionary<string, SafeTensorInfo>(StringComparer.Ordinal);
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (JsonProperty property in doc.RootElement.EnumerateObject())
            {
                if (property.Name == "__metadata__")
                {
                    if (property.Value.ValueKind == JsonValueKind.Object)
                        foreach (JsonProperty m in property.Value.EnumerateObject()) metadata[m.Name] = m.Value.ToString();
                    continue;
                }
                tensors[property.Name] = ParseEntry(path, property.Name, property.Value, dataLength);
            }
            SafeTensorInfo? previous = null;
            foreach (SafeTensorInfo info in tensors.Values.OrderBy(t => t.Begin).ThenBy(t => t.End))
            {
                if (previous is not null && info.Begin < previous.End && info.End > info.Begin)
                    throw new ModelLoadException(path, $"tensor '{info.Name}' bytes [{info.Begin}, {info.End}) overlap tensor '{previous.Name}' bytes [{previous.Begin}, {previous.End}).");
                if (info.End > info.Begin) previous = info;
            }
            return (tensors, metadata);
        }
    }

    private static SafeTensorInfo ParseEntry(string path, string name, JsonElement entry, long dataLength)
    {
        try
        {
            string dtypeText = entry.GetProperty("dtype").GetString() ?? "";
            SafeTensorDType dtype = dtypeText switch
            {
                "F32" => SafeTensorDType.F32,
                "F16" => SafeTensorDType.F16,
                "BF16" => SafeTensorDType.BF16,
                "I64" => SafeTensorDType.I64,
                _ => throw new ModelLoadException(path, $"tensor '{name}' has unsupported dtype '{dtypeText}' (F32, F16, BF16, I64 are read)."),
            };
            int[] shape = entry.GetProperty("shape").EnumerateArray().Select(d => d.GetInt32()).ToArray();
            if (shape.Any(d => d < 0)) throw new ModelLoadException(path, $"tensor '{name}' has a negative dimension in {FormatShape(shape)}.");
            long[] offsets = entry.GetProperty("data_offsets").EnumerateArray().Select(d => d.GetInt64()).ToArray();
            if (offsets.Length != 2) throw new ModelLoadException(path, $"tensor '{name}' data_offsets has {offsets.Length} values, expected 2.");
            long begin = offsets[0], end = offsets[1];
            if (begin < 0 || end < begin || end > dataLength)
                throw new ModelLoadException(path, $"tensor '{name}' data_offsets [{begin}, {end}] are outside the data area of {dataLength} bytes.");
            var info = new SafeTensorInfo(name, dtype, shape, begin, end);
            // Checked: a product past 2^63 would wrap (65536^4 wraps to 0) and "match" a short byte range.
            long expectedBytes;
            try { expectedBytes = checked(shape.Aggregate(1L, (a, d) => a * d) * ElementSize(dtype)); }
            catch (OverflowException)
            {
                throw new ModelLoadException(path, $"tensor '{name}' shape {FormatShape(shape)} of {dtypeText} has more bytes than a file can hold.");
            }
            if (end - begin != expectedBytes)
                throw new ModelLoadException(path, $"tensor '{name}' holds {end - begin} bytes but shape {FormatShape(shape)} of {dtypeText} needs {expectedBytes}.");
            return info;
        }
        catch (Exception e) when (e is KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new ModelLoadException(path, $"tensor '{name}' entry is malformed (needs dtype, shape, data_offsets): {e.Message}", e);
        }
    }

    /// <summary>Bytes per element of <paramref name="dtype"/>.</summary>
    public static int ElementSize(SafeTensorDType dtype) => dtype switch
    {
        SafeTensorDType.F32 => 4,
        SafeTensorDType.F16 => 2,
        SafeTensorDType.BF16 => 2,
        SafeTensorDType.I64 => 8,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype)),
    };

    /// <summary>Formats a shape as <c>[a, b]</c>.</summary>
    public static string FormatShape(IEnumerable<int> shape) => "[" + string.Join(", ", shape) + "]";

    /// <summary>Reads a floating-point tensor as float32 (F16 and BF16 are widened exactly).</summary>
    /// <exception cref="ModelLoadException">The tensor is absent or not a float type.</exception>
    public float[] ReadFloat32(string name)
    {
        SafeTensorInfo info = Get(name);
        var result = new float[info.ElementCount];
        byte* src = _base + _dataStart + info.Begin;
        switch (info.DType)
        {
            case SafeTensorDType.F32:
                new ReadOnlySpan<float>(src, result.Length).CopyTo(result);
                break;
            case SafeTensorDType.F16:
                HalfConversion.F16ToFloat32(new ReadOnlySpan<ushort>(src, result.Length), result);
                break;
            case SafeTensorDType.BF16:
                HalfConversion.BF16ToFloat32(new ReadOnlySpan<ushort>(src, result.Length), result);
                break;
            default:
                throw new ModelLoadException(Path, $"tensor '{name}' is {info.DType}, expected a float type (F32, F16, BF16).");
        }
        return result;
    }

    /// <summary>Reads an I64 tensor.</summary>
    public long[] ReadInt64(string name)
    {
        SafeTensorInfo info = Get(name);
        if (info.DType != SafeTensorDType.I64) throw new ModelLoadException(Path, $"tensor '{name}' is {info.DType}, expected I64.");
        return new ReadOnlySpan<long>(_base + _dataStart + info.Begin, (int)info.ElementCount).ToArray();
    }

    private SafeTensorInfo Get(string name) =>
        _tensors.TryGetValue(name, out SafeTensorInfo? info) ? info : throw new ModelLoadException(Path, $"tensor '{name}' not found.");

    /// <inheritdoc />
    public void Dispose()
    {
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _map.Dispose();
    }
}

/// <summary>Exact widening of half-precision formats to float32.</summary>
public static class HalfConversion
{
    /// <summary>IEEE binary16 bit patterns to float32 (subnormals, infinities and NaN preserved).</summary>
    public static void F16ToFloat32(ReadOnlySpan<ushort> bits, Span<float> destination) =>
        System.Numerics.Tensors.TensorPrimitives.ConvertToSingle(MemoryMarshal.Cast<ushort, Half>(bits), destination);

    /// <summary>bfloat16 bit patterns to float32: the 16 bits are the upper half of the float32.</summary>
    public static void BF16ToFloat32(ReadOnlySpan<ushort> bits, Span<float> destination)
    {
        if (destination.Length < bits.Length) throw new ArgumentException("Destination is too short.", nameof(destination));
        Span<uint> wide = MemoryMarshal.Cast<float, uint>(destination);
        for (int i = 0; i < bits.Length; i++) wide[i] = (uint)bits[i] << 16;
    }
}
