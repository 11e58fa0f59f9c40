using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Splade.Models;
using Splade.Tests.Models;

namespace Splade.Tests.Fuzz;

/// <summary>Mutated safetensors files open, or fail with a <see cref="ModelLoadException"/> naming the file.</summary>
public sealed class SafeTensorsFuzzTests : IDisposable
{
    private readonly TempFolder _dir = new();

    public void Dispose() => _dir.Dispose();

    private static readonly float[] Weights = [1f, -2.5f, 3.25f, 0f, float.Epsilon, -0f];
    private static readonly long[] Positions = [0, 1, long.MaxValue, -7];

    private static byte[] ValidFile() => SafeTensorsBuilder.Build(
        SafeTensorsBuilder.F32("bert.embeddings.word_embeddings.weight", [2, 3], Weights),
        new SafeTensorsBuilder.Entry("half", "F16", [3], MemoryMarshal.AsBytes(new Half[] { (Half)1.5f, (Half)(-2f), Half.MaxValue }.AsSpan()).ToArray()),
        new SafeTensorsBuilder.Entry("brain", "BF16", [1, 2], [0x80, 0x3F, 0x00, 0xC0]),
        new SafeTensorsBuilder.Entry("position_ids", "I64", [4], MemoryMarshal.AsBytes(Positions.AsSpan()).ToArray()),
        new SafeTensorsBuilder.Entry("empty", "F32", [0, 5], []));

    private static string? NamesFile(ModelLoadException e, string path) =>
        e.FilePath == path && e.Message.StartsWith(path, StringComparison.Ordinal) ? null : $"expected the file {path}";

    /// <summary>Opens <paramref name="bytes"/> and reads every tensor; returns whether the file was accepted.</summary>
    private bool OpenAndReadAll(byte[] bytes)
    {
        string path = _dir.File("model.safetensors");
        File.WriteAllBytes(path, bytes);
        return FuzzRunner.ParsesOrThrows<ModelLoadException>(() =>
        {
            using var file = SafeTensorsFile.Open(path);
            foreach (var (name, info) in file.Tensors)
            {
                if (info.Shape.Any(d => d < 0)) throw new FuzzAssertionException($"tensor {name} accepted with shape {info.ShapeText}");
                long bytesNeeded = checked(info.ElementCount * SafeTensorsFile.ElementSize(info.DType));
                if (info.End - info.Begin != bytesNeeded) throw new FuzzAssertionException($"tensor {name} holds {info.End - info.Begin} bytes for shape {info.ShapeText}");
                if (info.DType == SafeTensorDType.I64)
                {
                    if (file.ReadInt64(name).Length != info.ElementCount) throw new FuzzAssertionException($"tensor {name} read a wrong count");
                }
                else if (file.ReadFloat32(name).Length != info.ElementCount) throw new FuzzAssertionException($"tensor {name} read a wrong count");
            }
        }, e => NamesFile(e, path));
    }

    [Fact]
    public void Valid_file_round_trips()
    {
        string path = _dir.File("ok.safetensors");
        File.WriteAllBytes(path, ValidFile());
        using var file = SafeTensorsFile.Open(path);
        Assert.Equal(Weights, file.ReadFloat32("bert.embeddings.word_embeddings.weight"));
        Assert.Equal(new[] { 1.5f, -2f, 65504f }, file.ReadFloat32("half"));
        Assert.Equal(new[] { 1f, -2f }, file.ReadFloat32("brain"));
        Assert.Equal(Positions, file.ReadInt64("position_ids"));
        Assert.Empty(file.ReadFloat32("empty"));
        Assert.Equal("pt", file.Metadata["format"]);
    }

    [Fact]
    public void Every_truncation_fails_with_the_file_named()
    {
        byte[] valid = ValidFile();
        FuzzRunner.Run("safetensors truncation", 1, valid.Length, (_, i) => valid[..i], b => FuzzRunner.Show(b), bytes =>
        {
            if (OpenAndReadAll(bytes)) throw new FuzzAssertionException("a truncated file was accepted");
        });
    }

    [Fact]
    public void Mutated_bytes_open_or_fail_with_the_file_named()
    {
        byte[] valid = ValidFile();
        Assert.True(OpenAndReadAll(valid));
        FuzzRunner.Run("safetensors bytes", 11, FuzzRunner.Iterations(600), (r, _) => Mutate.Bytes(r, valid), m => m.What + " -> " + FuzzRunner.Show(m.Data),
            m => OpenAndReadAll(m.Data));
    }

    [Fact]
    public void Mutated_headers_open_or_fail_with_the_file_named()
    {
        byte[] valid = ValidFile();
        ulong headerLength = BitConverter.ToUInt64(valid, 0);
        string header = Encoding.UTF8.GetString(valid, 8, (int)headerLength);
        byte[] data = valid[(8 + (int)headerLength)..];
        FuzzRunner.Run("safetensors header", 12, FuzzRunner.Iterations(1500), (r, _) =>
        {
            Mutant m = Mutate.Json(r, header);
            // The length prefix is kept consistent so that the JSON and the offsets are what gets tested.
            var file = new byte[8 + m.Data.Length + data.Length];
            BitConverter.GetBytes((ulong)m.Data.Length).CopyTo(file, 0);
            m.Data.CopyTo(file, 8);
            data.CopyTo(file, 8 + m.Data.Length);
            return new Mutant(file, m.What);
        }, m => m.What + " -> " + FuzzRunner.Show(m.Data), m => OpenAndReadAll(m.Data));
    }

    [Fact]
    public void Shapes_whose_element_count_overflows_are_refused()
    {
        // 65536^4 = 2^64 wraps to 0 in 64-bit arithmetic: without a checked product, an empty byte range
        // would "match" this shape.
        string path = _dir.File("overflow.safetensors");
        string header = JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["w"] = new { dtype = "F32", shape = new[] { 65536, 65536, 65536, 65536 }, data_offsets = new[] { 0, 0 } },
        });
        File.WriteAllBytes(path, SafeTensorsBuilder.Assemble(header, []));
        var e = Assert.Throws<ModelLoadException>(() => SafeTensorsFile.Open(path));
        Assert.Equal(path, e.FilePath);
        Assert.Contains("'w'", e.Message);
        Assert.Contains("[65536, 65536, 65536, 65536]", e.Message);
    }
}
