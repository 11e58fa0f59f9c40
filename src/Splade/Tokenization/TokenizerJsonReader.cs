using System.Text.Json;

namespace Splade.Tokenization;

/// <summary>
/// Reads a Hugging Face <c>tokenizer.json</c> that describes a BERT WordPiece tokenizer:
/// model WordPiece (old files lack <c>model.type</c>: WordPiece is assumed), normalizer
/// BertNormalizer (or none), pre-tokenizer BertPreTokenizer, post-processor TemplateProcessing or
/// BertProcessing (or none), decoder WordPiece (or none), and <c>added_tokens</c>.
/// </summary>
internal static class TokenizerJsonReader
{
    public static BertTokenizerParts Read(string path, BertTokenizerOptions? overrides, SpecialTokenNames? names)
    {
        names ??= new SpecialTokenNames();
        using var doc = Json.Parse(path);
        var root = doc.RootElement;
        if (root.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"{path}: expected a JSON object at the top level.");

        // model
        if (!root.TryGetProperty("model", out var model) || model.ValueKind != JsonValueKind.Object)
            throw new InvalidDataException($"{path}: missing 'model' object.");
        string type = Json.GetString(model, "type", path) ?? "WordPiece";
        if (type != "WordPiece") throw new InvalidDataException($"{path}: model type '{type}' is not supported (expected WordPiece).");
        if (!model.TryGetProperty("vocab", out var vocabElement) || vocabElement.ValueKind != JsonValueKind.Object)
            throw new InvalidDataException($"{path}: missing 'model.vocab' object (token -> id).");
        var map = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var entry in vocabElement.EnumerateObject())
        {
            if (entry.Value.ValueKind != JsonValueKind.Number || !entry.Value.TryGetInt32(out int id) || id < 0)
                throw new InvalidDataException($"{path}: model.vocab['{entry.Name}'] must be a non-negative integer id, found {entry.Value.GetRawText()}.");
            map[entry.Name] = id;
        }
        string prefix = Json.GetString(model, "continuing_subword_prefix", path) ?? "##";
        string unk = Json.GetString(model, "unk_token", path) ?? "[UNK]";
        int maxChars = overrides?.MaxInputCharsPerWord ?? Json.GetInt(model, "max_input_chars_per_word", path) ?? 100;
        var vocab = new BertVocabulary(map, prefix, path + " (model.vocab)");
        var wordPiece = new WordPieceModel(vocab, unk, maxChars, path);

        var normalizer = TokenizerFiles.MakeNormalizer(overrides, ReadNormalizer(root, path));
        ReadPreTokenizer(root, path);
        var added = ReadAddedTokens(root, path, vocab);
        var post = ReadPostProcessor(root, path, vocab, added);
        var decoder = ReadDecoder(root, path);
        return new BertTokenizerParts(wordPiece, normalizer, added, post, decoder, overrides?.ModelMaxLength, names,
            overrides?.CleanUpTokenizationSpaces ?? false);
    }

    private static BertTokenizerOptions ReadNormalizer(JsonElement root, string path)
    {
        if (!root.TryGetProperty("normalizer", out var n) || n.ValueKind == JsonValueKind.Null)
            return new BertTokenizerOptions { DoLowerCase = false, StripAccents = AccentStripping.Keep, TokenizeChineseChars = false, CleanText = false };
        string? type = n.ValueKind == JsonValueKind.Object ? Json.GetString(n, "type", path) : null;
        if (type != "BertNormalizer") throw new InvalidDataException($"{path}: normalizer '{type ?? n.ValueKind.ToString()}' is not supported (expected BertNormalizer or null).");
        return new BertTokenizerOptions
        {
            CleanText = Json.GetBool(n, "clean_text", path) ?? true,
            TokenizeChineseChars = Json.GetBool(n, "handle_chinese_chars", path) ?? true,
            StripAccents = Json.GetBool(n, "strip_accents", path) switch { null => AccentStripping.FollowLowerCase, true => AccentStripping.Strip, false => AccentStripping.Keep },
            DoLowerCase = Json.GetBool(n, "lowercase", path) ?? true,
        };
    }

    private static void ReadPreTokenizer(JsonElement root, string path)
    {
        if (!root.TryGetProperty("pre_tokenizer", out var p) || p.ValueKind != JsonValueKind.Object || Json.GetString(p, "type", path) != "BertPreTokenizer")
            throw new InvalidDataException($"{path}: pre_tokenizer must be BertPreTokenizer.");
    }

    private static List<AddedToken> ReadAddedTokens(JsonElement root, string path, BertVocabulary vocab)
    {
        var list = new List<AddedToken>();
        if (!root.TryGetProperty("added_tokens", out var arr) || arr.ValueKind == JsonValueKind.Null) return list;
        if (arr.ValueKind != JsonValueKind.Array) throw new InvalidDataException($"{path}: 'added_tokens' must be an array.");
        int index = 0;
        foreach (var t in arr.EnumerateArray())
        {
            string where = $"{path}: added_tokens[{index++}]";
            if (t.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"{where} must be an object.");
            string content = Json.GetString(t, "content", where) ?? throw new InvalidDataException($"{where} has no 'content'.");
            bool special = Json.GetBool(t, "special", where) ?? false;
            int id = Json.GetInt(t, "id", where) ?? (vocab.TryGetId(content, out int v) ? v : throw new InvalidDataException($"{where} has no 'id'."));
            if (id < 0) throw new InvalidDataException($"{where} has a negative id {id}.");
            // The model's own id wins when the content is in the vocabulary (AddedVocabulary::add_tokens).
            if (vocab.TryGetId(content, out int modelId)) id = modelId;
            list.Add(new AddedToken(id, content,
                Json.GetBool(t, "single_word", where) ?? false, Json.GetBool(t, "lstrip", where) ?? false,
                Json.GetBool(t, "rstrip", where) ?? false, Json.GetBool(t, "normalized", where) ?? !special, special));
        }
        return list;
    }

    private static TemplatePostProcessor ReadPostProcessor(JsonElement root, string path, BertVocabulary vocab, List<AddedToken> added)
    {
        if (!root.TryGetProperty("post_processor", out var p) || p.ValueKind == JsonValueKind.Null) return TemplatePostProcessor.None;
        string? type = p.ValueKind == JsonValueKind.Object ? Json.GetString(p, "type", path) : null;
        if (type == "BertProcessing")
        {
            int cls = SpecialPairId(p, "cls", path), sep = SpecialPairId(p, "sep", path);
            return TemplatePostProcessor.Bert(cls, sep);
        }
        if (type != "TemplateProcessing") throw new InvalidDataException($"{path}: post_processor '{type}' is not supported (expected TemplateProcessing, BertProcessing or null).");
        var specials = new Dictionary<string, int[]>(StringComparer.Ordinal);
        if (p.TryGetProperty("special_tokens", out var st) && st.ValueKind == JsonValueKind.Object)
        {
            foreach (var e in st.EnumerateObject())
            {
                if (e.Value.ValueKind != JsonValueKind.Object || !e.Value.TryGetProperty("ids", out var ids) || ids.ValueKind != JsonValueKind.Array)
                    throw new InvalidDataException($"{path}: post_processor.special_tokens['{e.Name}'] has no 'ids' array.");
                specials[e.Name] = ids.EnumerateArray().Select(x => x.ValueKind == JsonValueKind.Number && x.TryGetInt32(out int v) && v >= 0 ? v
                    : throw new InvalidDataException($"{path}: post_processor.special_tokens['{e.Name}'].ids must hold non-negative integers, found {x.GetRawText()}.")).ToArray();
            }
        }
        return new TemplatePostProcessor(ReadTemplate(p, "single", path, specials), ReadTemplate(p, "pair", path, specials));
    }

    private static int SpecialPairId(JsonElement p, string key, string path)
    {
        if (p.TryGetProperty(key, out var a) && a.ValueKind == JsonValueKind.Array && a.GetArrayLength() == 2
            && a[1].ValueKind == JsonValueKind.Number && a[1].TryGetInt32(out int id) && id >= 0) return id;
        throw new InvalidDataException($"{path}: post_processor.{key} must be [token, id].");
    }

    private static TemplatePostProcessor.Part[] ReadTemplate(JsonElement p, string key, string path, Dictionary<string, int[]> specials)
    {
        if (!p.TryGetProperty(key, out var arr) || arr.ValueKind != JsonValueKind.Array)
            throw new InvalidDataException($"{path}: post_processor.{key} must be an array.");
        var parts = new List<TemplatePostProcessor.Part>();
        foreach (var item in arr.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Object)
                throw new InvalidDataException($"{path}: post_processor.{key} item {item.GetRawText()} is neither SpecialToken nor Sequence.");
            if (item.TryGetProperty("SpecialToken", out var s))
            {
                string id = Json.GetString(s, "id", path) ?? throw new InvalidDataException($"{path}: post_processor.{key} SpecialToken without 'id'.");
                if (!specials.TryGetValue(id, out var ids)) throw new InvalidDataException($"{path}: post_processor.{key} uses '{id}', missing from special_tokens.");
                parts.Add(new(true, ids, false, Json.GetInt(s, "type_id", path) ?? 0));
            }
            else if (item.TryGetProperty("Sequence", out var q))
            {
                string id = Json.GetString(q, "id", path) ?? "A";
                if (id != "A" && id != "B") throw new InvalidDataException($"{path}: post_processor.{key} Sequence id '{id}' (expected A or B).");
                parts.Add(new(false, [], id == "B", Json.GetInt(q, "type_id", path) ?? 0));
            }
            else throw new InvalidDataException($"{path}: post_processor.{key} item {item.GetRawText()} is neither SpecialToken nor Sequence.");
        }
        return parts.ToArray();
    }

    private static WordPieceDecoder ReadDecoder(JsonElement root, string path)
    {
        if (!root.TryGetProperty("decoder", out var d) || d.ValueKind == JsonValueKind.Null) return new WordPieceDecoder("", false, joinWithSpaces: true);
        string? type = d.ValueKind == JsonValueKind.Object ? Json.GetString(d, "type", path) : null;
        if (type != "WordPiece") throw new InvalidDataException($"{path}: decoder '{type}' is not supported (expected WordPiece or null).");
        return new WordPieceDecoder(Json.GetString(d, "prefix", path) ?? "##", Json.GetBool(d, "cleanup", path) ?? true);
    }
}
