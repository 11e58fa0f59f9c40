using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Splade.Tokenization;
using Xunit.Abstractions;

namespace Splade.Tests.Tokenization;

/// <summary>Token ids compared with the Hugging Face Rust library on generated and real texts.</summary>
public sealed class TokenizerParityTests(ITestOutputHelper output)
{
    private static (int Compared, List<string> Mismatches) Compare(BertTokenizer tok, HfReference reference, IEnumerable<string> texts)
    {
        int compared = 0;
        var mismatches = new List<string>();
        foreach (string text in texts)
        {
            int[] expected = reference.Encode(text);
            int[] actual = tok.Encode(text).Ids;
            if (!expected.AsSpan().SequenceEqual(actual) && mismatches.Count < 1000)
                mismatches.Add($"{JsonSerializer.Serialize(text)}\n  expected [{string.Join(",", expected)}]\n  actual   [{string.Join(",", actual)}]");
            compared++;
        }
        return (compared, mismatches);
    }

    private void Report(string what, (int Compared, List<string> Mismatches) r)
    {
        output.WriteLine($"{what}: {r.Compared} strings compared, {r.Mismatches.Count} mismatches");
        foreach (var m in r.Mismatches.Take(10)) output.WriteLine(m);
        Assert.True(r.Mismatches.Count == 0, $"{what}: {r.Mismatches.Count} of {r.Compared} differ; first:\n{string.Join("\n", r.Mismatches.Take(5))}");
    }

    [Fact]
    public void GeneratedStrings_MatchReference_BertBaseUncased()
    {
        using var reference = new HfReference(HfReference.BertBaseUncasedJson);
        var tok = BertTokenizer.FromTokenizerJson(HfReference.BertBaseUncasedJson);
        Report("bert-base-uncased tokenizer.json", Compare(tok, reference, RandomTextGenerator.Generate(seed: 1234, count: 4000)));
    }

    [Fact]
    public void GeneratedStrings_VocabTxtTokenizer_EqualsTokenizerJson()
    {
        var fromJson = BertTokenizer.FromTokenizerJson(HfReference.BertBaseUncasedJson);
        var fromVocab = BertTokenizer.FromVocabFile(Path.Combine(TestData.Model("tiny-splade"), "vocab.txt"));
        int n = 0;
        foreach (string text in RandomTextGenerator.Generate(seed: 77, count: 1000))
        {
            Assert.Equal(fromJson.Encode(text).Ids, fromVocab.Encode(text).Ids);
            n++;
        }
        output.WriteLine($"{n} strings identical between vocab.txt and tokenizer.json loaders");
    }

    [Theory]
    [InlineData(false, false, true)]   // cased, accents kept
    [InlineData(true, false, true)]    // lower-case without accent stripping: 'İ' -> "i̇"
    [InlineData(false, true, false)]   // accents stripped without lower-casing, CJK not split
    public void GeneratedStrings_MatchReference_NormalizerVariants(bool lowercase, bool stripAccents, bool chinese)
    {
        string path = HfReference.WriteVariant(HfReference.BertBaseUncasedJson, $"variant-{lowercase}-{stripAccents}-{chinese}", root =>
        {
            var n = root["normalizer"]!.AsObject();
            n["lowercase"] = lowercase;
            n["strip_accents"] = stripAccents;
            n["handle_chinese_chars"] = chinese;
        });
        using var reference = new HfReference(path);
        var tok = BertTokenizer.FromTokenizerJson(path);
        Report($"lowercase={lowercase} strip_accents={stripAccents} chinese={chinese}", Compare(tok, reference, RandomTextGenerator.Generate(seed: 99, count: 1500)));
    }

    [Fact]
    public void AddedTokenFlags_MatchReference()
    {
        // Added tokens with every flag, matched in the raw or in the normalized text.
        string path = HfReference.WriteVariant(HfReference.BertBaseUncasedJson, "added-flags", root =>
        {
            var added = root["added_tokens"]!.AsArray();
            foreach (var t in added) if ((string?)t!["content"] == "[MASK]") { t["lstrip"] = true; t["rstrip"] = true; }
            added.Add(new JsonObject { ["id"] = 30522, ["content"] = "<ent>", ["single_word"] = true, ["lstrip"] = false, ["rstrip"] = false, ["normalized"] = false, ["special"] = false });
            added.Add(new JsonObject { ["id"] = 30523, ["content"] = "Straße", ["single_word"] = false, ["lstrip"] = false, ["rstrip"] = false, ["normalized"] = true, ["special"] = false });
            added.Add(new JsonObject { ["id"] = 30524, ["content"] = "[SEP]x", ["single_word"] = false, ["lstrip"] = false, ["rstrip"] = true, ["normalized"] = false, ["special"] = true });
        });
        using var reference = new HfReference(path);
        var tok = BertTokenizer.FromTokenizerJson(path);
        string[] fixedCases =
        [
            "a [MASK] b", "a\t[MASK]\u3000 b", "[MASK][MASK]", "  [MASK]  ", "x<ent> <ent> <ent>y (<ent>) é<ent>", "STRASSE strasse Straße STRAßE straße",
            "[SEP]x [SEP] [SEP]xx", "<ent>", "a <ent>, b", "[MASK] [SEP]x<ent>",
        ];
        var texts = fixedCases.Concat(RandomTextGenerator.Generate(seed: 5, count: 500).Select(t => t.Replace("ß", " <ent> ").Replace("Å", "Straße")));
        Report("added-token flags", Compare(tok, reference, texts));
    }

    [Fact]
    public void IrCollections_AllQueriesTitlesAndTexts_MatchReference()
    {
        string? shared = TestData.SharedData;
        if (shared is null || !Directory.Exists(Path.Combine(shared, "ir")))
        {
            output.WriteLine("Skipped: shared data (ir/*) not found; set SPLADE_SHARED_DATA to run it.");
            return;
        }
        using var reference = new HfReference(HfReference.BertBaseUncasedJson);
        var tok = BertTokenizer.FromTokenizerJson(HfReference.BertBaseUncasedJson);
        int total = 0;
        foreach (string dir in Directory.GetDirectories(Path.Combine(shared, "ir")).Where(d => File.Exists(Path.Combine(d, "corpus.jsonl"))).Order())
        {
            var texts = ReadTexts(Path.Combine(dir, "queries.jsonl"), "text")
                .Concat(ReadTexts(Path.Combine(dir, "corpus.jsonl"), "title", "text")).ToList();
            var r = Compare(tok, reference, texts);
            Report(Path.GetFileName(dir), r);
            total += r.Compared;
        }
        output.WriteLine($"all collections: {total} strings compared, 0 mismatches");
        Assert.True(total > 25000);
    }

    [Fact]
    public void Throughput_IsReported()
    {
        string? shared = TestData.SharedData;
        string corpus = shared is null ? "" : Path.Combine(shared, "ir", "cisi", "corpus.jsonl");
        List<string> texts = File.Exists(corpus)
            ? ReadTexts(corpus, "text").ToList()
            : RandomTextGenerator.Generate(seed: 3, count: 2000).ToList();
        var tok = BertTokenizer.FromTokenizerJson(HfReference.BertBaseUncasedJson);
        foreach (var t in texts.Take(200)) tok.Encode(t); // warm-up
        long tokens = 0;
        var sw = Stopwatch.StartNew();
        foreach (var t in texts) tokens += tok.Encode(t).Length;
        sw.Stop();
        double chars = texts.Sum(t => (double)t.Length);
        output.WriteLine($"{(File.Exists(corpus) ? "cisi corpus" : "generated texts")}: {texts.Count} strings, {tokens} tokens, {chars / 1e6:F2} M chars in {sw.Elapsed.TotalMilliseconds:F0} ms: " +
                         $"{texts.Count / sw.Elapsed.TotalSeconds:F0} strings/s, {tokens / sw.Elapsed.TotalSeconds / 1e6:F2} M tokens/s, {chars / sw.Elapsed.TotalSeconds / 1e6:F1} M chars/s (1 thread)");
        using var reference = new HfReference(HfReference.BertBaseUncasedJson);
        sw.Restart();
        foreach (var t in texts) reference.Encode(t);
        sw.Stop();
        output.WriteLine($"reference (Rust through Tokenizers.DotNet, same texts): {texts.Count / sw.Elapsed.TotalSeconds:F0} strings/s");
        Assert.True(tokens > 0);
    }

    internal static IEnumerable<string> ReadTexts(string path, params string[] fields)
    {
        if (!File.Exists(path)) yield break;
        foreach (string line in File.ReadLines(path))
        {
            if (string.IsNullOrWhiteSpace(line)) continue;
            using var doc = JsonDocument.Parse(line);
            foreach (var f in fields)
                if (doc.RootElement.TryGetProperty(f, out var v) && v.ValueKind == JsonValueKind.String) yield return v.GetString()!;
        }
    }
}
