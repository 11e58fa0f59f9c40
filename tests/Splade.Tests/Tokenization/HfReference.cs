using System.Text.Json;
using System.Text.Json.Nodes;

namespace Splade.Tests.Tokenization;

/// <summary>
/// The Hugging Face Rust `tokenizers` library (through Tokenizers.DotNet) on a tokenizer.json: the
/// reference the C# tokenizer is compared with. Its Encode always applies the post-processor.
/// </summary>
internal sealed class HfReference : IDisposable
{
    private readonly Tokenizers.DotNet.Tokenizer _tokenizer;

    public HfReference(string tokenizerJson) => _tokenizer = new Tokenizers.DotNet.Tokenizer(tokenizerJson);

    public int[] Encode(string text) => Array.ConvertAll(_tokenizer.Encode(text), x => (int)x);

    public string Decode(int[] ids) => _tokenizer.Decode(Array.ConvertAll(ids, x => (uint)x));

    public void Dispose() => _tokenizer.Dispose();

    /// <summary>bert-base-uncased tokenizer.json shipped with the test model.</summary>
    public static string BertBaseUncasedJson => Path.Combine(TestData.Model("tiny-splade"), "tokenizer.json");

    /// <summary>Writes a copy of a tokenizer.json after <paramref name="edit"/> changed it; returns its path.</summary>
    public static string WriteVariant(string source, string name, Action<JsonObject> edit)
    {
        var root = JsonNode.Parse(File.ReadAllText(source))!.AsObject();
        edit(root);
        string dir = Path.Combine(Path.GetTempPath(), "splade-tokenizer-tests", Environment.ProcessId.ToString());
        Directory.CreateDirectory(dir);
        string path = Path.Combine(dir, name + ".json");
        File.WriteAllText(path, root.ToJsonString(new JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }));
        return path;
    }
}
