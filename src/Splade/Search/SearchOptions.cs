namespace Splade.Search;

/// <summary>How one search is evaluated: the algorithm and, for <see cref="SearchAlgorithm.Approximate"/>, its budget.</summary>
public sealed record SearchOptions
{
    /// <summary>
    /// The evaluation strategy (default <see cref="SearchAlgorithm.MaxScore"/>, exact: on documents without
    /// clustered terms, block bounds rarely prune and <see cref="SearchAlgorithm.BlockMax"/> pays its probe for nothing).
    /// </summary>
    public SearchAlgorithm Algorithm { get; init; } = SearchAlgorithm.MaxScore;

    /// <summary>
    /// For <see cref="SearchAlgorithm.Approximate"/>, in (0, 1]: upper bounds of what is not yet scored (the
    /// non-essential terms' bounds) are multiplied by Alpha before they are compared with the
    /// current k-th score. Lower is faster and less exact; 1 gives the exact result. Returned scores are always exact.
    /// </summary>
    public float Alpha { get; init; } = DefaultAlpha;

    /// <summary>
    /// For <see cref="SearchAlgorithm.Approximate"/>, in (0, 1]: the query is cut to its largest weights whose sum
    /// reaches QueryMass of its total weight (at least one term), candidates are gathered with the cut query
    /// (a pool of twice top-k), and each is rescored exactly with the whole query. Learned sparse queries spread
    /// weight over many expansion terms with long posting lists; most of the ranking comes from the few heaviest.
    /// Documents that hold none of the kept terms are not found, so a small collection can return fewer than k hits.
    /// 1 (the default) uses the whole query.
    /// </summary>
    public float QueryMass { get; init; } = 1f;

    /// <summary>Parameters of <see cref="SearchAlgorithm.Seismic"/> (null: <see cref="SeismicOptions.Default"/>).</summary>
    public SeismicOptions? Seismic { get; init; }

    /// <summary>The default <see cref="Alpha"/> of approximate searches.</summary>
    public const float DefaultAlpha = 0.9f;

    /// <summary>Exact search with the default algorithm.</summary>
    public static SearchOptions Exact { get; } = new();

    /// <summary>Options for <paramref name="algorithm"/> with the default budget.</summary>
    public static SearchOptions For(SearchAlgorithm algorithm) => new() { Algorithm = algorithm };
}
