using System.Text.Json;

namespace Splade.Tokenization;

/// <summary>Everything a <see cref="BertTokenizer"/> is built from, read from the model files.</summary>
internal sealed record BertTokenizerParts(
    WordPieceModel Model,
    BertNormalizer Normalizer,
    IReadOnlyList<AddedToken> AddedTokens,
    TemplatePostProcessor PostProcessor,
    WordPieceDecoder Decoder,
    int? ModelMaxLength,
    SpecialTokenNames Names,
    bool CleanUpTokenizationSpaces = false);

/// <summary>Names of the special tokens (tokenizer_config.json <c>cls_token</c> etc.).</summary>
/// <param name="Cls">Classification token.</param>
/// <param name="Sep">Separator token.</param>
/// <param name="Pad">Padding token.</param>
/// <param name="Unk">Unknown-word token.</param>
/// <param name="Mask">Mask token.</param>
/// <param name="Source">The file that named them (tokenizer_config.json), null for the defaults.</param>
internal sealed record SpecialTokenNames(string Cls = "[CLS]", string Sep = "[SEP]", string Pad = "[PAD]", string Unk = "[UNK]", string Mask = "[MASK]", string? Source = null)
{
    public IEnumerable<string> All => [Pad, Unk, Cls, Sep, Mask];
}

/// <summary>Reads the Hugging Face tokenizer files: tokenizer_config.json and vocab.txt.</summary>
internal static class TokenizerFiles
{
    /// <summary>
    /// Reads tokenizer_config.json into overrides, with the defaults of transformers'
    /// <c>BertTokenizerFast.__init__</c> for keys it lacks (do_lower_case true, strip_accents null,
    /// tokenize_chinese_chars true): that constructor always re-applies these three to the normalizer.
    /// </summary>
    public static (BertTokenizerOptions Options, SpecialTokenNames Names) ReadTokenizerConfig(string path)
    {
        using var doc = Json.Parse(path);
        var root = doc.RootElement;
        if (root.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"{path}: expected a JSON object at the top level.");
        bool lower = Json.GetBool(root, "do_lower_case", path) ?? true;
        AccentStripping strip = Json.GetBool(root, "strip_accents", path) switch
        {
            null => AccentStripping.FollowLowerCase,
            true => AccentStripping.Strip,
            false => AccentStripping.Keep,
        };
        bool chinese = Json.GetBool(root, "tokenize_chinese_chars", path) ?? true;
        int? maxLength = null;
        if (root.TryGetProperty("model_max_length", out var m) && m.ValueKind == JsonValueKind.Number)
        {
            // transformers writes 1e30 (VERY_LARGE_INTEGER) for "no limit".
            double v = m.GetDouble();
            if (v >= 1 && v <= int.MaxValue) maxLength = (int)v;
        }
        var names = new SpecialTokenNames(
            TokenName(root, "cls_token", path) ?? "[CLS]", TokenName(root, "sep_token", path) ?? "[SEP]",
            TokenName(root, "pad_token", path) ?? "[PAD]", TokenName(root, "unk_token", path) ?? "[UNK]",
            TokenName(root, "mask_token", path) ?? "[MASK]", path);
        bool? cleanup = Json.GetBool(root, "clean_up_tokenization_spaces", path);
        var options = new BertTokenizerOptions
        {
            DoLowerCase = lower, StripAccents = strip, TokenizeChineseChars = chinese, ModelMaxLength = maxLength, CleanUpTokenizationSpaces = cleanup,
        };
        return (options, names);
    }

    /// <summary>A special token entry: a string, or an object with "content" (AddedToken serialization).</summary>
    private static string? TokenName(JsonElement root, string key, string path)
    {
        if (!root.TryGetProperty(key, out var e) || e.ValueKind == JsonValueKind.Null) return null;
        if (e.ValueKind == JsonValueKind.String) return e.GetString();
        if (e.ValueKind == JsonValueKind.Object && e.TryGetProperty("content", out var c) && c.ValueKind == JsonValueKind.String) return c.GetString();
        throw new InvalidDataException($"{path}: '{key}' must be a string or an object with 'content', found {e.ValueKind}.");
    }

    /// <summary>Parts of a tokenizer defined by a vocab.txt alone, as transformers' BertTokenizerFast builds them.</summary>
    public static BertTokenizerParts FromVocabFile(string path, BertTokenizerOptions? options, SpecialTokenNames? names = null)
    {
        names ??= new SpecialTokenNames();
        var map = BertVocabulary.ReadVocabFile(path);
        var vocab = new BertVocabulary(map, "##", path);
        var model = new WordPieceModel(vocab, names.Unk, options?.MaxInputCharsPerWord ?? 100,
            names.Source is null ? path : $"{path} (special token names from {names.Source})");
        var added = new List<AddedToken>();
        foreach (var name in names.All.Distinct())
        {
            if (!vocab.TryGetId(name, out int id))
                throw new InvalidDataException($"{path}: the special token '{name}'{(names.Source is null ? "" : $" (named in {names.Source})")} is not in the vocabulary.");
            added.Add(new AddedToken(id, name, false, false, false, false, true));
        }
        vocab.TryGetId(names.Cls, out int cls);
        vocab.TryGetId(names.Sep, out int sep);
        return new BertTokenizerParts(model, MakeNormalizer(options, null), added, TemplatePostProcessor.Bert(cls, sep),
            new WordPieceDecoder("##", cleanup: true), options?.ModelMaxLength, names, options?.CleanUpTokenizationSpaces ?? false);
    }

    /// <summary>
    /// The normalizer from a tokenizer.json's settings (<paramref name="fromJson"/>, may be null)
    /// with <paramref name="overrides"/> applied on top.
    /// </summary>
    public static BertNormalizer MakeNormalizer(BertTokenizerOptions? overrides, BertTokenizerOptions? fromJson)
    {
        bool lower = overrides?.DoLowerCase ?? fromJson?.DoLowerCase ?? true;
        var strip = overrides?.StripAccents ?? fromJson?.StripAccents ?? AccentStripping.FollowLowerCase;
        bool chinese = overrides?.TokenizeChineseChars ?? fromJson?.TokenizeChineseChars ?? true;
        bool clean = overrides?.CleanText ?? fromJson?.CleanText ?? true;
        bool stripOn = strip switch { AccentStripping.Strip => true, AccentStripping.Keep => false, _ => lower };
        return new BertNormalizer(clean, chinese, stripOn, lower);
    }
}

/// <summary>Small JSON helpers that turn every format problem into an <see cref="InvalidDataException"/> naming the file.</summary>
internal static class Json
{
    public static JsonDocument Parse(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"File not found: {path}", path);
        byte[] bytes = File.ReadAllBytes(path);
        // JsonDocument checks UTF-8 and surrogate escapes only when a string is read, which would
        // surface as an InvalidOperationException far from the file: check both up front.
        if (!System.Text.Unicode.Utf8.IsValid(bytes)) throw new InvalidDataException($"{path}: not valid UTF-8.");
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(bytes, new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip, MaxDepth = 256 });
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: not valid JSON ({e.Message}).", e);
        }
        if (JsonText.FindLoneSurrogate(bytes, doc.RootElement) is { } where)
        {
            doc.Dispose();
            throw new InvalidDataException($"{path}: the string at {where} holds an escaped lone surrogate (\\uD800-\\uDFFF without its pair).");
        }
        return doc;
    }

    private static void RequireObject(JsonElement obj, string key, string path)
    {
        if (obj.ValueKind != JsonValueKind.Object)
            throw new InvalidDataException($"{path}: expected an object holding '{key}', found {obj.ValueKind} {Clip(obj.GetRawText())}.");
    }

    private static string Clip(string s) => s.Length > 80 ? s[..80] + "..." : s;

    public static bool? GetBool(JsonElement obj, string key, string path)
    {
        RequireObject(obj, key, path);
        if (!obj.TryGetProperty(key, out var e) || e.ValueKind == JsonValueKind.Null) return null;
        return e.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw new InvalidDataException($"{path}: '{key}' must be true, false or null, found {e.ValueKind}."),
        };
    }

    public static string? GetString(JsonElement obj, string key, string path)
    {
        RequireObject(obj, key, path);
        if (!obj.TryGetProperty(key, out var e) || e.ValueKind == JsonValueKind.Null) return null;
        if (e.ValueKind != JsonValueKind.String) throw new InvalidDataException($"{path}: '{key}' must be a string, found {e.ValueKind}.");
        return e.GetString();
    }

    public static int? GetInt(JsonElement obj, string key, string path)
    {
        RequireObject(obj, key, path);
        if (!obj.TryGetProperty(key, out var e) || e.ValueKind == JsonValueKind.Null) return null;
        if (e.ValueKind != JsonValueKind.Number || !e.TryGetInt32(out int v))
            throw new InvalidDataException($"{path}: '{key}' must be an integer, found {e.ValueKind} {e.GetRawText()}.");
        return v;
    }
}
