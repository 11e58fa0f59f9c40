using System.Text.Json.Nodes;
using Splade.Tokenization;

namespace Splade.Tests.Tokenization;

/// <summary>Errors, thread safety, pairs, truncation and settings of <see cref="BertTokenizer"/>.</summary>
public sealed class TokenizerBehaviourTests
{
    private static readonly BertTokenizer Bert = BertTokenizer.FromFolder(TestData.Model("tiny-splade"));

    private static string TempDir()
    {
        string dir = Path.Combine(Path.GetTempPath(), "splade-tokenizer-tests", Environment.ProcessId.ToString(), Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return dir;
    }

    [Fact]
    public void SpecialIdsAndSizes_ComeFromTheFiles()
    {
        Assert.Equal(30522, Bert.VocabSize);
        Assert.Equal((101, 102, 0, 100, 103), (Bert.ClsTokenId, Bert.SepTokenId, Bert.PadTokenId, Bert.UnkTokenId, Bert.MaskTokenId));
        Assert.Equal(128, Bert.ModelMaxLength);
        Assert.Equal("##ing", Bert.IdToToken(Bert.TokenToId("##ing")!.Value));
        Assert.Null(Bert.TokenToId("not-a-token"));
    }

    [Fact]
    public void MalformedJson_IsInvalidDataNamingTheFile()
    {
        string path = Path.Combine(TempDir(), "tokenizer.json");
        File.WriteAllText(path, "{ \"model\": { \"vocab\": { \"a\": 0, ");
        var e = Assert.Throws<InvalidDataException>(() => BertTokenizer.FromTokenizerJson(path));
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void MissingVocab_IsInvalidDataSayingWhat()
    {
        string path = HfReference.WriteVariant(HfReference.BertBaseUncasedJson, "no-vocab", root => root["model"]!.AsObject().Remove("vocab"));
        var e = Assert.Throws<InvalidDataException>(() => BertTokenizer.FromTokenizerJson(path));
        Assert.Contains("model.vocab", e.Message);
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void BadVocabEntry_And_UnsupportedModel_AreInvalidData()
    {
        string bad = HfReference.WriteVariant(HfReference.BertBaseUncasedJson, "bad-id", root => root["model"]!["vocab"]!["hello"] = "x");
        Assert.Contains("hello", Assert.Throws<InvalidDataException>(() => BertTokenizer.FromTokenizerJson(bad)).Message);
        string bpe = HfReference.WriteVariant(HfReference.BertBaseUncasedJson, "bpe", root => root["model"]!["type"] = "BPE");
        Assert.Contains("BPE", Assert.Throws<InvalidDataException>(() => BertTokenizer.FromTokenizerJson(bpe)).Message);
        string noUnk = HfReference.WriteVariant(HfReference.BertBaseUncasedJson, "no-unk", root => root["model"]!["unk_token"] = "<unk>");
        Assert.Contains("<unk>", Assert.Throws<InvalidDataException>(() => BertTokenizer.FromTokenizerJson(noUnk)).Message);
    }

    [Fact]
    public void ModelWithoutType_IsWordPiece()
    {
        string path = HfReference.WriteVariant(HfReference.BertBaseUncasedJson, "no-type", root => root["model"]!.AsObject().Remove("type"));
        Assert.Equal(Bert.Encode("Hello, wordpiece!").Ids, BertTokenizer.FromTokenizerJson(path).Encode("Hello, wordpiece!").Ids);
    }

    [Fact]
    public void MissingFiles_AreReported()
    {
        string dir = TempDir();
        Assert.Throws<FileNotFoundException>(() => BertTokenizer.FromFolder(dir));
        Assert.Throws<FileNotFoundException>(() => BertTokenizer.FromVocabFile(Path.Combine(dir, "vocab.txt")));
        File.WriteAllText(Path.Combine(dir, "vocab.txt"), "");
        Assert.Throws<InvalidDataException>(() => BertTokenizer.FromVocabFile(Path.Combine(dir, "vocab.txt")));
    }

    [Fact]
    public void FolderWithVocabTxtOnly_UsesItWithTheConfig()
    {
        string dir = TempDir();
        File.Copy(Path.Combine(TestData.Model("tiny-splade"), "vocab.txt"), Path.Combine(dir, "vocab.txt"));
        File.Copy(Path.Combine(TestData.Model("tiny-splade"), "tokenizer_config.json"), Path.Combine(dir, "tokenizer_config.json"));
        var tok = BertTokenizer.FromFolder(dir);
        Assert.Equal(128, tok.ModelMaxLength);
        Assert.Equal(Bert.Encode("Ça marche très bien [MASK]!").Ids, tok.Encode("Ça marche très bien [MASK]!").Ids);
    }

    [Fact]
    public void TokenizerConfig_OverridesTheNormalizer()
    {
        string dir = TempDir();
        File.Copy(HfReference.BertBaseUncasedJson, Path.Combine(dir, "tokenizer.json"));
        File.WriteAllText(Path.Combine(dir, "tokenizer_config.json"), "{\"do_lower_case\": false, \"strip_accents\": false, \"model_max_length\": 1000000000000000019884624838656}");
        var tok = BertTokenizer.FromFolder(dir);
        Assert.Null(tok.ModelMaxLength);
        Assert.Equal(["[CLS]", "[UNK]", "[SEP]"], tok.Encode("Héllo").Tokens); // cased "Héllo" is not in the uncased vocabulary
        var lower = BertTokenizer.FromTokenizerJson(HfReference.BertBaseUncasedJson, new BertTokenizerOptions { StripAccents = AccentStripping.Keep });
        Assert.Equal(["[CLS]", "hello", "[SEP]"], lower.Encode("HELLO").Tokens);
        Assert.Equal("[UNK]", lower.Encode("héllo").Tokens[1]);
    }

    [Fact]
    public void Decode_UnknownId_ThrowsNamingIdAndSize()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Bert.Decode([101, 99999, 102]));
        Assert.Contains("99999", e.Message);
        Assert.Contains("30522", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => Bert.IdToToken(-1));
    }

    [Fact]
    public void Decode_MatchesReference()
    {
        using var reference = new HfReference(HfReference.BertBaseUncasedJson);
        foreach (string text in RandomTextGenerator.Generate(seed: 11, count: 300).Append("it's a don't-stop, U.S. thing ... isn't it?"))
        {
            int[] ids = Bert.Encode(text).Ids;
            Assert.Equal(reference.Decode(ids), Bert.Decode(ids));
        }
        Assert.Equal("[CLS] hello [SEP]", Bert.Decode(Bert.Encode("hello").Ids, skipSpecialTokens: false));
    }

    [Fact]
    public void ParallelEncoding_EqualsSequential()
    {
        var texts = RandomTextGenerator.Generate(seed: 42, count: 2000).ToArray();
        var sequential = texts.Select(t => Bert.Encode(t, 128)).ToArray();
        var parallel = new TokenizedText[texts.Length];
        Parallel.For(0, texts.Length, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i => parallel[i] = Bert.Encode(texts[i], 128));
        for (int i = 0; i < texts.Length; i++)
        {
            Assert.Equal(sequential[i].Ids, parallel[i].Ids);
            Assert.Equal(sequential[i].Offsets, parallel[i].Offsets);
        }
    }

    [Fact]
    public void Truncation_KeepsFirstPiecesAndSpecials()
    {
        string text = string.Join(' ', Enumerable.Repeat("hello world", 50));
        var full = Bert.Encode(text);
        var cut = Bert.Encode(text, 10);
        Assert.Equal(10, cut.Length);
        Assert.Equal(101, cut.Ids[0]);
        Assert.Equal(102, cut.Ids[^1]);
        Assert.Equal(full.Ids[..9], cut.Ids[..9]);
        Assert.Equal([101, 102], Bert.Encode(text, 2).Ids);
        Assert.Throws<ArgumentOutOfRangeException>(() => Bert.Encode(text, 1));
        Assert.Equal(full.Ids[1..6], Bert.Encode(text, 5, addSpecialTokens: false).Ids);
        Assert.Empty(Bert.Encode("", addSpecialTokens: false).Ids);
        Assert.Equal([101, 102], Bert.Encode(" \t\u200B\n").Ids);
    }

    [Fact]
    public void Pair_HasTypeIdsAndLongestFirstTruncation()
    {
        var p = Bert.EncodePair("hello world", "good morning to you");
        Assert.Equal([101, 7592, 2088, 102, 2204, 2851, 2000, 2017, 102], p.Ids);
        Assert.Equal([0, 0, 0, 0, 1, 1, 1, 1, 1], p.TypeIds);
        Assert.Equal((0, 4), p.Offsets[4]); // "good" in the second text
        // 2 + 4 pieces into a budget of 8 - 3 = 5: the longer side gives way first (2 + 3).
        var cut = Bert.EncodePair("hello world", "good morning to you", 8);
        Assert.Equal([101, 7592, 2088, 102, 2204, 2851, 2000, 102], cut.Ids);
        // Both long: budget 7 - 3 = 4 split 2 + 2.
        var both = Bert.EncodePair("a b c d e", "f g h i j", 7);
        Assert.Equal(["[CLS]", "a", "b", "[SEP]", "f", "g", "[SEP]"], both.Tokens);
    }

    [Fact]
    public void LoneSurrogates_AreRemovedLikeU_FFFD()
    {
        Assert.Equal(Bert.Encode("ab").Ids, Bert.Encode("a\uD800b").Ids);
        Assert.Equal(Bert.Encode("a b").Ids, Bert.Encode("a\uDC00 b").Ids);
        Assert.Equal(Bert.Encode("x").Ids, Bert.Encode("x\uD83D").Ids);
    }

    [Fact]
    public void MaxInputCharsPerWord_CountsScalarValues()
    {
        // Counted in scalar values: 60 emoji are 120 UTF-16 units but 60 characters.
        var emoji = BertTokenizer.FromTokenizerJson(HfReference.BertBaseUncasedJson, new BertTokenizerOptions { MaxInputCharsPerWord = 60 });
        Assert.Equal(["[CLS]", "[UNK]", "[SEP]"], emoji.Encode(string.Concat(Enumerable.Repeat("\U0001F600", 60))).Tokens);
        var tok = BertTokenizer.FromTokenizerJson(HfReference.BertBaseUncasedJson, new BertTokenizerOptions { MaxInputCharsPerWord = 3 });
        Assert.Equal(["[CLS]", "[UNK]", "[SEP]"], tok.Encode("abcd").Tokens);
        Assert.Equal(["[CLS]", "abc", "[SEP]"], tok.Encode("abc").Tokens);
        Assert.NotEqual(100, Bert.Encode(new string('a', 100)).Ids[1]);
        Assert.Equal(100, Bert.Encode(new string('a', 101)).Ids[1]);
    }
}
