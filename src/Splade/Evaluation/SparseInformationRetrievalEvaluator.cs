using Splade.Search;
using Splade.Sparse;

namespace Splade.Evaluation;

/// <summary>
/// Retrieval evaluation as sentence-transformers' SparseInformationRetrievalEvaluator: rank the
/// corpus by dot product for each judged query (top <see cref="MaxK"/>), then average
/// accuracy/precision/recall@k, mrr@k, ndcg@k and map@k over the queries that have at least one
/// relevant document, plus the mean active dimensions and sparsity of query and corpus vectors.
/// Metric names: <c>{name}_dot_{metric}@{k}</c> (no prefix when the name is empty), e.g. <c>dot_ndcg@10</c>.
/// Relevance is binary (grade ≥ 1) as in the reference; when the judgments carry grades above 1,
/// <c>dot_ndcg_graded@k</c> is added with gain = grade (trec_eval / pytrec_eval, as BEIR reports).
/// </summary>
public sealed class SparseInformationRetrievalEvaluator
{
    private readonly IrDataset _data;

    /// <summary>Creates an evaluator over a collection.</summary>
    public SparseInformationRetrievalEvaluator(IrDataset data, string name = "")
    {
        _data = data ?? throw new ArgumentNullException(nameof(data));
        Name = name;
    }

    /// <summary>Prefix of the metric names.</summary>
    public string Name { get; }

    /// <summary>Cut-offs of accuracy@k (default 1, 3, 5, 10).</summary>
    public IReadOnlyList<int> AccuracyAtK { get; init; } = [1, 3, 5, 10];

    /// <summary>Cut-offs of precision@k and recall@k (default 1, 3, 5, 10).</summary>
    public IReadOnlyList<int> PrecisionRecallAtK { get; init; } = [1, 3, 5, 10];

    /// <summary>Cut-offs of mrr@k (default 10).</summary>
    public IReadOnlyList<int> MrrAtK { get; init; } = [10];

    /// <summary>Cut-offs of ndcg@k (default 10).</summary>
    public IReadOnlyList<int> NdcgAtK { get; init; } = [10];

    /// <summary>Cut-offs of map@k (default 100).</summary>
    public IReadOnlyList<int> MapAtK { get; init; } = [100];

    /// <summary>Documents retrieved per query: the largest cut-off.</summary>
    public int MaxK => AccuracyAtK.Concat(PrecisionRecallAtK).Concat(MrrAtK).Concat(NdcgAtK).Concat(MapAtK).Max();

    /// <summary>Documents encoded per call to the encoder.</summary>
    public int BatchSize { get; init; } = 64;

    /// <summary>Judged query ids (those with a relevant document and a text), in ordinal order.</summary>
    public IReadOnlyList<string> JudgedQueryIds() =>
        _data.Qrels.Where(p => p.Value.Count > 0).Select(p => p.Key)
            .Select(q => _data.Queries.ContainsKey(q) ? q : throw new InvalidDataException($"Query '{q}' has judgments but no text in queries.jsonl."))
            .OrderBy(q => q, StringComparer.Ordinal).ToArray();

    /// <summary>
    /// Encodes the corpus into <paramref name="index"/> (an in-memory brute-force index when null)
    /// unless <paramref name="corpusAlreadyIndexed"/>, encodes the judged queries, searches and scores.
    /// For an already indexed corpus, <paramref name="corpusActiveDims"/> and
    /// <paramref name="corpusDocumentFrequencies"/> (documents per dimension) supply the corpus statistics;
    /// avg_flops is reported only when the latter is known.
    /// </summary>
    public EvaluationResult Evaluate(ISparseTextEncoder encoder, ISparseIndex? index = null, bool corpusAlreadyIndexed = false,
        double? corpusActiveDims = null, IProgress<string>? progress = null, CancellationToken cancellationToken = default,
        long[]? corpusDocumentFrequencies = null)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        using var owned = index is null ? new BruteForceSparseIndex() : null;
        index ??= owned!;
        // Documents holding each dimension, for avg_flops; unknown when the corpus was indexed earlier.
        long[]? corpusDimCounts = corpusAlreadyIndexed ? corpusDocumentFrequencies : null;
        if (!corpusAlreadyIndexed)
        {
            long active = 0;
            corpusDimCounts = new long[encoder.Dimension];
            for (int start = 0; start < _data.Corpus.Count; start += BatchSize)
            {
                var batch = _data.Corpus.Skip(start).Take(BatchSize).ToArray();
                var vectors = encoder.EncodeDocuments(batch.Select(d => d.FullText).ToArray(), cancellationToken);
                active += vectors.Sum(v => (long)v.Count);
                foreach (var v in vectors) foreach (int j in v.Indices) corpusDimCounts[j]++;
                index.Upsert(batch.Select((d, i) => new IndexedDocument(d.Id, vectors[i])).ToArray(), cancellationToken);
                progress?.Report($"encoded {Math.Min(start + BatchSize, _data.Corpus.Count)}/{_data.Corpus.Count} documents");
            }
            index.Commit();
            corpusActiveDims = _data.Corpus.Count == 0 ? 0 : (double)active / _data.Corpus.Count;
        }
        var qids = JudgedQueryIds();
        var queryVectors = encoder.EncodeQueries(qids.Select(q => _data.Queries[q]).ToArray(), cancellationToken);
        var run = new Dictionary<string, IReadOnlyList<SearchHit>>(StringComparer.Ordinal);
        int maxK = MaxK;
        for (int i = 0; i < qids.Count; i++) run[qids[i]] = index.Search(queryVectors[i], maxK, cancellationToken);
        double queryActive = qids.Count == 0 ? 0 : queryVectors.Average(v => (double)v.Count);
        double? avgFlops = null;
        if (corpusDimCounts is not null && qids.Count > 0 && _data.Corpus.Count > 0)
        {
            var queryDimCounts = new long[encoder.Dimension];
            foreach (var v in queryVectors) foreach (int j in v.Indices) queryDimCounts[j]++;
            avgFlops = AverageFlops(queryDimCounts, qids.Count, corpusDimCounts, _data.Corpus.Count);
        }
        return EvaluateRun(run, encoder.Dimension, queryActive, corpusActiveDims, avgFlops);
    }

    /// <summary>
    /// The expected number of multiplications of one query-document dot product (the FLOPS of the SPLADE
    /// papers): Σ_j p_j(query) · p_j(document), with p_j the fraction of vectors where dimension j is non-zero.
    /// </summary>
    public static double AverageFlops(ReadOnlySpan<long> queryDimCounts, int queries, ReadOnlySpan<long> documentDimCounts, int documents)
    {
        if (queryDimCounts.Length != documentDimCounts.Length)
            throw new ArgumentException($"dimension counts differ: {queryDimCounts.Length} vs {documentDimCounts.Length}.");
        double sum = 0;
        for (int j = 0; j < queryDimCounts.Length; j++)
            if (queryDimCounts[j] != 0 && documentDimCounts[j] != 0)
                sum += (double)queryDimCounts[j] / queries * ((double)documentDimCounts[j] / documents);
        return sum;
    }

    /// <summary>Scores ranked lists (qid → hits, best first) against the judgments; unjudged queries in the run are ignored.</summary>
    public EvaluationResult EvaluateRun(IReadOnlyDictionary<string, IReadOnlyList<SearchHit>> run, int dimension,
        double? queryActiveDims = null, double? corpusActiveDims = null, double? avgFlops = null)
    {
        var qids = JudgedQueryIds();
        bool graded = _data.Qrels.Values.Any(d => d.Values.Any(g => g > 1));
        var sums = new Dictionary<string, double>(StringComparer.Ordinal);
        var names = new List<string>();
        void Add(string metric, double value)
        {
            if (!sums.ContainsKey(metric)) { names.Add(metric); sums[metric] = 0; }
            sums[metric] += value;
        }
        foreach (string qid in qids)
        {
            var grades = _data.Qrels[qid];
            var relevant = new HashSet<string>(grades.Keys, StringComparer.Ordinal);
            var ranked = run.TryGetValue(qid, out var hits) ? hits.Select(h => h.Id).ToArray() : Array.Empty<string>();
            foreach (int k in AccuracyAtK) Add($"accuracy@{k}", IrMetrics.AccuracyAt(ranked, relevant, k));
            foreach (int k in PrecisionRecallAtK) Add($"precision@{k}", IrMetrics.PrecisionAt(ranked, relevant, k));
            foreach (int k in PrecisionRecallAtK) Add($"recall@{k}", IrMetrics.RecallAt(ranked, relevant, k));
            foreach (int k in NdcgAtK) Add($"ndcg@{k}", IrMetrics.NdcgAt(ranked, relevant, k));
            foreach (int k in MrrAtK) Add($"mrr@{k}", IrMetrics.MrrAt(ranked, relevant, k));
            foreach (int k in MapAtK) Add($"map@{k}", IrMetrics.MapAt(ranked, relevant, k));
            if (graded) foreach (int k in NdcgAtK) Add($"ndcg_graded@{k}", IrMetrics.GradedNdcgAt(ranked, grades, k));
        }
        string prefix = Name.Length > 0 ? Name + "_" : "";
        var metrics = new List<KeyValuePair<string, double>>();
        foreach (string m in names) metrics.Add(new($"{prefix}dot_{m}", sums[m] / qids.Count));
        if (queryActiveDims is double q)
        {
            metrics.Add(new($"{prefix}query_active_dims", q));
            metrics.Add(new($"{prefix}query_sparsity_ratio", 1 - q / dimension));
        }
        if (corpusActiveDims is double c)
        {
            metrics.Add(new($"{prefix}corpus_active_dims", c));
            metrics.Add(new($"{prefix}corpus_sparsity_ratio", 1 - c / dimension));
        }
        if (avgFlops is double f) metrics.Add(new($"{prefix}avg_flops", f));
        return new EvaluationResult(Name, metrics, run, qids.Count, _data.Corpus.Count);
    }
}
