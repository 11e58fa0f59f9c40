using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Splade.Tokenization;
using Xunit.Abstractions;

namespace Splade.Tests.Tokenization;

/// <summary>
/// Every Unicode scalar value through the normalizer and pre-tokenizer, compared with the reference.
/// A probe vocabulary holds every code point c as "c" and "##c", so no character becomes [UNK] and the
/// ids show exactly what the normalizer made of it: each probe is 一 q c q 丁, where the CJK markers
/// stand alone and the two q show whether c was removed (q ##q), whitespace (q q), punctuation or CJK
/// (q c q), or part of the word (q ##c' ##q).
/// </summary>
public sealed class BertCharTablesTests(ITestOutputHelper output)
{
    private static readonly Lazy<List<string>> ProbeVocab = new(() =>
    {
        var tokens = new List<string> { "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]" };
        var scalars = AllScalars().Select(char.ConvertFromUtf32).ToList();
        tokens.AddRange(scalars);
        tokens.AddRange(scalars.Select(s => "##" + s));
        return tokens;
    });

    private static IEnumerable<int> AllScalars()
    {
        for (int cp = 0; cp <= 0x10FFFF; cp++)
            if (cp is < 0xD800 or > 0xDFFF) yield return cp;
    }

    private static string WriteProbeTokenizer(string name, bool lowercase, bool? stripAccents, bool chinese)
    {
        string dir = Path.Combine(Path.GetTempPath(), "splade-tokenizer-tests", Environment.ProcessId.ToString());
        Directory.CreateDirectory(dir);
        string path = Path.Combine(dir, $"probe-{name}.json");
        using var fs = File.Create(path);
        using var w = new Utf8JsonWriter(fs, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        w.WriteStartObject();
        w.WriteString("version", "1.0");
        w.WriteStartArray("added_tokens");
        w.WriteEndArray();
        w.WriteStartObject("normalizer");
        w.WriteString("type", "BertNormalizer");
        w.WriteBoolean("clean_text", true);
        w.WriteBoolean("handle_chinese_chars", chinese);
        if (stripAccents is null) w.WriteNull("strip_accents"); else w.WriteBoolean("strip_accents", stripAccents.Value);
        w.WriteBoolean("lowercase", lowercase);
        w.WriteEndObject();
        w.WriteStartObject("pre_tokenizer");
        w.WriteString("type", "BertPreTokenizer");
        w.WriteEndObject();
        w.WriteNull("post_processor");
        w.WriteNull("decoder");
        w.WriteStartObject("model");
        w.WriteString("type", "WordPiece");
        w.WriteString("unk_token", "[UNK]");
        w.WriteString("continuing_subword_prefix", "##");
        w.WriteNumber("max_input_chars_per_word", 100);
        w.WriteStartObject("vocab");
        var tokens = ProbeVocab.Value;
        for (int i = 0; i < tokens.Count; i++) w.WriteNumber(tokens[i], i);
        w.WriteEndObject();
        w.WriteEndObject();
        w.WriteEndObject();
        return path;
    }

    [Theory]
    [InlineData("default", true, null, true)]
    [InlineData("lowercase-only", true, false, true)]
    [InlineData("strip-only", false, true, false)]
    [InlineData("clean-only", false, false, true)]
    public void EveryCodePoint_MatchesReference(string name, bool lowercase, bool? stripAccents, bool chinese)
    {
        // About half a minute per configuration: the one BERT-uncased models use always runs, the
        // other normalizer settings when SPLADE_TOKENIZER_EXHAUSTIVE=1.
        if (name != "default" && Environment.GetEnvironmentVariable("SPLADE_TOKENIZER_EXHAUSTIVE") != "1")
        {
            output.WriteLine($"Skipped '{name}': set SPLADE_TOKENIZER_EXHAUSTIVE=1 to compare every code point under this setting.");
            return;
        }
        var clock = System.Diagnostics.Stopwatch.StartNew();
        string path = WriteProbeTokenizer(name, lowercase, stripAccents, chinese);
        output.WriteLine($"probe tokenizer.json written in {clock.ElapsedMilliseconds} ms");
        try
        {
            using var reference = new HfReference(path);
            output.WriteLine($"reference loaded at {clock.ElapsedMilliseconds} ms");
            var tok = BertTokenizer.FromTokenizerJson(path);
            output.WriteLine($"C# tokenizer loaded at {clock.ElapsedMilliseconds} ms");
            var scalars = AllScalars().ToList();
            int compared = 0, mismatches = 0;
            var first = new List<string>();
            const int Chunk = 20000;
            for (int start = 0; start < scalars.Count; start += Chunk)
            {
                var sb = new StringBuilder();
                foreach (int cp in scalars.Skip(start).Take(Chunk))
                    sb.Append('\u4E00').Append('q').Append(char.ConvertFromUtf32(cp)).Append('q').Append('\u4E01');
                string text = sb.ToString();
                int[] expected = reference.Encode(text);
                int[] actual = tok.Encode(text).Ids;
                compared += Math.Min(Chunk, scalars.Count - start);
                if (!expected.AsSpan().SequenceEqual(actual))
                {
                    // Locate the first differing probe for the report.
                    int i = 0;
                    while (i < Math.Min(expected.Length, actual.Length) && expected[i] == actual[i]) i++;
                    mismatches++;
                    if (first.Count < 5) first.Add($"chunk at U+{scalars[start]:X4}: first difference at id index {i}: expected {Describe(expected, i)} actual {Describe(actual, i)}");
                }
            }
            output.WriteLine($"compared at {clock.ElapsedMilliseconds} ms");
            output.WriteLine($"{name}: {compared} code points compared, {mismatches} chunks with differences");
            foreach (var f in first) output.WriteLine(f);
            Assert.True(mismatches == 0, string.Join("\n", first));
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static string Describe(int[] ids, int at)
    {
        var tokens = ProbeVocab.Value;
        return string.Join(" ", ids.Skip(Math.Max(0, at - 3)).Take(7).Select(id => string.Join(",", tokens[id].EnumerateRunes().Select(r => $"U+{r.Value:X4}"))));
    }

    [Theory]
    [InlineData(0x0130, "i\u0307")]     // Rust char::to_lowercase: 'İ' -> "i̇" (full mapping)
    [InlineData(0x03A3, "σ")]          // no final-sigma context
    [InlineData(0x1E9E, "ß")]
    [InlineData(0x212A, "k")]          // Kelvin sign
    [InlineData(0x00C5, "å")]
    public void ToLower_FollowsRust(int cp, string expected)
    {
        Span<int> buffer = stackalloc int[4];
        int n = BertCharTables.ToLower(cp, buffer);
        Assert.Equal(expected, string.Concat(buffer[..n].ToArray().Select(char.ConvertFromUtf32)));
    }

    [Theory]
    [InlineData(0x00E9, "e")]
    [InlineData(0x1E69, "s")]             // ṩ: two marks removed
    [InlineData(0x0301, "")]              // a combining mark alone
    [InlineData(0xD55C, "\u1112\u1161\u11AB")] // 한 -> jamo
    [InlineData(0xF900, "\u8C48")]        // CJK compatibility ideograph -> unified
    [InlineData(0x037E, ";")]             // Greek question mark is a semicolon after NFD
    public void StripAccents_IsNfdWithoutNonSpacingMarks(int cp, string expected)
    {
        Span<int> buffer = stackalloc int[8];
        int n = BertCharTables.StripAccents(cp, buffer);
        Assert.Equal(expected, string.Concat(buffer[..n].ToArray().Select(char.ConvertFromUtf32)));
    }

    [Theory]
    [InlineData(0x0085, (int)BertCharClass.Control)]   // NEL is removed, not a space
    [InlineData(0x000B, (int)BertCharClass.Control)]
    [InlineData(0x001F, (int)BertCharClass.Control)]
    [InlineData(0x00A0, (int)BertCharClass.Whitespace)]
    [InlineData(0x3000, (int)BertCharClass.Whitespace)]
    [InlineData(0x200B, (int)BertCharClass.Control)]   // zero-width space is Cf
    [InlineData(0xFEFF, (int)BertCharClass.Control)]
    [InlineData(0xE000, (int)BertCharClass.Control)]   // private use
    [InlineData(0x0378, (int)BertCharClass.Normal)]    // unassigned code points are kept
    [InlineData(0x0024, (int)BertCharClass.Punctuation)] // '$' is ASCII punctuation
    [InlineData(0x00A7, (int)BertCharClass.Punctuation)] // '§' is Po
    [InlineData(0x20AC, (int)BertCharClass.Normal)]    // '€' is Sc, not punctuation
    [InlineData(0x2E5D, (int)BertCharClass.Normal)]    // punctuation newer than the reference's tables
    public void GetClass_KnownCases(int cp, int expected) => Assert.Equal((BertCharClass)expected, BertCharTables.GetClass(cp));
}
