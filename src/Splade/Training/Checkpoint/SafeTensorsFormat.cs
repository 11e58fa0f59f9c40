using System.Buffers.Binary;
using System.Text;
using System.Text.Json;

namespace Splade.Training.Checkpoint;

/// <summary>One tensor of a safetensors file as stored: dtype, shape and raw little-endian bytes.</summary>
internal sealed record SafeTensorEntry(string Name, string DType, int[] Shape, byte[] Raw)
{
    /// <summary>Number of elements (product of the shape; 1 for a scalar).</summary>
    public long ElementCount => Shape.Aggregate(1L, (a, b) => a * b);

    /// <summary>True for the floating dtypes the trainer can turn into float32 parameters.</summary>
    public bool IsFloat => DType is "F32" or "F16" or "BF16";
}

/// <summary>
/// Minimal safetensors reader/writer used by training: reads F32/F16/BF16 (other dtypes are kept raw so
/// they can be written back unchanged), writes F32. Format: u64 LE header length N, N bytes of JSON
/// <c>{name: {dtype, shape, data_offsets:[begin,end]}, "__metadata__": {...}}</c>, then the data block.
/// </summary>
internal static class SafeTensorsFormat
{
    /// <summary>Reads every tensor of <paramref name="path"/> and the string metadata.</summary>
    public static (Dictionary<string, SafeTensorEntry> Tensors, Dictionary<string, string> Metadata) Read(string path)
    {
        byte[] bytes;
        try { bytes = File.ReadAllBytes(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidDataException($"{path}: cannot read safetensors file: {e.Message}", e);
        }
        if (bytes.Length < 8) throw new InvalidDataException($"{path}: file of {bytes.Length} bytes is too short for a safetensors header.");
        ulong headerLen = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        if (headerLen > (ulong)(bytes.Length - 8))
            throw new InvalidDataException($"{path}: header length {headerLen} exceeds the file size {bytes.Length}.");
        int dataStart = 8 + (int)headerLen;
        var tensors = new Dictionary<string, SafeTensorEntry>(StringComparer.Ordinal);
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        using var doc = JsonDocument.Parse(bytes.AsMemory(8, (int)headerLen));
        foreach (var prop in doc.RootElement.EnumerateObject())
        {
            if (prop.Name == "__metadata__")
            {
                foreach (var m in prop.Value.EnumerateObject()) metadata[m.Name] = m.Value.ToString();
                continue;
            }
            string dtype = prop.Value.GetProperty("dtype").GetString() ?? "";
            int[] shape = prop.Value.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()).ToArray();
            var offs = prop.Value.GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt64()).ToArray();
            if (offs.Length != 2 || offs[0] < 0 || offs[1] < offs[0] || dataStart + offs[1] > bytes.Length)
                throw new InvalidDataException($"{path}: tensor '{prop.Name}' has data_offsets [{string.Join(",", offs)}] outside the data block of {bytes.Length - dataStart} bytes.");
            var entry = new SafeTensorEntry(prop.Name, dtype, shape, bytes.AsSpan(dataStart + (int)offs[0], (int)(offs[1] - offs[0])).ToArray());
            int width = ElementSize(dtype);
            if (width > 0 && entry.ElementCount * width != entry.Raw.Length)
                throw new InvalidDataException($"{path}: tensor '{prop.Name}' ({dtype}, shape [{string.Join(",", shape)}]) expects {entry.ElementCount * width} bytes, has {entry.Raw.Length}.");
            tensors[prop.Name] = entry;
        }
        return (tensors, metadata);
    }

    /// <summary>Converts an F32/F16/BF16 tensor to float32.</summary>
    public static float[] ToFloat32(SafeTensorEntry e)
    {
        var result = new float[e.ElementCount];
        var raw = e.Raw.AsSpan();
        switch (e.DType)
        {
            case "F32":
                for (int i = 0; i < result.Length; i++) result[i] = BinaryPrimitives.ReadSingleLittleEndian(raw.Slice(4 * i));
                break;
            case "F16":
                for (int i = 0; i < result.Length; i++) result[i] = (float)BinaryPrimitives.ReadHalfLittleEndian(raw.Slice(2 * i));
                break;
            case "BF16":
                // bfloat16 is the upper half of a float32.
                for (int i = 0; i < result.Length; i++)
                    result[i] = BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(raw.Slice(2 * i)) << 16);
                break;
            default:
                throw new InvalidDataException($"tensor '{e.Name}': dtype {e.DType} is not a floating type (expected F32, F16 or BF16).");
        }
        return result;
    }

    /// <summary>A float32 tensor to be written.</summary>
    public readonly record struct F32Tensor(string Name, int[] Shape, float[] Data);

    /// <summary>
    /// Writes <paramref name="tensors"/> as F32 plus any <paramref name="rawTensors"/> unchanged, sorted by name,
    /// with the header padded with spaces to a multiple of 8 bytes (as the reference writer does).
    /// </summary>
    public static void Write(string path, IEnumerable<F32Tensor> tensors, IReadOnlyDictionary<string, string>? metadata = null,
        IEnumerable<SafeTensorEntry>? rawTensors = null)
    {
        var items = new List<(string Name, string DType, int[] Shape, Func<Stream, long> WriteData, long Bytes)>();
        foreach (var t in tensors)
        {
            long expected = t.Shape.Aggregate(1L, (a, b) => a * b);
            if (expected != t.Data.Length)
                throw new ArgumentException($"tensor '{t.Name}': shape [{string.Join(",", t.Shape)}] holds {expected} values, data has {t.Data.Length}.");
            var data = t.Data;
            items.Add((t.Name, "F32", t.Shape, s => { s.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(data.AsSpan())); return data.Length * 4L; }, data.Length * 4L));
        }
        foreach (var r in rawTensors ?? [])
        {
            var raw = r.Raw;
            items.Add((r.Name, r.DType, r.Shape, s => { s.Write(raw); return raw.Length; }, raw.Length));
        }
        items.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("safetensors writing needs a little-endian machine.");

        using var headerStream = new MemoryStream();
        using (var w = new Utf8JsonWriter(headerStream))
        {
            w.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                w.WriteStartObject("__metadata__");
                foreach (var kv in metadata.OrderBy(k => k.Key, StringComparer.Ordinal)) w.WriteString(kv.Key, kv.Value);
                w.WriteEndObject();
            }
            long offset = 0;
            foreach (var it in items)
            {
                w.WriteStartObject(it.Name);
                w.WriteString("dtype", it.DType);
                w.WriteStartArray("shape");
                foreach (int d in it.Shape) w.WriteNumberValue(d);
                w.WriteEndArray();
                w.WriteStartArray("data_offsets");
                w.WriteNumberValue(offset);
                w.WriteNumberValue(offset + it.Bytes);
                w.WriteEndArray();
                w.WriteEndObject();
                offset += it.Bytes;
            }
            w.WriteEndObject();
        }
        var header = headerStream.ToArray().ToList();
        while (header.Count % 8 != 0) header.Add((byte)' ');

        string tmp = path + ".tmp";
        using (var fs = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
        {
            Span<byte> len = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(len, (ulong)header.Count);
            fs.Write(len);
            fs.Write(header.ToArray());
            foreach (var it in items) it.WriteData(fs);
        }
        File.Move(tmp, path, overwrite: true);
    }

    private static int ElementSize(string dtype) => dtype switch
    {
        "F64" or "I64" or "U64" => 8,
        "F32" or "I32" or "U32" => 4,
        "F16" or "BF16" or "I16" or "U16" => 2,
        "I8" or "U8" or "BOOL" => 1,
        _ => 0,
    };
}
