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
    public static ISparseTextEncoder Create(string modelSpec, int? threads)
    {
        ArgumentNullException.ThrowIfNull(modelSpec);
        if (modelSpec.Equals("bm25", StringComparison.OrdinalIgnoreCase)) return new CorpusBm25Encoder();
        return ModelLoading.Load(modelSpec, threads, Console.Error);
    }
}

/// <summary>
/// BM25 (k1 = 1.2, b = 0.75, Lucene idf) over lowercase alphanumeric words, the vocabulary and
/// statistics fitted on the corpus and stored as bm25-vocab.json and bm25-stats.json.
/// </summary>
internal sealed class CorpusBm25Encoder : ICorpusFittedEncoder
{
    private const string VocabFile = "bm25-vocab.json", StatsFile = "bm25-stats.json";
    private TermVocabulary? _vocabulary;
    private Bm25Encoder? _encoder;

    public bool IsFitted => _encoder is not null;

    public int Dimension => Encoder.Dimension;

    private Bm25Encoder Encoder => _encoder ?? throw new InvalidOperationException("BM25 must be fitted on a corpus first.");

    public void Fit(IEnumerable<string> corpusTexts)
    {
        var texts = corpusTexts as IReadOnlyCollection<string> ?? corpusTexts.ToList();
        _vocabulary = TermVocabulary.Build(texts);
        // Dimension at least 1 so that an empty corpus still makes a valid (empty) index.
        _encoder = Bm25Encoder.Fit(texts, _vocabulary.Tokenize, Math.Max(1, _vocabulary.Count));
    }

    public void Save(string folder)
    {
        Directory.CreateDirectory(folder);
        _vocabulary!.Save(Path.Combine(folder, VocabFile));
        Encoder.Statistics.Save(Path.Combine(folder, StatsFile));
    }

    public bool TryLoad(string folder)
    {
        string vocab = Path.Combine(folder, VocabFile), stats = Path.Combine(folder, StatsFile);
        if (!File.Exists(vocab) || !File.Exists(stats)) return false;
        _vocabulary = TermVocabulary.Load(vocab);
        _encoder = new Bm25Encoder(Bm25Statistics.Load(stats), _vocabulary.Tokenize);
        return true;
    }

    public IReadOnlyList<SparseVector> EncodeQueries(IReadOnlyList<string> texts, CancellationToken cancellationToken = default) => Encoder.EncodeQueries(texts, cancellationToken);

    public IReadOnlyList<SparseVector> EncodeDocuments(IReadOnlyList<string> texts, CancellationToken cancellationToken = default) => Encoder.EncodeDocuments(texts, cancellationToken);
}
