using System.Buffers.Binary;
using System.Text;
using System.Text.Json;

namespace Splade.Training.Checkpoint;

/// <summary>
/// safetensors writer used by training checkpoints (reading goes through <see cref="Splade.Models.SafeTensorsFile"/>):
/// writes F32 tensors plus tensors kept as raw bytes (e.g. I64 position_ids). Format: u64 LE header length N,
/// N bytes of JSON <c>{name: {dtype, shape, data_offsets:[begin,end]}, "__metadata__": {...}}</c>, then the data block.
/// </summary>
internal static class SafeTensorsFormat
{
    /// <summary>A tensor written as stored: dtype name, shape and raw little-endian bytes.</summary>
    public sealed record RawTensor(string Name, string DType, int[] Shape, byte[] Raw);

    /// <summary>A float32 tensor to be written.</summary>
    public readonly record struct F32Tensor(string Name, int[] Shape, float[] Data);

    /// <summary>
    /// Writes <paramref name="tensors"/> as F32 plus any <paramref name="rawTensors"/> unchanged, sorted by name,
    /// with the header padded with spaces to a multiple of 8 bytes (as the reference writer does).
    /// </summary>
    public static void Write(string path, IEnumerable<F32Tensor> tensors, IReadOnlyDictionary<string, string>? metadata = null,
        IEnumerable<RawTensor>? rawTensors = null)
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

        // Temp file, fsync, rename: a failed or interrupted write (a full disk) never leaves a torn file at path.
        string tmp = path + ".tmp";
        try
        {
            using (var fs = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
            {
                var len = new byte[8];
                BinaryPrimitives.WriteUInt64LittleEndian(len, (ulong)header.Count);
                fs.Write(len);
                fs.Write(header.ToArray());
                foreach (var it in items) it.WriteData(fs);
                fs.Flush(flushToDisk: true);
            }
            File.Move(tmp, path, overwrite: true);
        }
        catch (IOException)
        {
            try { File.Delete(tmp); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            throw;
        }
    }
}
