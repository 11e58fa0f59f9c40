namespace Splade.Search;

/// <summary>
/// Parameters of <see cref="SearchAlgorithm.Seismic"/>, the approximate search of Bruch et al. (SIGIR 2024,
/// "Efficient Inverted Indexes for Approximate Retrieval over Learned Sparse Embeddings"). The first five
/// shape the per-segment structures (built on first use and kept in memory while the segment is open); the
/// last two act per query. Scores returned are exact dot products; which documents are found is approximate.
/// </summary>
public sealed record SeismicOptions
{
    /// <summary>λ: postings kept per term, the largest by weight (static pruning). Lists at most this long are kept whole.</summary>
    public int PostingsPerTerm { get; init; } = 4000;

    /// <summary>Documents per block of a truncated list (the last block of a list may hold fewer).</summary>
    public int BlockSize { get; init; } = 16;

    /// <summary>
    /// α of the block summaries, in (0, 1]: a summary keeps the block's per-term maxima, largest first, until they
    /// hold this share of their total (1 keeps every term: then the summary is an upper bound of the block).
    /// </summary>
    public float SummaryMass { get; init; } = 0.5f;

    /// <summary>
    /// At most this many terms per summary (the largest maxima): on documents without shared terms a block of
    /// B documents has about B × nnz distinct terms, and the α share alone would keep most of them.
    /// </summary>
    public int SummaryTerms { get; init; } = 48;

    /// <summary>How a truncated list is cut into blocks.</summary>
    public SeismicBlocking Blocking { get; init; } = SeismicBlocking.Impact;

    /// <summary>Query cut: only the query's largest-weight terms (this many) have their lists visited; every query term takes part in the scores.</summary>
    public int QueryCut { get; init; } = 10;

    /// <summary>
    /// Once k documents are held, a block is scored only when its summary dot product reaches HeapFactor × the
    /// k-th score: below 1 scores more blocks (slower, higher recall), above 1 fewer.
    /// </summary>
    public float HeapFactor { get; init; } = 1f;

    /// <summary>Options used when <see cref="SearchOptions.Seismic"/> is not set.</summary>
    public static SeismicOptions Default { get; } = new();

    /// <summary>Throws when a value is out of range.</summary>
    public void Validate()
    {
        if (PostingsPerTerm < 1) throw new ArgumentOutOfRangeException(nameof(PostingsPerTerm), PostingsPerTerm, "Must be at least 1.");
        if (BlockSize < 1 || BlockSize > 65535) throw new ArgumentOutOfRangeException(nameof(BlockSize), BlockSize, "Must be in [1, 65535].");
        if (!(SummaryMass > 0f && SummaryMass <= 1f)) throw new ArgumentOutOfRangeException(nameof(SummaryMass), SummaryMass, "Must be in (0, 1].");
        if (SummaryTerms < 1) throw new ArgumentOutOfRangeException(nameof(SummaryTerms), SummaryTerms, "Must be at least 1.");
        if (QueryCut < 1) throw new ArgumentOutOfRangeException(nameof(QueryCut), QueryCut, "Must be at least 1.");
        if (!(HeapFactor > 0f) || float.IsInfinity(HeapFactor)) throw new ArgumentOutOfRangeException(nameof(HeapFactor), HeapFactor, "Must be positive and finite.");
    }

    /// <summary>The part of the options that determines the built structures.</summary>
    internal (int, int, float, int, SeismicBlocking) BuildKey => (PostingsPerTerm, BlockSize, SummaryMass, SummaryTerms, Blocking);
}

/// <summary>How <see cref="SearchAlgorithm.Seismic"/> groups the kept postings of a term into blocks.</summary>
public enum SeismicBlocking
{
    /// <summary>Consecutive postings in decreasing weight order: the first blocks hold the term's strongest documents.</summary>
    Impact,

    /// <summary>Consecutive postings in ascending document order (ranges of ordinals).</summary>
    DocumentOrder,
}
