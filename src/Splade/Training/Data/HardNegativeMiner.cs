using Splade.Evaluation;
using Splade.Search;
using Splade.Sparse;

namespace Splade.Training.Data;

/// <summary>How negatives are chosen among the candidates of the rank range.</summary>
public enum NegativeSampling
{
    /// <summary>The best-ranked candidates (sentence-transformers' default, <c>sampling_strategy="top"</c>).</summary>
    Top,
    /// <summary>A uniform draw (seeded) among the candidates (<c>sampling_strategy="random"</c>).</summary>
    Random,
}

/// <summary>Settings of <see cref="HardNegativeMiner"/>.</summary>
public sealed record HardNegativeMiningOptions
{
    /// <summary>Negatives per row (≥ 1).</summary>
    public int Negatives { get; init; } = 1;

    /// <summary>
    /// Candidates skipped at the top of the ranking once the positives are removed (<c>range_min</c>): the
    /// very best non-judged documents are often unjudged relevant ones.
    /// </summary>
    public int RangeMin { get; init; }

    /// <summary>Candidates considered, counted from the top of the ranking without positives (<c>range_max</c>).</summary>
    public int RangeMax { get; init; } = 100;

    /// <summary>How negatives are chosen in [RangeMin, RangeMax).</summary>
    public NegativeSampling Sampling { get; init; } = NegativeSampling.Top;

    /// <summary>
    /// A candidate is kept only if its score ≤ (1 − margin) × the positive's score (<c>relative_margin</c>);
    /// null: no margin.
    /// </summary>
    public double? RelativeMargin { get; init; }

    /// <summary>Seed of the random sampling.</summary>
    public int Seed { get; init; } = 42;

    /// <summary>Documents encoded per call to the encoder.</summary>
    public int BatchSize { get; init; } = 64;
}

/// <summary>What the miner did.</summary>
/// <param name="Rows">The rows, one per (judged query, relevant document) pair that found enough negatives.</param>
/// <param name="Queries">Judged queries mined.</param>
/// <param name="SkippedPairs">(query, positive) pairs dropped for lack of candidates in the range.</param>
/// <param name="MeanNegativeRank">Mean 1-based rank of the chosen negatives in the ranking without positives.</param>
/// <param name="MeanPositiveScore">Mean score of the positives.</param>
/// <param name="MeanNegativeScore">Mean score of the chosen negatives.</param>
public sealed record HardNegativeMiningResult(List<TrainingRow> Rows, int Queries, int SkippedPairs, double MeanNegativeRank,
    double MeanPositiveScore, double MeanNegativeScore);

/// <summary>
/// Hard negatives as sentence-transformers' <c>mine_hard_negatives</c> (n-tuple output): every judged query is
/// searched over the corpus with a sparse encoder (BM25 or a SPLADE model); its relevant documents, and documents
/// whose text equals a relevant one's or is empty, are removed from the ranking; the negatives of each
/// (query, relevant document) row are taken from ranks [RangeMin, RangeMax) of what remains. Queries are taken in
/// ordinal id order and their relevant documents in ordinal id order, so the output depends on the inputs and the
/// seed only.
/// </summary>
public static class HardNegativeMiner
{
    /// <summary>Mines rows over <paramref name="data"/>, its judgments with grade ≥ 1 being the positives.</summary>
    /// <param name="data">Corpus, queries and judgments; document text is <see cref="CorpusDocument.FullText"/>.</param>
    /// <param name="encoder">Encoder of queries and documents (a fitted BM25 or a model).</param>
    /// <param name="options">Range, count and sampling.</param>
    /// <param name="index">Where the corpus is indexed and searched (default: an in-memory brute-force index); must be empty.</param>
    /// <param name="progress">Progress messages.</param>
    /// <param name="cancellationToken">Stops between batches.</param>
    public static HardNegativeMiningResult Mine(IrDataset data, ISparseTextEncoder encoder, HardNegativeMiningOptions options,
        ISparseIndex? index = null, IProgress<string>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(encoder);
        ArgumentNullException.ThrowIfNull(options);
        if (options.Negatives < 1) throw new ArgumentOutOfRangeException(nameof(options), $"negatives must be ≥ 1, got {options.Negatives}.");
        if (options.RangeMin < 0 || options.RangeMax <= options.RangeMin)
            throw new ArgumentOutOfRangeException(nameof(options), $"range {options.RangeMin}:{options.RangeMax} must satisfy 0 ≤ min < max.");
        if (options.RangeMax - options.RangeMin < options.Negatives)
            throw new ArgumentOutOfRangeException(nameof(options), $"range {options.RangeMin}:{options.RangeMax} holds fewer than {options.Negatives} candidates.");
        if (options.RelativeMargin is double m && !(m >= 0 && m < 1))
            throw new ArgumentOutOfRangeException(nameof(options), $"relative margin must be in [0, 1), got {m}.");

        var texts = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var d in data.Corpus) texts[d.Id] = d.FullText;
        var judged = data.Qrels.Where(q => q.Value.Count > 0 && data.Queries.ContainsKey(q.Key))
            .Select(q => q.Key).Order(StringComparer.Ordinal).ToArray();

        using var owned = index is null ? new BruteForceSparseIndex() : null;
        index ??= owned!;
        if (index.Count != 0) throw new ArgumentException("the index must be empty: the miner indexes the corpus itself.", nameof(index));
        var vectors = new Dictionary<string, SparseVector>(StringComparer.Ordinal);
        for (int start = 0; start < data.Corpus.Count; start += options.BatchSize)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var batch = data.Corpus.Skip(start).Take(options.BatchSize).ToArray();
            var encoded = encoder.EncodeDocuments(batch.Select(d => d.FullText).ToArray(), cancellationToken);
            for (int i = 0; i < batch.Length; i++) vectors[batch[i].Id] = encoded[i];
            index.Upsert(batch.Select((d, i) => new IndexedDocument(d.Id, encoded[i])).ToArray(), cancellationToken);
            progress?.Report($"encoded {Math.Min(start + options.BatchSize, data.Corpus.Count)}/{data.Corpus.Count} documents");
        }
        index.Commit();

        var rng = new Random(options.Seed);
        var rows = new List<TrainingRow>();
        int skipped = 0;
        double rankSum = 0, posScoreSum = 0, negScoreSum = 0;
        long negCount = 0, posCount = 0;
        for (int start = 0; start < judged.Length; start += options.BatchSize)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var qids = judged.Skip(start).Take(options.BatchSize).ToArray();
            var queryVectors = encoder.EncodeQueries(qids.Select(q => data.Queries[q]).ToArray(), cancellationToken);
            for (int qi = 0; qi < qids.Length; qi++)
            {
                string qid = qids[qi];
                var positives = data.Qrels[qid].Keys.Where(texts.ContainsKey).Order(StringComparer.Ordinal).ToArray();
                if (positives.Length == 0) continue;
                var positiveTexts = positives.Select(p => texts[p]).ToHashSet(StringComparer.Ordinal);
                var relevant = data.Qrels[qid];
                int want = options.RangeMax + relevant.Count;
                var ranked = index.Search(queryVectors[qi], Math.Min(want, data.Corpus.Count), cancellationToken)
                    .Where(h => !relevant.ContainsKey(h.Id) && texts[h.Id].Length > 0 && !positiveTexts.Contains(texts[h.Id]))
                    .Take(options.RangeMax).ToArray();
                foreach (string pos in positives)
                {
                    float posScore = queryVectors[qi].Dot(vectors[pos]);
                    var candidates = new List<(int Rank, SearchHit Hit)>();
                    for (int r = options.RangeMin; r < ranked.Length; r++)
                        if (options.RelativeMargin is not double margin || ranked[r].Score <= (1 - margin) * posScore)
                            candidates.Add((r + 1, ranked[r]));
                    if (candidates.Count < options.Negatives) { skipped++; continue; }
                    var chosen = options.Sampling == NegativeSampling.Top
                        ? candidates.Take(options.Negatives).ToList()
                        : Draw(candidates, options.Negatives, rng);
                    rows.Add(new TrainingRow(data.Queries[qid], texts[pos], chosen.Select(c => texts[c.Hit.Id]).ToArray()));
                    posScoreSum += posScore;
                    posCount++;
                    foreach (var c in chosen) { rankSum += c.Rank; negScoreSum += c.Hit.Score; negCount++; }
                }
            }
            progress?.Report($"searched {Math.Min(start + options.BatchSize, judged.Length)}/{judged.Length} queries, {rows.Count} rows");
        }
        return new HardNegativeMiningResult(rows, judged.Length, skipped, negCount == 0 ? 0 : rankSum / negCount,
            posCount == 0 ? 0 : posScoreSum / posCount, negCount == 0 ? 0 : negScoreSum / negCount);
    }

    /// <summary>k distinct candidates drawn uniformly, kept in rank order.</summary>
    private static List<(int Rank, SearchHit Hit)> Draw(List<(int Rank, SearchHit Hit)> candidates, int k, Random rng)
    {
        var picked = new SortedSet<int>();
        // Floyd's algorithm: k distinct positions with k draws.
        for (int j = candidates.Count - k; j < candidates.Count; j++)
        {
            int t = rng.Next(j + 1);
            if (!picked.Add(t)) picked.Add(j);
        }
        return picked.Select(i => candidates[i]).ToList();
    }
}
