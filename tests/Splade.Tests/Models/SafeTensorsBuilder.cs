using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace Splade.Tests.Models;

/// <summary>Writes small safetensors files (valid or deliberately broken) for tests.</summary>
internal static class SafeTensorsBuilder
{
    public sealed record Entry(string Name, string DType, int[] Shape, byte[] Data);

    public static Entry F32(string name, int[] shape, float[] values) => new(name, "F32", shape, MemoryMarshal.AsBytes(values.AsSpan()).ToArray());

    /// <summary>Bytes of a valid file holding <paramref name="entries"/> back to back.</summary>
    public static byte[] Build(params Entry[] entries)
    {
        var header = new Dictionary<string, object> { ["__metadata__"] = new Dictionary<string, string> { ["format"] = "pt" } };
        long offset = 0;
        foreach (Entry e in entries)
        {
            header[e.Name] = new { dtype = e.DType, shape = e.Shape, data_offsets = new[] { offset, offset + e.Data.Length } };
            offset += e.Data.Length;
        }
        return Assemble(JsonSerializer.Serialize(header), entries.SelectMany(e => e.Data).ToArray());
    }

    /// <summary>Bytes of a file with the given header text and data area (no checks).</summary>
    public static byte[] Assemble(string headerJson, byte[] data, ulong? headerLengthOverride = null)
    {
        byte[] header = Encoding.UTF8.GetBytes(headerJson);
        var bytes = new byte[8 + header.Length + data.Length];
        BitConverter.GetBytes(headerLengthOverride ?? (ulong)header.Length).CopyTo(bytes, 0);
        header.CopyTo(bytes, 8);
        data.CopyTo(bytes, 8 + header.Length);
        return bytes;
    }

    public static void Write(string path, params Entry[] entries) => File.WriteAllBytes(path, Build(entries));
}

/// <summary>A temporary folder removed on dispose.</summary>
internal sealed class TempFolder : IDisposable
{
    public TempFolder()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "splade-model-tests-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    /// <summary>Copies a fixture model folder into this folder (optionally into a sub-folder).</summary>
    public string CopyModel(string modelName, string subFolder = "")
    {
        string source = TestData.Model(modelName), target = System.IO.Path.Combine(Path, subFolder);
        foreach (string file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            string dest = System.IO.Path.Combine(target, System.IO.Path.GetRelativePath(source, file));
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(dest)!);
            System.IO.File.Copy(file, dest);
        }
        return target;
    }

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
