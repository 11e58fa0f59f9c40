using System.Text.RegularExpressions;

namespace Splade.Postgres;

/// <summary>How a <see cref="PgSparseIndex"/> lays out its table and its HNSW index.</summary>
public sealed partial record PgSparseIndexOptions
{
    /// <summary>
    /// Largest number of non-zeros pgvector accepts in a <c>sparsevec</c> that goes into an HNSW
    /// index (<c>HNSW_MAX_NNZ</c> in pgvector's <c>src/hnsw.h</c>); plain <c>sparsevec</c> columns allow 16000.
    /// </summary>
    public const int HnswMaxNonZeros = 1000;

    /// <summary>Largest number of non-zeros of any <c>sparsevec</c> (<c>SPARSEVEC_MAX_NNZ</c> in pgvector).</summary>
    public const int SparsevecMaxNonZeros = 16000;

    /// <summary>Table name (letters, digits, underscore; at most 63 characters). Default <c>splade_documents</c>.</summary>
    public string Table { get; init; } = "splade_documents";

    /// <summary>Dimension of the <c>sparsevec(dim)</c> column: the vocabulary size (30522 for BERT).</summary>
    public int Dimension { get; init; } = 30522;

    /// <summary>
    /// When true, documents are pruned to their <see cref="HnswMaxNonZeros"/> largest weights before
    /// they are written, so that an HNSW index can hold them. Set it whenever an HNSW index exists or
    /// will be built; exact search then also sees the pruned vectors. Default false.
    /// </summary>
    public bool PruneForHnsw { get; init; }

    /// <summary>HNSW graph degree <c>m</c> (pgvector default 16).</summary>
    public int HnswM { get; init; } = 16;

    /// <summary>HNSW build beam width <c>ef_construction</c> (pgvector default 64).</summary>
    public int HnswEfConstruction { get; init; } = 64;

    /// <summary>HNSW search beam width <c>hnsw.ef_search</c> (pgvector default 40; must be at least top-k for k hits).</summary>
    public int HnswEfSearch { get; init; } = 40;

    /// <summary>Rows per binary COPY transaction during bulk loads.</summary>
    public int CopyBatchSize { get; init; } = 50_000;

    /// <summary>Name of the HNSW index: <c>{Table}_vector_hnsw</c>.</summary>
    public string HnswIndexName => Table + "_vector_hnsw";

    /// <summary>Throws when a setting is out of range.</summary>
    public void Validate()
    {
        if (!IdentifierPattern().IsMatch(Table))
            throw new ArgumentException($"Table name '{Table}' must match {IdentifierPattern()} (letters, digits, underscore; at most 63 characters, minus the '_vector_hnsw' suffix).");
        if (Dimension <= 0) throw new ArgumentOutOfRangeException(nameof(Dimension), Dimension, "Dimension must be positive.");
        if (HnswM < 2 || HnswM > 100) throw new ArgumentOutOfRangeException(nameof(HnswM), HnswM, "pgvector accepts m in [2, 100].");
        if (HnswEfConstruction < 4 || HnswEfConstruction > 1000 || HnswEfConstruction < 2 * HnswM)
            throw new ArgumentOutOfRangeException(nameof(HnswEfConstruction), HnswEfConstruction, "pgvector accepts ef_construction in [4, 1000] and at least 2*m.");
        if (HnswEfSearch < 1 || HnswEfSearch > 1000)
            throw new ArgumentOutOfRangeException(nameof(HnswEfSearch), HnswEfSearch, "pgvector accepts hnsw.ef_search in [1, 1000].");
        if (CopyBatchSize <= 0) throw new ArgumentOutOfRangeException(nameof(CopyBatchSize), CopyBatchSize, "Must be positive.");
    }

    // 63 is PostgreSQL's NAMEDATALEN-1; the index name adds 12 characters.
    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]{0,50}$")]
    private static partial Regex IdentifierPattern();
}
