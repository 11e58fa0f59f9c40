using Splade.Models;
using Splade.Tests.Search;
using Xunit.Abstractions;

namespace Splade.Tests.Faults;

/// <summary>
/// A damaged model folder (model.safetensors, config.json, tokenizer.json flipped or truncated on disk):
/// loading fails with an error naming the file, or (for bytes that leave the file well-formed) loads and
/// encodes without crashing. Truncation is always caught: safetensors' header states every tensor's extent.
/// </summary>
public sealed class ModelFileCorruptionTests(ITestOutputHelper output) : IDisposable
{
    private readonly TempDirectory _dir = new("splade-model-damage");

    public void Dispose() => _dir.Dispose();

    private string CopyModel()
    {
        string src = TestData.Model("tiny-splade");
        foreach (string f in Directory.GetFiles(src, "*", SearchOption.AllDirectories))
        {
            string dst = Path.Combine(_dir.Path, Path.GetRelativePath(src, f));
            Directory.CreateDirectory(Path.GetDirectoryName(dst)!);
            File.Copy(f, dst, overwrite: true);
        }
        return _dir.Path;
    }

    [Theory]
    [InlineData("model.safetensors")]
    [InlineData("config.json")]
    [InlineData("tokenizer.json")]
    public void Damaged_model_files_fail_naming_the_file_or_load_safely(string file)
    {
        string folder = CopyModel();
        string path = Path.Combine(folder, file);
        byte[] original = File.ReadAllBytes(path);
        var damages = new List<(string What, byte[] Bytes, bool MustFail)>
        {
            ("emptied", [], true),
            ("truncated to half", original[..(original.Length / 2)], true),
            ("truncated by one byte", original[..^1], file == "model.safetensors"),
        };
        foreach (int at in new[] { 0, 3, 8, 9, 40, 100, original.Length / 2 })
        {
            var flipped = (byte[])original.Clone();
            flipped[at] ^= 0x5A;
            damages.Add(($"byte {at} flipped", flipped, false));
        }
        int failed = 0;
        foreach (var (what, bytes, mustFail) in damages)
        {
            File.WriteAllBytes(path, bytes);
            try
            {
                var encoder = SparseEncoder.Load(folder);
                var v = encoder.EncodeDocuments(["a damaged model must not crash"]);
                Assert.Single(v);
                Assert.False(mustFail, $"{file} {what} loaded");
            }
            catch (Exception e) when (e is ModelLoadException or InvalidDataException)
            {
                failed++;
                Assert.Contains(file, e.Message);
                if (failed <= 2) output.WriteLine($"{file} {what}: {e.GetType().Name}: {e.Message}");
            }
        }
        File.WriteAllBytes(path, original);
        Assert.NotNull(SparseEncoder.Load(folder));
        Assert.True(failed >= 3, $"only {failed} damages of {file} were refused");
    }
}
