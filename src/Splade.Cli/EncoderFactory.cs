using Splade.Search;
using Splade.Sparse;

namespace Splade.Cli;

/// <summary>
/// An encoder that must see the corpus before it can encode (BM25): the index and eval verbs fit it
/// on the corpus and keep its statistics in the index folder so that search can load them.
/// </summary>
internal interface ICorpusFittedEncoder : ISparseTextEncoder
{
    bool IsFitted { get; }
    void Fit(IEnumerable<string> corpusTexts);
    void Save(string folder);
    bool TryLoad(string folder);
}

/// <summary>Turns a `--model` value into a text encoder.</summary>
internal static class EncoderFactory
{
    /// <summary>"bm25" gives a BM25 encoder to fit on the corpus; anything else is a SPLADE model folder or Hub id.</summary>
    public static ISparseTextEncoder Create(string modelSpec, int? threads, Splade.Models.EncodePrecision precision = Splade.Models.EncodePrecision.Float32, string device = "cpu")
    {
        ArgumentNullException.ThrowIfNull(modelSpec);
        if (modelSpec.Equals("bm25", StringComparison.OrdinalIgnoreCase) || modelSpec.StartsWith("bm25?", StringComparison.OrdinalIgnoreCase))
            return CorpusBm25Encoder.FromSpec(modelSpec);
        return ModelLoading.Load(modelSpec, threads, Console.Error, precision: precision, device: device);
    }
}

/// <summary>
/// BM25 (Lucene idf; k1 = 1.2, b = 0.75 unless given) fitted on the corpus, its statistics stored as
/// bm25-stats.json. Terms are lowercase alphanumeric words (vocabulary in bm25-vocab.json) or, with
/// <c>tokenizer=MODEL</c>, the WordPiece ids of that model's tokenizer, so BM25 and SPLADE share one
/// vocabulary. Spec: <c>bm25</c> or <c>bm25?k1=0.9&amp;b=0.4&amp;tokenizer=owner/name</c>.
/// </summary>
internal sealed class CorpusBm25Encoder : ICorpusFittedEncoder
{
    private const string VocabFile = "bm25-vocab.json", StatsFile = "bm25-stats.json";
    private TermVocabulary? _vocabulary;
    private Bm25Encoder? _encoder;
    private double _k1 = 1.2, _b = 0.75;
    private Splade.Tokenization.BertTokenizer? _tokenizer;

    public static CorpusBm25Encoder FromSpec(string spec)
    {
        var encoder = new CorpusBm25Encoder();
        int q = spec.IndexOf('?');
        if (q < 0) return encoder;
        foreach (string part in spec[(q + 1)..].Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            int eq = part.IndexOf('=');
            string key = eq < 0 ? part : part[..eq], value = eq < 0 ? "" : Uri.UnescapeDataString(part[(eq + 1)..]);
            switch (key)
            {
                case "k1": encoder._k1 = ParsePositive(key, value); break;
                case "b":
                    encoder._b = ParsePositive(key, value, allowZero: true);
                    if (encoder._b > 1) throw new CliException($"bm25: b must be in [0, 1], got {value}.");
                    break;
                case "tokenizer":
                    string folder = Splade.Hub.ModelLocator.Resolve(value);
                    // A model folder may keep its tokenizer in a module folder (Router models).
                    string tokenizerDir = File.Exists(Path.Combine(folder, "modules.json")) ? Splade.Models.ModelFolder.Load(folder).TokenizerDirectory : folder;
                    encoder._tokenizer = Splade.Tokenization.BertTokenizer.FromFolder(tokenizerDir);
                    break;
                default: throw new CliException($"bm25: unknown setting '{key}' (expected k1, b, tokenizer).");
            }
        }
        return encoder;
    }

    private static double ParsePositive(string key, string value, bool allowZero = false)
    {
        if (!double.TryParse(value, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double v) || !double.IsFinite(v) || v < 0 || (!allowZero && v == 0))
            throw new CliException($"bm25: {key} must be a {(allowZero ? "non-negative" : "positive")} number, got '{value}'.");
        return v;
    }

    private IReadOnlyList<int> WordPieceIds(string text) => _tokenizer!.Encode(text, int.MaxValue, addSpecialTokens: false).Ids;

    public bool IsFitted => _encoder is not null;

    public int Dimension => Encoder.Dimension;

    private Bm25Encoder Encoder => _encoder ?? throw new InvalidOperationException("BM25 must be fitted on a corpus first.");

    public void Fit(IEnumerable<string> corpusTexts)
    {
        var texts = corpusTexts as IReadOnlyCollection<string> ?? corpusTexts.ToList();
        if (_tokenizer is not null)
        {
            _encoder = Bm25Encoder.Fit(texts, WordPieceIds, _tokenizer.VocabSize, _k1, _b);
            return;
        }
        _vocabulary = TermVocabulary.Build(texts);
        // Dimension at least 1 so that an empty corpus still makes a valid (empty) index.
        _encoder = Bm25Encoder.Fit(texts, _vocabulary.Tokenize, Math.Max(1, _vocabulary.Count), _k1, _b);
    }

    public void Save(string folder)
    {
        Directory.CreateDirectory(folder);
        _vocabulary?.Save(Path.Combine(folder, VocabFile));
        Encoder.Statistics.Save(Path.Combine(folder, StatsFile));
    }

    public bool TryLoad(string folder)
    {
        string vocab = Path.Combine(folder, VocabFile), stats = Path.Combine(folder, StatsFile);
        if (_tokenizer is not null)
        {
            if (!File.Exists(stats)) return false;
            _encoder = new Bm25Encoder(Bm25Statistics.Load(stats), WordPieceIds, _k1, _b);
            return true;
        }
        if (!File.Exists(vocab) || !File.Exists(stats)) return false;
        _vocabulary = TermVocabulary.Load(vocab);
        _encoder = new Bm25Encoder(Bm25Statistics.Load(stats), _vocabulary.Tokenize, _k1, _b);
        return true;
    }

    public IReadOnlyList<SparseVector> EncodeQueries(IReadOnlyList<string> texts, CancellationToken cancellationToken = default) => Encoder.EncodeQueries(texts, cancellationToken);

    public IReadOnlyList<SparseVector> EncodeDocuments(IReadOnlyList<string> texts, CancellationToken cancellationToken = default) => Encoder.EncodeDocuments(texts, cancellationToken);
}
