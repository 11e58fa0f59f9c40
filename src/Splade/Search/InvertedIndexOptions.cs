namespace Splade.Search;

/// <summary>How <see cref="InvertedIndex"/> opens and maintains its directory.</summary>
public sealed class InvertedIndexOptions
{
    /// <summary>Open for search only: no write lock is taken, no file is created or removed.</summary>
    public bool ReadOnly { get; init; }

    /// <summary>Check the CRC-32C of every segment and deletion file on open (default true).</summary>
    public bool VerifyChecksums { get; init; } = true;

    /// <summary>
    /// After a commit leaves more segments than this, the smallest half are merged into one
    /// (default 16; 0 disables automatic merges).
    /// </summary>
    public int MaxSegments { get; init; } = 16;

    /// <summary>Run those automatic merges on a background task instead of inside <see cref="InvertedIndex.Commit"/>.</summary>
    public bool BackgroundMerge { get; init; }

    /// <summary>Keep document texts when given (default true).</summary>
    public bool StoreTexts { get; init; } = true;

    /// <summary>
    /// Documents per block of the block-max structures written with each new segment, at most 256
    /// (64 is a good start); 0, the default, writes none. They cost about 11 bytes per posting and
    /// 2.5 times the build time (1M synthetic documents: 8.1 → 19.2 bytes per posting, 240k → 90k
    /// documents/s) and only pay off when documents in a block share terms; without them
    /// <see cref="SearchAlgorithm.BlockMax"/> runs as MaxScore. Smaller blocks give tighter bounds and
    /// cost more bound computation per query.
    /// </summary>
    public int BlockSize { get; init; }

    /// <summary>Called before every write chunk, fsync, rename and delete (crash simulation in tests).</summary>
    internal Action<string>? IoHook { get; init; }

    /// <summary>Called with the path and byte count before every write chunk (disk-full simulation in tests).</summary>
    internal Action<string, int>? WriteHook { get; init; }
}

/// <summary>Query evaluation strategy of <see cref="InvertedIndex.Search(Splade.Sparse.SparseVector, int, SearchAlgorithm, CancellationToken)"/>.</summary>
public enum SearchAlgorithm
{
    /// <summary>Exact top-k with MaxScore dynamic pruning (falls back to exhaustive for negative weights).</summary>
    MaxScore,

    /// <summary>Exact top-k scoring every posting of every query term (the baseline).</summary>
    Exhaustive,

    /// <summary>
    /// Exact top-k with block-max pruning: blocks of documents visited by decreasing upper bound until
    /// the next bound falls below the k-th score (falls back to MaxScore for negative weights or
    /// segments written without block structures).
    /// </summary>
    BlockMax,

    /// <summary>
    /// Approximate top-k: MaxScore with the bounds of the non-essential terms scaled by
    /// <see cref="SearchOptions.Alpha"/> before the comparison with the k-th score. Alpha 1 is exact;
    /// returned scores are exact dot products.
    /// </summary>
    Approximate,

    /// <summary>
    /// Approximate top-k with the Seismic method (static pruning of each term's postings, blocks with summary
    /// vectors, a forward index for exact scores; parameters in <see cref="SearchOptions.Seismic"/>). Its
    /// structures are built in memory per segment on first use. Returned scores are exact dot products.
    /// Falls back to exhaustive search for negative weights.
    /// </summary>
    Seismic,
}
