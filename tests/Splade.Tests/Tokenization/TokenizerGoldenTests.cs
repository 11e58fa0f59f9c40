using System.Text;
using System.Text.Json;
using Splade.Tokenization;
using Xunit.Abstractions;

namespace Splade.Tests.Tokenization;

/// <summary>Published outputs of the Hugging Face tokenizers (see testdata/tokenizer and the model fixtures).</summary>
public sealed class TokenizerGoldenTests(ITestOutputHelper output)
{
    private static readonly BertTokenizer Bert = BertTokenizer.FromFolder(TestData.Model("tiny-splade"));

    [Fact]
    public void TransformersJsCases_MatchIdsTokensAndDecoding()
    {
        // The transformers.js tokenizers set clean_up_tokenization_spaces; the ids do not depend on it.
        var tok = BertTokenizer.FromTokenizerJson(HfReference.BertBaseUncasedJson, new BertTokenizerOptions { CleanUpTokenizationSpaces = true });
        int count = 0;
        foreach (string line in File.ReadLines(TestData.Path_("tokenizer", "bert_base_uncased_transformersjs_cases.jsonl")))
        {
            if (string.IsNullOrWhiteSpace(line)) continue;
            using var doc = JsonDocument.Parse(line);
            var c = doc.RootElement;
            string text = c.GetProperty("text").GetString()!;
            int[] ids = c.GetProperty("ids").EnumerateArray().Select(x => x.GetInt32()).ToArray();
            string[] tokens = c.GetProperty("tokens").EnumerateArray().Select(x => x.GetString()!).ToArray();
            var encoded = c.TryGetProperty("text_pair", out var pair) ? tok.EncodePair(text, pair.GetString()!) : tok.Encode(text);
            Assert.True(ids.SequenceEqual(encoded.Ids), $"{c.GetProperty("case")}: expected [{string.Join(",", ids)}] got [{string.Join(",", encoded.Ids)}]");
            // `tokens` leave out the [CLS]/[SEP] the template adds (type-0 and type-1 specials at (0, 0)).
            Assert.Equal(tokens, encoded.Tokens.Where((_, i) => !(IsSpecial(encoded.Ids[i]) && encoded.Offsets[i] == (0, 0))).ToArray());
            Assert.Equal(c.GetProperty("decoded").GetString(), tok.Decode(encoded.Ids, skipSpecialTokens: false));
            count++;
        }
        output.WriteLine($"{count} transformers.js cases matched");
        Assert.True(count >= 40);
    }

    private static bool IsSpecial(int id) => id is 0 or 100 or 101 or 102 or 103;

    [Fact]
    public void RustTokenizersCases_MatchIdsTypeIdsAndByteOffsets()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(TestData.Path_("tokenizer", "bert_base_uncased_rust_tokenizers_cases.json")));
        var tok = BertTokenizer.FromTokenizerJson(HfReference.BertBaseUncasedJson);
        Assert.Equal(doc.RootElement.GetProperty("vocab_size").GetInt32(), tok.VocabSize);
        int count = 0;
        foreach (var c in doc.RootElement.GetProperty("cases").EnumerateArray())
        {
            string text = c.GetProperty("text").GetString()!;
            var encoded = tok.Encode(text, addSpecialTokens: c.GetProperty("add_special_tokens").GetBoolean());
            Assert.Equal(c.GetProperty("ids").EnumerateArray().Select(x => x.GetInt32()), encoded.Ids);
            Assert.Equal(c.GetProperty("tokens").EnumerateArray().Select(x => x.GetString()), encoded.Tokens);
            Assert.Equal(c.GetProperty("type_ids").EnumerateArray().Select(x => x.GetInt32()), encoded.TypeIds);
            var expectedOffsets = c.GetProperty("offsets").EnumerateArray().Select(o => (o[0].GetInt32(), o[1].GetInt32()));
            var byteOffsets = encoded.Offsets.Select(o => (ToByteOffset(text, o.Start), ToByteOffset(text, o.End)));
            Assert.Equal(expectedOffsets, byteOffsets);
            count++;
        }
        foreach (var d in doc.RootElement.GetProperty("decode_examples").EnumerateArray())
        {
            int[] ids = d.GetProperty("ids").EnumerateArray().Select(x => x.GetInt32()).ToArray();
            Assert.Equal(d.GetProperty("text").GetString(), tok.Decode(ids, d.GetProperty("skip_special_tokens").GetBoolean()));
        }
        Assert.True(count >= 4);
    }

    private static int ToByteOffset(string text, int utf16Offset) => Encoding.UTF8.GetByteCount(text.AsSpan(0, utf16Offset));

    [Theory]
    [InlineData("tiny-splade", 128)]
    [InlineData("tiny-splade-variant", 64)]
    public void ModelFixtures_IdsMatchTruncatedToMaxSeqLength(string model, int maxSeqLength)
    {
        var tok = BertTokenizer.FromFolder(TestData.Model(model));
        Assert.Equal(maxSeqLength, tok.ModelMaxLength);
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(TestData.Dir, "models", model + ".expected.json")));
        int count = 0, truncated = 0;
        foreach (var t in doc.RootElement.GetProperty("texts").EnumerateArray())
        {
            string text = t.GetProperty("text").GetString()!;
            int[] expected = t.GetProperty("ids").EnumerateArray().Select(x => x.GetInt32()).ToArray();
            var encoded = tok.Encode(text, maxSeqLength);
            Assert.True(expected.SequenceEqual(encoded.Ids), $"text {count} ({text[..Math.Min(40, text.Length)]}): expected [{string.Join(",", expected)}] got [{string.Join(",", encoded.Ids)}]");
            if (tok.Encode(text).Length > maxSeqLength) truncated++;
            count++;
        }
        output.WriteLine($"{model}: {count} texts matched, {truncated} of them truncated to {maxSeqLength}");
        Assert.True(truncated >= 1);
    }

    [Fact]
    public void Offsets_PointIntoTheOriginalString()
    {
        string text = "Héllo  WORLD! 中文 [MASK] x\U0001F600y";
        var e = Bert.Encode(text);
        string Source(int i) => text[e.Offsets[i].Start..e.Offsets[i].End];
        Assert.Equal(["[CLS]", "hello", "world", "!", "中", "文", "[MASK]", "[UNK]", "[SEP]"], e.Tokens);
        Assert.Equal((0, 0), e.Offsets[0]);
        Assert.Equal("Héllo", Source(1));
        Assert.Equal("WORLD", Source(2));
        Assert.Equal("!", Source(3));
        Assert.Equal("中", Source(4));
        Assert.Equal("文", Source(5));
        Assert.Equal("[MASK]", Source(6));
        Assert.Equal("x\U0001F600y", Source(7));
        Assert.Equal((0, 0), e.Offsets[8]);
    }
}
