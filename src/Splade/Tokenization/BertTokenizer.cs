namespace Splade.Tokenization;

/// <summary>
/// A BERT WordPiece tokenizer that reproduces Hugging Face <c>tokenizers</c> (BertTokenizerFast):
/// added/special tokens matched in the raw text, BertNormalizer, BertPreTokenizer, WordPiece,
/// TemplateProcessing, truncation and the WordPiece decoder. Immutable and thread-safe.
/// </summary>
/// <remarks>
/// Input is a .NET string; a lone surrogate (which has no UTF-8 form, so cannot reach the reference)
/// is read as U+FFFD, which clean_text removes. Offsets are UTF-16 string indices.
/// </remarks>
public sealed partial class BertTokenizer
{
    private readonly WordPieceModel _model;
    private readonly BertNormalizer _normalizer;
    private readonly AddedTokenMatcher _rawMatcher;        // added tokens with normalized = false
    private readonly AddedTokenMatcher _normalizedMatcher; // added tokens with normalized = true
    private readonly TemplatePostProcessor _post;
    private readonly WordPieceDecoder _decoder;
    private readonly Dictionary<string, int> _addedByContent;
    private readonly Dictionary<int, AddedToken> _addedById;
    private readonly HashSet<int> _specialIds;
    private readonly bool _cleanUpTokenizationSpaces;

    [ThreadStatic] private static Workspace? t_workspace;

    private BertTokenizer(BertTokenizerParts parts, string source)
    {
        _model = parts.Model;
        _normalizer = parts.Normalizer;
        _post = parts.PostProcessor;
        _decoder = parts.Decoder;
        ModelMaxLength = parts.ModelMaxLength;
        _cleanUpTokenizationSpaces = parts.CleanUpTokenizationSpaces;
        var added = parts.AddedTokens;
        _addedByContent = new Dictionary<string, int>(StringComparer.Ordinal);
        _addedById = new Dictionary<int, AddedToken>();
        _specialIds = new HashSet<int>();
        foreach (var t in added)
        {
            _addedByContent[t.Content] = t.Id;
            _addedById[t.Id] = t;
            if (t.Special) _specialIds.Add(t.Id);
        }
        // The reference builds its raw matcher from special tokens first, then the others, in file order.
        var ordered = added.Where(t => t.Special).Concat(added.Where(t => !t.Special)).ToList();
        var raw = ordered.Where(t => !t.Normalized).ToList();
        _rawMatcher = new AddedTokenMatcher(raw, raw.Select(t => t.Content).ToList());
        var norm = ordered.Where(t => t.Normalized).ToList();
        _normalizedMatcher = new AddedTokenMatcher(norm, norm.Select(t => NormalizeWhole(t.Content)).ToList());

        VocabSize = Math.Max(_model.Vocabulary.IdLimit, added.Count == 0 ? 0 : added.Max(t => t.Id) + 1);
        var names = parts.Names;
        ClsTokenId = RequireId(names.Cls, source, names.Source);
        SepTokenId = RequireId(names.Sep, source, names.Source);
        PadTokenId = RequireId(names.Pad, source, names.Source);
        UnkTokenId = RequireId(names.Unk, source, names.Source);
        MaskTokenId = RequireId(names.Mask, source, names.Source);
        // Template ids are emitted by every Encode: an unknown one must fail here, not at encode time.
        foreach (var part in _post.Single.Concat(_post.Pair))
            foreach (int id in part.SpecialIds)
                if (!_addedById.ContainsKey(id) && _model.Vocabulary.GetToken(id) is null)
                    throw new InvalidDataException($"{source}: the post-processor template uses token id {id}, which is neither an added token nor in the vocabulary.");
    }

    private int RequireId(string token, string source, string? namedIn)
        => TokenToId(token) ?? throw new InvalidDataException(
            $"{source}: the special token '{token}'{(namedIn is null ? "" : $" (named in {namedIn})")} is neither an added token nor in the vocabulary.");

    /// <summary>
    /// Loads the tokenizer of a model folder: <c>tokenizer.json</c> with the settings of
    /// <c>tokenizer_config.json</c> (when present) applied on top, else <c>vocab.txt</c>.
    /// </summary>
    public static BertTokenizer FromFolder(string folder)
    {
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"Tokenizer folder not found: {folder}");
        string json = Path.Combine(folder, "tokenizer.json");
        string config = Path.Combine(folder, "tokenizer_config.json");
        string vocab = Path.Combine(folder, "vocab.txt");
        BertTokenizerOptions? options = null;
        SpecialTokenNames? names = null;
        if (File.Exists(config)) (options, names) = TokenizerFiles.ReadTokenizerConfig(config);
        if (File.Exists(json)) return new BertTokenizer(TokenizerJsonReader.Read(json, options, names), json);
        if (File.Exists(vocab)) return new BertTokenizer(TokenizerFiles.FromVocabFile(vocab, options, names), vocab);
        throw new FileNotFoundException($"{folder}: neither tokenizer.json nor vocab.txt is present.", json);
    }

    /// <summary>Loads a <c>tokenizer.json</c>; non-null properties of <paramref name="overrides"/> replace its settings.</summary>
    public static BertTokenizer FromTokenizerJson(string path, BertTokenizerOptions? overrides = null)
        => new(TokenizerJsonReader.Read(path, overrides, null), path);

    /// <summary>
    /// Builds the tokenizer transformers makes from a <c>vocab.txt</c> (id = 0-based line number):
    /// BertNormalizer, BertPreTokenizer, WordPiece, [CLS]/[SEP] template; defaults lower-case on,
    /// accents stripped when lower-casing, CJK split.
    /// </summary>
    public static BertTokenizer FromVocabFile(string path, BertTokenizerOptions? options = null)
        => new(TokenizerFiles.FromVocabFile(path, options), path);

    /// <summary>Number of ids: the model vocabulary plus added tokens outside it.</summary>
    public int VocabSize { get; }

    public int ClsTokenId { get; }
    public int SepTokenId { get; }
    public int PadTokenId { get; }
    public int UnkTokenId { get; }
    public int MaskTokenId { get; }

    /// <summary><c>model_max_length</c> of tokenizer_config.json, when it gives a real limit.</summary>
    public int? ModelMaxLength { get; }

    /// <summary>The token string of an id (vocabulary entry or added token).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The id is not in the vocabulary.</exception>
    public string IdToToken(int id)
    {
        if (_addedById.TryGetValue(id, out var added)) return added.Content;
        return _model.Vocabulary.GetToken(id)
            ?? throw new ArgumentOutOfRangeException(nameof(id), id, $"Token id {id} is not in the vocabulary (size {VocabSize}).");
    }

    /// <summary>The id of a token string (added tokens first, then the vocabulary), or null.</summary>
    public int? TokenToId(string token)
    {
        if (_addedByContent.TryGetValue(token, out int id)) return id;
        return _model.Vocabulary.TryGetId(token, out id) ? id : null;
    }

    private string NormalizeWhole(string text)
    {
        var buffer = new NormalizedText();
        _normalizer.Normalize(text, 0, text.Length, buffer);
        return new string(buffer.Chars, 0, buffer.Length);
    }

    /// <summary>Per-thread scratch buffers, so that encoding allocates only its results.</summary>
    private sealed class Workspace
    {
        public readonly NormalizedText Normalized = new();
        public readonly List<(int Start, int End)> Words = new();
        public readonly List<(int Id, int Start, int End)> WordPieces = new();
        public readonly List<(AddedToken Token, int Start, int End)> Matches = new();
        public readonly List<(int Id, int Start, int End)> PiecesA = new();
        public readonly List<(int Id, int Start, int End)> PiecesB = new();
    }
}
