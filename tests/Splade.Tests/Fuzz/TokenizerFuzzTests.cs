using System.Text.Json.Nodes;
using Splade.Tests.Models;
using Splade.Tokenization;

namespace Splade.Tests.Fuzz;

/// <summary>
/// Tokenizer files (tokenizer.json, tokenizer_config.json, vocab.txt) load or fail with an
/// <see cref="InvalidDataException"/> naming the file; encoding any string never throws and
/// yields ids inside the vocabulary, within the length limit.
/// </summary>
public sealed class TokenizerFuzzTests : IDisposable
{
    private readonly TempFolder _dir = new();

    public void Dispose() => _dir.Dispose();

    private static readonly Lazy<BertTokenizer> Tiny = new(() => BertTokenizer.FromFolder(TestData.Model("tiny-splade")));

    /// <summary>tiny-splade's tokenizer.json with the vocabulary cut to a few hundred entries (so each load is quick).</summary>
    private static string SmallTokenizerJson()
    {
        var root = JsonNode.Parse(File.ReadAllText(Path.Combine(TestData.Model("tiny-splade"), "tokenizer.json")))!.AsObject();
        var vocab = root["model"]!["vocab"]!.AsObject();
        var keep = new JsonObject();
        foreach (var (token, id) in vocab)
        {
            int v = id!.GetValue<int>();
            if (v < 120 || v is >= 1996 and < 2300 || token.StartsWith("##", StringComparison.Ordinal) && v < 3000) keep[token] = v;
        }
        root["model"]!["vocab"] = keep;
        return root.ToJsonString();
    }

    private static readonly string[] SmallVocabLines =
        File.ReadAllLines(Path.Combine(TestData.Model("tiny-splade"), "vocab.txt")).Take(2300).ToArray();

    /// <summary>Checks every invariant of an encoding of <paramref name="text"/>.</summary>
    private static void CheckEncoding(BertTokenizer tokenizer, string text, int maxLength)
    {
        var t = tokenizer.Encode(text, maxLength);
        if (t.Length > maxLength) throw new FuzzAssertionException($"{t.Length} tokens for maxLength {maxLength}");
        if (t.Ids.Length != t.Length || t.Offsets.Length != t.Length || t.Tokens.Length != t.Length) throw new FuzzAssertionException("ragged encoding");
        for (int i = 0; i < t.Length; i++)
        {
            int id = t.Ids[i];
            if (id < 0 || id >= tokenizer.VocabSize) throw new FuzzAssertionException($"id {id} outside [0, {tokenizer.VocabSize})");
            if (tokenizer.IdToToken(id) != t.Tokens[i]) throw new FuzzAssertionException($"token {i} is '{t.Tokens[i]}' but id {id} is '{tokenizer.IdToToken(id)}'");
            var (s, e) = t.Offsets[i];
            if (s < 0 || e < s || e > text.Length) throw new FuzzAssertionException($"offsets ({s}, {e}) outside the text of {text.Length} chars");
        }
        tokenizer.Decode(t.Ids, skipSpecialTokens: true);
        tokenizer.Decode(t.Ids, skipSpecialTokens: false);
    }

    [Fact]
    public void Encode_accepts_any_string()
    {
        var tokenizer = Tiny.Value;
        FuzzRunner.Run("encode", 31, FuzzRunner.Iterations(1500), (r, i) =>
        {
            string text = i % 100 == 99 ? Mutate.Text(r, 400) + new string('x', 150_000) + " " + string.Concat(Enumerable.Repeat("ab\uD800 ", 20_000)) : Mutate.Text(r, 300);
            int maxLength = r.Next(3) switch { 0 => int.MaxValue, 1 => 2, _ => r.Next(2, 600) };
            return (Text: text, Max: maxLength);
        }, c => $"maxLength {c.Max}, text {FuzzRunner.Show(c.Text)}", c =>
        {
            CheckEncoding(tokenizer, c.Text, c.Max);
            var t = tokenizer.Encode(c.Text, c.Max);
            if (t.Ids[0] != tokenizer.ClsTokenId || t.Ids[^1] != tokenizer.SepTokenId) throw new FuzzAssertionException("missing [CLS] ... [SEP]");
            var pair = tokenizer.EncodePair(c.Text, c.Text[..(c.Text.Length / 2)], Math.Max(3, c.Max));
            if (pair.Length > Math.Max(3, c.Max)) throw new FuzzAssertionException($"pair of {pair.Length} tokens over {c.Max}");
        }, TimeSpan.FromSeconds(90));
    }

    [Fact]
    public void Small_tokenizer_json_round_trips()
    {
        string path = _dir.File("tokenizer.json");
        File.WriteAllText(path, SmallTokenizerJson());
        var small = BertTokenizer.FromTokenizerJson(path);
        var t = small.Encode("the running [MASK] zzz");
        Assert.Equal(small.ClsTokenId, t.Ids[0]);
        Assert.Equal(small.SepTokenId, t.Ids[^1]);
        Assert.Contains(small.UnkTokenId, t.Ids);
        Assert.Equal(Tiny.Value.Encode("the").Ids, small.Encode("the").Ids);
    }

    [Fact]
    public void Mutated_tokenizer_files_load_or_fail_with_the_file_named()
    {
        string jsonFolder = Path.Combine(_dir.Path, "json"), vocabFolder = Path.Combine(_dir.Path, "vocab");
        Directory.CreateDirectory(jsonFolder);
        Directory.CreateDirectory(vocabFolder);
        string config = File.ReadAllText(Path.Combine(TestData.Model("tiny-splade"), "tokenizer_config.json"));
        var originals = new Dictionary<string, string>
        {
            ["json/tokenizer.json"] = SmallTokenizerJson(),
            ["json/tokenizer_config.json"] = config,
            ["vocab/vocab.txt"] = string.Join("\n", SmallVocabLines) + "\n",
            ["vocab/tokenizer_config.json"] = config,
        };
        foreach (var (f, text) in originals) File.WriteAllText(Path.Combine(_dir.Path, f), text);
        string[] files = originals.Keys.ToArray();
        FuzzRunner.Run("tokenizer files", 32, FuzzRunner.Iterations(500), (r, _) =>
        {
            string file = files[r.Next(files.Length)];
            Mutant m = file.EndsWith(".txt", StringComparison.Ordinal) ? Mutate.Bytes(r, System.Text.Encoding.UTF8.GetBytes(originals[file])) : Mutate.Any(r, originals[file]);
            return (File: file, Mutant: m, Text: Mutate.Text(r, 100));
        }, c => $"{c.File}: {c.Mutant.What} -> {FuzzRunner.Show(c.Mutant.Data)}; then encoding {FuzzRunner.Show(c.Text)}", c =>
        {
            string path = Path.Combine(_dir.Path, c.File);
            File.WriteAllBytes(path, c.Mutant.Data);
            try
            {
                BertTokenizer? tokenizer = null;
                FuzzRunner.ParsesOrThrows<InvalidDataException>(() => tokenizer = BertTokenizer.FromFolder(Path.GetDirectoryName(path)!),
                    e => e.Message.Contains(path, StringComparison.Ordinal) ? null : $"expected the file {path}");
                if (tokenizer is not null)
                {
                    CheckEncoding(tokenizer, c.Text, 64);
                    CheckEncoding(tokenizer, "the running [MASK] zzz [SEP]", 16);
                }
            }
            finally
            {
                File.WriteAllText(path, originals[c.File]);
            }
        });
    }
}
