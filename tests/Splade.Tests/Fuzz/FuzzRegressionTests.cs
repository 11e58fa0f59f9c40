using System.Buffers.Binary;
using System.Net.Http.Headers;
using System.Text;
using Splade.Cli;
using Splade.Cli.Io;
using Splade.Evaluation;
using Splade.Models;
using Splade.Search;
using Splade.Search.Storage;
using Splade.Tests.Models;
using Splade.Tests.Server;
using Splade.Tokenization;

namespace Splade.Tests.Fuzz;

/// <summary>Inputs the fuzz tests found mishandled, kept as plain tests: each must fail with its documented, typed error.</summary>
public sealed class FuzzRegressionTests : IDisposable
{
    private readonly TempFolder _dir = new();

    public void Dispose() => _dir.Dispose();

    private static string TinyFile(string name) => Path.Combine(TestData.Model("tiny-splade"), name);

    // ---- safetensors -------------------------------------------------------------------------

    [Fact]
    public void Safetensors_header_with_invalid_utf8_names_the_file()
    {
        // Was: InvalidOperationException ("Cannot transcode invalid UTF-8") when the metadata was read.
        string path = _dir.File("bad.safetensors");
        byte[] header = [.. "{\"__metadata__\":{\"format\":\"p"u8.ToArray(), 0xBC, .. "\"}}"u8.ToArray()];
        byte[] file = new byte[8 + header.Length];
        BitConverter.GetBytes((ulong)header.Length).CopyTo(file, 0);
        header.CopyTo(file, 8);
        File.WriteAllBytes(path, file);
        var e = Assert.Throws<ModelLoadException>(() => SafeTensorsFile.Open(path));
        Assert.Equal(path, e.FilePath);
        Assert.Contains("UTF-8", e.Message);
    }

    [Fact]
    public void Safetensors_header_with_a_lone_surrogate_escape_names_the_file()
    {
        string path = _dir.File("surrogate.safetensors");
        File.WriteAllBytes(path, SafeTensorsBuilder.Assemble("{\"__metadata__\":{\"format\":\"\\ud800\"}}", []));
        var e = Assert.Throws<ModelLoadException>(() => SafeTensorsFile.Open(path));
        Assert.Equal(path, e.FilePath);
        Assert.Contains("$.__metadata__.format", e.Message);
    }

    // ---- model folder ------------------------------------------------------------------------

    private string PlainFolder()
    {
        string folder = Path.Combine(_dir.Path, "model");
        Directory.CreateDirectory(Path.Combine(folder, "1_SpladePooling"));
        foreach (string f in new[] { "modules.json", "config.json", "config_sentence_transformers.json", "sentence_bert_config.json", "1_SpladePooling/config.json" })
            File.Copy(TinyFile(f), Path.Combine(folder, f));
        return folder;
    }

    [Fact]
    public void Pooling_config_with_a_lone_surrogate_escape_names_the_file()
    {
        // Was: InvalidOperationException ("incomplete UTF-16 JSON text") from GetString.
        string folder = PlainFolder(), path = Path.Combine(folder, "1_SpladePooling", "config.json");
        File.WriteAllText(path, "{\"pooling_strategy\":\"max\",\"activation_function\":\"\\ud800\",\"word_embedding_dimension\":30522}");
        var e = Assert.Throws<ModelLoadException>(() => ModelFolder.Load(folder));
        Assert.Equal(path, e.FilePath);
        Assert.Contains("activation_function", e.Message);
    }

    [Fact]
    public void Config_architectures_holding_a_number_names_the_file()
    {
        // Was: InvalidOperationException from GetString on the number.
        string folder = PlainFolder(), path = Path.Combine(folder, "config.json");
        File.WriteAllText(path, File.ReadAllText(path).Replace("\"BertForMaskedLM\"", "2147483647"));
        var e = Assert.Throws<ModelLoadException>(() => ModelFolder.Load(folder));
        Assert.Equal(path, e.FilePath);
        Assert.Contains("architectures", e.Message);
    }

    [Fact]
    public void Prompt_that_is_not_a_string_names_the_file()
    {
        string folder = PlainFolder(), path = Path.Combine(folder, "config_sentence_transformers.json");
        File.WriteAllText(path, "{\"prompts\": {\"query\": 5}}");
        var e = Assert.Throws<ModelLoadException>(() => ModelFolder.Load(folder));
        Assert.Equal(path, e.FilePath);
        Assert.Contains("'query'", e.Message);
    }

    [Fact]
    public void Router_route_that_is_not_a_list_names_the_file()
    {
        // Was: InvalidOperationException from EnumerateArray on `true`.
        string folder = PlainFolder(), path = Path.Combine(folder, "router_config.json");
        File.WriteAllText(Path.Combine(folder, "modules.json"), "[{\"idx\":0,\"name\":\"0\",\"path\":\"\",\"type\":\"sentence_transformers.models.Router\"}]");
        File.WriteAllText(path, "{\"structure\": {\"query\": true, \"document\": [\"document_0_MLMTransformer\"]}}");
        var e = Assert.Throws<ModelLoadException>(() => ModelFolder.Load(folder));
        Assert.Equal(path, e.FilePath);
        Assert.Contains("'query'", e.Message);
        File.WriteAllText(path, "{\"structure\": {\"query\": [7]}}");
        Assert.Equal(path, Assert.Throws<ModelLoadException>(() => ModelFolder.Load(folder)).FilePath);
    }

    // ---- tokenizer ---------------------------------------------------------------------------

    /// <summary>A small valid tokenizer.json with <paramref name="edit"/> applied to its text.</summary>
    private string TokenizerJson(Func<string, string> edit)
    {
        const string Json = """
            {"added_tokens": [{"id": 0, "special": true, "content": "[PAD]"}, {"id": 1, "special": true, "content": "[UNK]"},
                              {"id": 2, "special": true, "content": "[CLS]"}, {"id": 3, "special": true, "content": "[SEP]"},
                              {"id": 4, "special": true, "content": "[MASK]"}],
             "normalizer": {"type": "BertNormalizer", "lowercase": true},
             "pre_tokenizer": {"type": "BertPreTokenizer"},
             "post_processor": {"type": "TemplateProcessing",
               "single": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}, {"SpecialToken": {"id": "[SEP]", "type_id": 0}}],
               "pair": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}, {"SpecialToken": {"id": "[SEP]", "type_id": 0}},
                        {"Sequence": {"id": "B", "type_id": 1}}, {"SpecialToken": {"id": "[SEP]", "type_id": 1}}],
               "special_tokens": {"[CLS]": {"id": "[CLS]", "ids": [2], "tokens": ["[CLS]"]}, "[SEP]": {"id": "[SEP]", "ids": [3], "tokens": ["[SEP]"]}}},
             "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": true},
             "model": {"type": "WordPiece", "unk_token": "[UNK]", "vocab": {"[PAD]": 0, "[UNK]": 1, "[CLS]": 2, "[SEP]": 3, "[MASK]": 4, "the": 5, "run": 6, "##ning": 7}}}
            """;
        string path = _dir.File("tokenizer-" + Guid.NewGuid().ToString("N")[..8] + ".json");
        File.WriteAllText(path, edit(Json));
        return path;
    }

    [Fact]
    public void Small_tokenizer_json_is_valid()
    {
        var t = BertTokenizer.FromTokenizerJson(TokenizerJson(s => s));
        Assert.Equal(new[] { 2, 5, 6, 7, 1, 3 }, t.Encode("the running zzz").Ids);
    }

    [Theory]
    // Was: InvalidOperationException from GetString (lone surrogate escape in a vocabulary token).
    [InlineData("\"##ning\": 7", "\"##ning\": 7, \"\\ud800\": 8")]
    // Was: InvalidOperationException from TryGetProperty on a number.
    [InlineData("\"[CLS]\": {\"id\": \"[CLS]\", \"ids\": [2], \"tokens\": [\"[CLS]\"]}", "\"[CLS]\": 5")]
    // Was: InvalidOperationException from TryGetInt32 on a string.
    [InlineData("\"ids\": [2]", "\"ids\": [\"2\"]")]
    // Was: InvalidOperationException from TryGetProperty on a template item that is not an object.
    [InlineData("{\"Sequence\": {\"id\": \"A\", \"type_id\": 0}}, {\"SpecialToken\": {\"id\": \"[SEP]\", \"type_id\": 0}}],\n   \"pair\"", "7, {\"SpecialToken\": {\"id\": \"[SEP]\", \"type_id\": 0}}],\n   \"pair\"")]
    // Was: InvalidOperationException from TryGetProperty on a string where an object was expected.
    [InlineData("{\"SpecialToken\": {\"id\": \"[CLS]\", \"type_id\": 0}}, {\"Sequence\"", "{\"SpecialToken\": \"[CLS]\"}, {\"Sequence\"")]
    // Was: loaded, then every Encode threw ArgumentOutOfRangeException for the unknown template id.
    [InlineData("\"ids\": [2]", "\"ids\": [2147483647]")]
    // Was: loaded, then Encode emitted the negative id -5.
    [InlineData("{\"id\": 4, \"special\": true, \"content\": \"[MASK]\"}", "{\"id\": 4, \"special\": true, \"content\": \"[MASK]\"}, {\"id\": -5, \"content\": \"<neg>\"}")]
    public void Malformed_tokenizer_json_fails_with_the_file_named(string find, string replace)
    {
        string path = TokenizerJson(s =>
        {
            Assert.Contains(find, s);
            return s.Replace(find, replace);
        });
        var e = Assert.Throws<InvalidDataException>(() => BertTokenizer.FromTokenizerJson(path));
        Assert.StartsWith(path, e.Message);
    }

    [Fact]
    public void Special_token_missing_from_the_vocabulary_names_tokenizer_config()
    {
        // Was: the message named only tokenizer.json (or vocab.txt), not the file that named the token.
        foreach (string tokenizerFile in new[] { "tokenizer.json", "vocab.txt" })
        {
            string folder = Path.Combine(_dir.Path, "tok-" + Path.GetExtension(tokenizerFile).TrimStart('.'));
            Directory.CreateDirectory(folder);
            File.Copy(TinyFile(tokenizerFile), Path.Combine(folder, tokenizerFile));
            string config = Path.Combine(folder, "tokenizer_config.json");
            File.WriteAllText(config, "{\"cls_token\": \"[CL\uFEFFS]\", \"unk_token\": \"[NOPE]\"}");
            var e = Assert.Throws<InvalidDataException>(() => BertTokenizer.FromFolder(folder));
            Assert.Contains(config, e.Message);
        }
    }

    // ---- CLI readers -------------------------------------------------------------------------

    [Fact]
    public void Vector_line_with_a_nested_index_is_a_located_cli_error()
    {
        // Was: InvalidOperationException from TryGetInt32 on an array.
        var e = Assert.Throws<CliException>(() => VectorRecords.Parse("{\"id\":\"v1\",\"indices\":[4,[[1]],55],\"values\":[1,2,3]}", 64, "in.jsonl", 2));
        Assert.StartsWith("in.jsonl:2: ", e.Message);
    }

    [Theory]
    [InlineData("{\"\\udc00id\":\"d0\",\"text\":\"x\"}")]
    [InlineData("{\"id\":\"d0\",\"text\":\"a\\ud800\"}")]
    public void Text_line_with_a_lone_surrogate_escape_is_a_located_cli_error(string line)
    {
        // Was: InvalidOperationException from TryGetProperty / GetString.
        var e = Assert.Throws<CliException>(() => TextRecords.Parse(line, "<stdin>", 1));
        Assert.StartsWith("<stdin>:1: ", e.Message);
        Assert.Throws<CliException>(() => VectorRecords.Parse(line.Replace("\"text\":\"x\"", "\"indices\":[],\"values\":[]"), 64, "<stdin>", 1));
    }

    // ---- evaluation --------------------------------------------------------------------------

    [Fact]
    public void Run_with_an_infinite_score_is_a_located_error()
    {
        // Was: "1235E+38" parsed to +Infinity and was accepted.
        string path = _dir.File("run.txt");
        File.WriteAllText(path, "q1 Q0 d1 1 2.5 splade\nq1 Q0 d7 2 1235E+38 splade\n");
        var e = Assert.Throws<InvalidDataException>(() => TrecFiles.ReadRun(path));
        Assert.StartsWith(path + ":2: ", e.Message);
        File.WriteAllText(path, "q1 Q0 d1 1 NaN splade\n");
        Assert.StartsWith(path + ":1: ", Assert.Throws<InvalidDataException>(() => TrecFiles.ReadRun(path)).Message);
    }

    [Fact]
    public void Beir_line_with_a_lone_surrogate_escape_is_a_located_error()
    {
        string path = _dir.File("corpus.jsonl");
        File.WriteAllText(path, "{\"_id\": \"1\", \"text\": \"ok\"}\n{\"_id\": \"2\", \"text\": \"\\ud800\"}\n");
        var e = Assert.Throws<InvalidDataException>(() => IrDataset.ReadJsonLines(path).ToList());
        Assert.StartsWith(path + ":2: ", e.Message);
    }

    // ---- index files -------------------------------------------------------------------------

    private string SmallIndex()
    {
        string dir = Path.Combine(_dir.Path, "index-" + Guid.NewGuid().ToString("N")[..8]);
        var docs = new SyntheticSparseData(5, 200).Documents(10, 12, "d").ToList();
        using var index = InvertedIndex.Create(dir, 200);
        index.Upsert(docs);
        index.Commit();
        return dir;
    }

    /// <summary>Rewrites a segment with a consistent footer and manifest checksum, as a faulty writer would.</summary>
    private static void RewriteSegment(string dir, Action<byte[]> edit)
    {
        var manifest = Manifest.Read(dir);
        var entry = manifest.Segments[0];
        string path = Path.Combine(dir, entry.File);
        byte[] bytes = File.ReadAllBytes(path);
        edit(bytes);
        uint crc = Crc32C.Compute(bytes.AsSpan(0, bytes.Length - 8));
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(bytes.Length - 8), crc);
        File.WriteAllBytes(path, bytes);
        File.WriteAllBytes(Path.Combine(dir, Manifest.FileName), (manifest with { Segments = [entry with { Crc = crc }] }).Serialize());
    }

    [Fact]
    public void Segment_with_an_out_of_range_doc_ordinal_is_refused_on_open()
    {
        // Was: opened, then ExportDocuments threw IndexOutOfRangeException.
        string dir = SmallIndex();
        RewriteSegment(dir, bytes =>
        {
            long postDocs = BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(SegmentFormat.OffPostDocs));
            BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan((int)postDocs), -2);
        });
        var e = Assert.Throws<InvalidDataException>(() => InvertedIndex.Open(dir, new InvertedIndexOptions { ReadOnly = true }));
        Assert.Contains(dir, e.Message);
    }

    [Fact]
    public void Segment_with_a_section_offset_near_long_max_is_refused_on_open()
    {
        // Was: offset + length overflowed, the range check passed, and the read hit unmapped memory.
        string dir = SmallIndex();
        RewriteSegment(dir, bytes => BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(SegmentFormat.OffTermOffsets), long.MaxValue));
        var e = Assert.Throws<InvalidDataException>(() => InvertedIndex.Open(dir, new InvertedIndexOptions { ReadOnly = true }));
        Assert.Contains("outside the file", e.Message);
    }

    [Theory]
    [InlineData("\"file\": \"seg_00000001.seg\"", "\"file\": 5")]
    [InlineData("\"file\": \"seg_00000001.seg\"", "\"file\": \"../seg_00000001.seg\"")]
    [InlineData("\"segments\": [", "\"segments\": null, \"x\": [")]
    public void Manifest_with_a_valid_checksum_but_malformed_json_names_the_file(string find, string replace)
    {
        // Was: JsonException (wrong type), or an escape from the index folder / NullReferenceException.
        string dir = SmallIndex(), path = Path.Combine(dir, Manifest.FileName);
        byte[] bytes = File.ReadAllBytes(path);
        int nl = Array.IndexOf(bytes, (byte)'\n');
        string json = Encoding.UTF8.GetString(bytes, nl + 1, bytes.Length - nl - 1);
        Assert.Contains(find, json);
        byte[] edited = Encoding.UTF8.GetBytes(json.Replace(find, replace));
        File.WriteAllBytes(path, [.. Encoding.ASCII.GetBytes($"SPLADE-INDEX-MANIFEST 1 crc32c={Crc32C.Compute(edited):x8} bytes={edited.Length}\n"), .. edited]);
        var e = Assert.Throws<InvalidDataException>(() => InvertedIndex.Open(dir, new InvertedIndexOptions { ReadOnly = true }));
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void Manifest_header_with_a_repeated_field_names_the_file()
    {
        // Was: ArgumentException ("An item with the same key has already been added. Key: crc32c").
        string dir = SmallIndex(), path = Path.Combine(dir, Manifest.FileName);
        byte[] bytes = File.ReadAllBytes(path);
        int at = Array.IndexOf(bytes, (byte)'c');
        File.WriteAllBytes(path, [.. bytes.AsSpan(0, at), .. "crc32c=0 "u8.ToArray(), .. bytes.AsSpan(at)]);
        var e = Assert.Throws<InvalidDataException>(() => InvertedIndex.Open(dir, new InvertedIndexOptions { ReadOnly = true }));
        Assert.Contains(path, e.Message);
    }

    // ---- lexical baseline files ---------------------------------------------------------------

    [Theory]
    // Was: IndexOutOfRangeException (term outside the dimension).
    [InlineData("{\"dimension\":4,\"documents\":2,\"average_length\":1.5,\"df_terms\":[999],\"df_counts\":[1]}")]
    // Was: accepted; a df above N gives a negative idf.
    [InlineData("{\"dimension\":4,\"documents\":2,\"average_length\":1.5,\"df_terms\":[1],\"df_counts\":[7]}")]
    // Was: JsonException.
    [InlineData("{\"dimension\":\"4\",\"documents\":2,\"average_length\":1.5,\"df_terms\":[],\"df_counts\":[]}")]
    // Was: NullReferenceException.
    [InlineData("{\"dimension\":4,\"documents\":2,\"average_length\":1.5}")]
    // Was: OverflowException (negative array size).
    [InlineData("{\"dimension\":-1,\"documents\":2,\"average_length\":1.5,\"df_terms\":[],\"df_counts\":[]}")]
    public void Malformed_bm25_statistics_name_the_file(string json)
    {
        string path = _dir.File("bm25.json");
        File.WriteAllText(path, json);
        Assert.Contains(path, Assert.Throws<InvalidDataException>(() => Bm25Statistics.Load(path)).Message);
    }

    [Theory]
    [InlineData("[\"a\", null]")] // Was: ArgumentNullException.
    [InlineData("[\"a\", 5]")]    // Was: JsonException.
    public void Malformed_term_vocabulary_names_the_file(string json)
    {
        string path = _dir.File("vocab.json");
        File.WriteAllText(path, json);
        Assert.Contains(path, Assert.Throws<InvalidDataException>(() => TermVocabulary.Load(path)).Message);
    }

    // ---- server ------------------------------------------------------------------------------

    [Fact]
    public async Task Lone_surrogate_escapes_in_a_request_are_a_400_not_a_500()
    {
        // Was: 500 {"error":"InvalidOperationException: Cannot read incomplete UTF-16 JSON text ..."}.
        await using var h = await ServerHarness.StartAsync();
        foreach (string body in new[] { "{\"inputs\": [\"first\"], \"role\": \"\\ud800\"}", "{\"inputs\": \"a\\udc00\"}", "{\"\\ud800\": 1, \"inputs\": \"a\"}" })
        {
            var content = new ByteArrayContent(Encoding.UTF8.GetBytes(body));
            content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            string error = await ServerHarness.AssertError(await h.Client.PostAsync("/embed_sparse", content), 400, "Empty");
            Assert.Contains("surrogate", error);
        }
        Assert.Equal(200, (int)(await h.PostAsync("/embed_sparse", new { inputs = "fine" })).StatusCode);
    }
}
