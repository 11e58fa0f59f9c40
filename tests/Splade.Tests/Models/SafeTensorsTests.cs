using System.Runtime.InteropServices;
using System.Text;
using Splade.Models;
using static Splade.Tests.Models.SafeTensorsBuilder;

namespace Splade.Tests.Models;

public sealed class SafeTensorsTests
{
    private static ModelLoadException OpenFails(TempFolder dir, byte[] bytes)
    {
        string path = dir.File("bad.safetensors");
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<ModelLoadException>(() => SafeTensorsFile.Open(path).Dispose());
        Assert.Contains("bad.safetensors", e.Message);
        return e;
    }

    [Fact]
    public void Reads_valid_file_with_metadata()
    {
        using var dir = new TempFolder();
        string path = dir.File("ok.safetensors");
        Write(path, F32("a", [2, 3], [1, 2, 3, 4, 5, 6]), new Entry("ids", "I64", [2], MemoryMarshal.AsBytes(new long[] { 7, -1 }.AsSpan()).ToArray()));
        using SafeTensorsFile file = SafeTensorsFile.Open(path);
        Assert.Equal("pt", file.Metadata["format"]);
        Assert.Equal(new[] { 2, 3 }, file.Tensors["a"].Shape);
        Assert.Equal(new float[] { 1, 2, 3, 4, 5, 6 }, file.ReadFloat32("a"));
        Assert.Equal(new long[] { 7, -1 }, file.ReadInt64("ids"));
        Assert.Throws<ModelLoadException>(() => file.ReadFloat32("ids"));
        Assert.Contains("'missing'", Assert.Throws<ModelLoadException>(() => file.ReadFloat32("missing")).Message);
    }

    [Fact]
    public void Truncated_file_is_rejected_naming_the_tensor()
    {
        using var dir = new TempFolder();
        byte[] full = Build(F32("first", [4], [1, 2, 3, 4]), F32("second", [4], [5, 6, 7, 8]));
        var e = OpenFails(dir, full[..^3]);
        Assert.Contains("'second'", e.Message);
        Assert.Contains("outside the data area", e.Message);
    }

    [Fact]
    public void Too_short_file_and_header_length_beyond_file_are_rejected()
    {
        using var dir = new TempFolder();
        Assert.Contains("too short", OpenFails(dir, [1, 2, 3]).Message);
        Assert.Contains("header length", OpenFails(dir, Assemble("{}", [], headerLengthOverride: 1000)).Message);
        Assert.Contains("header length", OpenFails(dir, Assemble("{}", [], headerLengthOverride: ulong.MaxValue)).Message);
    }

    [Fact]
    public void Malformed_json_is_rejected()
    {
        using var dir = new TempFolder();
        Assert.Contains("JSON", OpenFails(dir, Assemble("{\"a\": {\"dtype\": \"F32\",", new byte[8])).Message);
        Assert.Contains("malformed", OpenFails(dir, Assemble("{\"a\": {\"dtype\": \"F32\"}}", new byte[8])).Message);
    }

    [Fact]
    public void Offsets_out_of_range_overlapping_or_sized_wrong_are_rejected()
    {
        using var dir = new TempFolder();
        byte[] data = new byte[16];
        var outside = OpenFails(dir, Assemble("{\"t\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[8,24]}}", data));
        Assert.Contains("'t'", outside.Message);
        var reversed = OpenFails(dir, Assemble("{\"t\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,4]}}", data));
        Assert.Contains("'t'", reversed.Message);
        var overlap = OpenFails(dir, Assemble(
            "{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,12]},\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}", data));
        Assert.Contains("overlap", overlap.Message);
        Assert.Contains("'a'", overlap.Message);
        Assert.Contains("'b'", overlap.Message);
        var size = OpenFails(dir, Assemble("{\"t\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,16]}}", data));
        Assert.Contains("'t'", size.Message);
        Assert.Contains("[2, 3]", size.Message);
        Assert.Contains("16 bytes", size.Message);
        Assert.Contains("24", size.Message);
        var dtype = OpenFails(dir, Assemble("{\"t\":{\"dtype\":\"F64\",\"shape\":[2],\"data_offsets\":[0,16]}}", data));
        Assert.Contains("F64", dtype.Message);
    }

    [Fact]
    public void Wrong_shape_against_config_names_file_tensor_expected_and_actual()
    {
        using var dir = new TempFolder();
        string path = dir.File("model.safetensors");
        Write(path, F32("bert.embeddings.LayerNorm.weight", [16], new float[16]));
        using SafeTensorsFile file = SafeTensorsFile.Open(path);
        var e = Assert.Throws<ModelLoadException>(() => new WeightView(file).Pp("bert").Pp("embeddings").Get("LayerNorm.weight", 32));
        Assert.Contains(path, e.Message);
        Assert.Contains("bert.embeddings.LayerNorm.weight", e.Message);
        Assert.Contains("[16]", e.Message);
        Assert.Contains("[32]", e.Message);
    }

    [Fact]
    public void Model_with_shape_that_contradicts_config_fails_to_load()
    {
        using var dir = new TempFolder();
        string folder = dir.CopyModel("tiny-splade");
        string config = Path.Combine(folder, "config.json");
        File.WriteAllText(config, File.ReadAllText(config).Replace("\"intermediate_size\": 64", "\"intermediate_size\": 65"));
        var e = Assert.Throws<ModelLoadException>(() => SpladeModel.Load(folder));
        Assert.Contains("model.safetensors", e.Message);
        Assert.Contains("bert.encoder.layer.0.intermediate.dense.weight", e.Message);
        Assert.Contains("[64, 32]", e.Message);
        Assert.Contains("[65, 32]", e.Message);
    }

    [Fact]
    public void Legacy_names_are_accepted()
    {
        using var dir = new TempFolder();
        string path = dir.File("legacy.safetensors");
        Write(path,
            F32("embeddings.LayerNorm.gamma", [2], [1, 2]),
            F32("bert.embeddings.LayerNorm.beta", [2], [3, 4]),
            new Entry("bert.embeddings.position_ids", "I64", [1, 2], new byte[16]),
            F32("cls.predictions.decoder.bias", [3], [5, 6, 7]));
        using SafeTensorsFile file = SafeTensorsFile.Open(path);
        WeightView emb = new WeightView(file).Pp("bert.embeddings");
        Assert.Equal(new float[] { 1, 2 }, emb.Get("LayerNorm.weight", 2));
        Assert.Equal(new float[] { 3, 4 }, emb.Get("LayerNorm.bias", 2));
        Assert.False(emb.Contains("word_embeddings.weight"));
        Assert.Equal(new float[] { 5, 6, 7 }, new WeightView(file).Pp("cls.predictions").Get("decoder.bias", 3));
    }

    [Fact]
    public void F16_conversion_handles_subnormals_infinities_and_nan()
    {
        ushort[] bits = [0x0000, 0x8000, 0x0001, 0x03FF, 0x0400, 0x3C00, 0xC000, 0x7BFF, 0x7C00, 0xFC00, 0x7E00];
        var result = new float[bits.Length];
        HalfConversion.F16ToFloat32(bits, result);
        Assert.Equal(0f, result[0]);
        Assert.True(float.IsNegative(result[1]) && result[1] == 0f);
        Assert.Equal(MathF.Pow(2, -24), result[2]);
        Assert.Equal(1023 * MathF.Pow(2, -24), result[3]);
        Assert.Equal(MathF.Pow(2, -14), result[4]);
        Assert.Equal(1f, result[5]);
        Assert.Equal(-2f, result[6]);
        Assert.Equal(65504f, result[7]);
        Assert.Equal(float.PositiveInfinity, result[8]);
        Assert.Equal(float.NegativeInfinity, result[9]);
        Assert.True(float.IsNaN(result[10]));
    }

    [Fact]
    public void BF16_conversion_handles_subnormals_infinities_and_nan()
    {
        ushort[] bits = [0x0001, 0x3F80, 0xC040, 0x7F80, 0xFF80, 0x7FC0, 0x0080];
        var result = new float[bits.Length];
        HalfConversion.BF16ToFloat32(bits, result);
        Assert.Equal(BitConverter.UInt32BitsToSingle(0x00010000), result[0]);
        Assert.True(float.IsSubnormal(result[0]));
        Assert.Equal(1f, result[1]);
        Assert.Equal(-3f, result[2]);
        Assert.Equal(float.PositiveInfinity, result[3]);
        Assert.Equal(float.NegativeInfinity, result[4]);
        Assert.True(float.IsNaN(result[5]));
        Assert.Equal(MathF.Pow(2, -126), result[6]);
    }

    [Fact]
    public void F16_and_BF16_tensors_are_widened_on_read()
    {
        using var dir = new TempFolder();
        string path = dir.File("half.safetensors");
        byte[] f16 = MemoryMarshal.AsBytes(new ushort[] { 0x3C00, 0x0001, 0x7C00 }.AsSpan()).ToArray();
        byte[] bf16 = MemoryMarshal.AsBytes(new ushort[] { 0x3F80, 0xFF80 }.AsSpan()).ToArray();
        Write(path, new Entry("h", "F16", [3], f16), new Entry("b", "BF16", [2], bf16));
        using SafeTensorsFile file = SafeTensorsFile.Open(path);
        Assert.Equal(new[] { 1f, MathF.Pow(2, -24), float.PositiveInfinity }, file.ReadFloat32("h"));
        Assert.Equal(new[] { 1f, float.NegativeInfinity }, file.ReadFloat32("b"));
    }
}
