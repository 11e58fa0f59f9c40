using System.Text.Json;
using System.Text.Json.Serialization;
using Splade.Sparse;

namespace Splade.Search;

/// <summary>Corpus statistics BM25 needs: document count, mean length and per-term document frequency.</summary>
public sealed class Bm25Statistics
{
    /// <summary>Creates statistics (df is copied).</summary>
    public Bm25Statistics(int dimension, long documentCount, double averageLength, IReadOnlyList<int> documentFrequency)
    {
        if (documentFrequency.Count != dimension) throw new ArgumentException($"documentFrequency has {documentFrequency.Count} entries, dimension is {dimension}.");
        Dimension = dimension;
        DocumentCount = documentCount;
        AverageLength = averageLength;
        DocumentFrequency = documentFrequency.ToArray();
    }

    /// <summary>Number of term ids.</summary>
    public int Dimension { get; }

    /// <summary>N: documents in the corpus.</summary>
    public long DocumentCount { get; }

    /// <summary>avgdl: mean number of tokens per document.</summary>
    public double AverageLength { get; }

    /// <summary>df per term id.</summary>
    public IReadOnlyList<int> DocumentFrequency { get; }

    /// <summary>Counts the statistics of <paramref name="corpus"/>.</summary>
    public static Bm25Statistics Fit(IEnumerable<string> corpus, Func<string, IReadOnlyList<int>> tokenize, int dimension)
    {
        var df = new int[dimension];
        var seen = new HashSet<int>();
        long n = 0, tokens = 0;
        foreach (string text in corpus)
        {
            var ids = tokenize(text);
            seen.Clear();
            foreach (int id in ids)
            {
                if ((uint)id >= (uint)dimension) throw new ArgumentException($"Token id {id} is outside [0, {dimension}).");
                if (seen.Add(id)) df[id]++;
            }
            tokens += ids.Count;
            n++;
        }
        return new Bm25Statistics(dimension, n, n == 0 ? 0 : (double)tokens / n, df);
    }

    private sealed record Dto(
        [property: JsonPropertyName("dimension")] int Dimension,
        [property: JsonPropertyName("documents")] long Documents,
        [property: JsonPropertyName("average_length")] double AverageLength,
        [property: JsonPropertyName("df_terms")] int[] Terms,
        [property: JsonPropertyName("df_counts")] int[] Counts);

    /// <summary>Writes the statistics as JSON (df as parallel arrays of non-zero entries).</summary>
    public void Save(string path)
    {
        var terms = Enumerable.Range(0, Dimension).Where(t => DocumentFrequency[t] > 0).ToArray();
        File.WriteAllBytes(path, JsonSerializer.SerializeToUtf8Bytes(new Dto(Dimension, DocumentCount, AverageLength, terms, terms.Select(t => DocumentFrequency[t]).ToArray())));
    }

    /// <summary>Largest dimension a statistics file may declare (its df array is allocated up front).</summary>
    private const int MaxDimension = 1 << 26;

    /// <summary>Reads statistics written by <see cref="Save"/>.</summary>
    /// <exception cref="InvalidDataException">The file is malformed or inconsistent (the message names it).</exception>
    public static Bm25Statistics Load(string path)
    {
        Dto? read;
        try
        {
            read = JsonSerializer.Deserialize<Dto>(File.ReadAllBytes(path));
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            throw new InvalidDataException($"BM25 statistics '{path}' are malformed: {e.Message}", e);
        }
        var dto = read ?? throw new InvalidDataException($"BM25 statistics '{path}' are empty.");
        if (dto.Terms is null || dto.Counts is null) throw new InvalidDataException($"BM25 statistics '{path}' lack 'df_terms' or 'df_counts'.");
        if (dto.Terms.Length != dto.Counts.Length) throw new InvalidDataException($"BM25 statistics '{path}': {dto.Terms.Length} terms but {dto.Counts.Length} counts.");
        if (dto.Dimension <= 0 || dto.Dimension > MaxDimension || dto.Documents < 0 || !(dto.AverageLength >= 0) || !double.IsFinite(dto.AverageLength))
            throw new InvalidDataException($"BM25 statistics '{path}': dimension {dto.Dimension}, documents {dto.Documents} and average length {dto.AverageLength} are not all plausible.");
        var df = new int[dto.Dimension];
        for (int i = 0; i < dto.Terms.Length; i++)
        {
            // A df outside [0, N] would make the idf log(1 + (N - df + 0.5) / (df + 0.5)) negative or undefined.
            if ((uint)dto.Terms[i] >= (uint)dto.Dimension || dto.Counts[i] < 0 || dto.Counts[i] > dto.Documents)
                throw new InvalidDataException($"BM25 statistics '{path}': entry {i} gives term {dto.Terms[i]} (dimension {dto.Dimension}) a document frequency of {dto.Counts[i]} (documents {dto.Documents}).");
            df[dto.Terms[i]] = dto.Counts[i];
        }
        return new Bm25Statistics(dto.Dimension, dto.Documents, dto.AverageLength, df);
    }
}

/// <summary>
/// BM25 as a sparse "model": documents become vectors of BM25 term weights, queries vectors of
/// term counts, so that the dot product is the BM25 score
/// Σ_{t ∈ q} c(t, q) · idf(t) · tf / (tf + k1 · (1 − b + b · dl / avgdl)),
/// with Lucene's idf = ln(1 + (N − df + 0.5) / (df + 0.5)) (always positive) and without the
/// constant (k1 + 1) factor, as Lucene ≥ 8 (rank-equivalent). A query term repeated c times counts c
/// times, as repeated clauses do in a Lucene boolean query.
/// </summary>
public sealed class Bm25Encoder : ISparseTextEncoder
{
    private readonly Func<string, IReadOnlyList<int>> _tokenize;
    private readonly float[] _idf;   // [dimension]

    /// <summary>Creates an encoder over fitted statistics.</summary>
    public Bm25Encoder(Bm25Statistics statistics, Func<string, IReadOnlyList<int>> tokenize, double k1 = 1.2, double b = 0.75)
    {
        ArgumentNullException.ThrowIfNull(statistics);
        ArgumentNullException.ThrowIfNull(tokenize);
        if (!(k1 >= 0) || !double.IsFinite(k1)) throw new ArgumentOutOfRangeException(nameof(k1), k1, "k1 must be a non-negative number.");
        if (!(b >= 0 && b <= 1)) throw new ArgumentOutOfRangeException(nameof(b), b, "b must lie in [0, 1].");
        Statistics = statistics;
        _tokenize = tokenize;
        K1 = k1;
        B = b;
        _idf = new float[statistics.Dimension];
        double n = statistics.DocumentCount;
        for (int t = 0; t < _idf.Length; t++)
        {
            int df = statistics.DocumentFrequency[t];
            _idf[t] = (float)Math.Log(1 + (n - df + 0.5) / (df + 0.5));
        }
    }

    /// <summary>Fits the statistics on <paramref name="corpus"/> and returns the encoder.</summary>
    public static Bm25Encoder Fit(IEnumerable<string> corpus, Func<string, IReadOnlyList<int>> tokenize, int dimension, double k1 = 1.2, double b = 0.75) =>
        new(Bm25Statistics.Fit(corpus, tokenize, dimension), tokenize, k1, b);

    /// <summary>The corpus statistics in use.</summary>
    public Bm25Statistics Statistics { get; }

    /// <summary>Term-frequency saturation.</summary>
    public double K1 { get; }

    /// <summary>Length normalisation.</summary>
    public double B { get; }

    /// <inheritdoc />
    public int Dimension => Statistics.Dimension;

    /// <inheritdoc />
    public IReadOnlyList<SparseVector> EncodeQueries(IReadOnlyList<string> texts, CancellationToken cancellationToken = default)
    {
        var result = new SparseVector[texts.Count];
        for (int i = 0; i < texts.Count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var counts = Count(_tokenize(texts[i]));
            result[i] = SparseVector.FromPairs(Dimension, counts.Select(c => new KeyValuePair<int, float>(c.Key, c.Value)));
        }
        return result;
    }

    /// <inheritdoc />
    public IReadOnlyList<SparseVector> EncodeDocuments(IReadOnlyList<string> texts, CancellationToken cancellationToken = default)
    {
        var result = new SparseVector[texts.Count];
        double avgdl = Statistics.AverageLength > 0 ? Statistics.AverageLength : 1;
        for (int i = 0; i < texts.Count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var ids = _tokenize(texts[i]);
            double norm = K1 * (1 - B + B * ids.Count / avgdl);
            var weights = Count(ids).Select(c => new KeyValuePair<int, float>(c.Key, (float)(_idf[c.Key] * (c.Value / (c.Value + norm)))));
            result[i] = SparseVector.FromPairs(Dimension, weights);
        }
        return result;
    }

    private Dictionary<int, int> Count(IReadOnlyList<int> ids)
    {
        var counts = new Dictionary<int, int>();
        foreach (int id in ids)
        {
            if ((uint)id >= (uint)Dimension) throw new ArgumentException($"Token id {id} is outside [0, {Dimension}).");
            counts[id] = counts.GetValueOrDefault(id) + 1;
        }
        return counts;
    }
}
