namespace Splade.Search;

/// <summary>How one search is evaluated: the algorithm and, for <see cref="SearchAlgorithm.Approximate"/>, its budget.</summary>
public sealed record SearchOptions
{
    /// <summary>The evaluation strategy (default <see cref="SearchAlgorithm.BlockMax"/>, exact).</summary>
    public SearchAlgorithm Algorithm { get; init; } = SearchAlgorithm.BlockMax;

    /// <summary>
    /// For <see cref="SearchAlgorithm.Approximate"/>: a block is scored only while Alpha × its upper bound
    /// reaches the current k-th score, in (0, 1]. Lower is faster and less exact; 1 gives the exact result.
    /// </summary>
    public float Alpha { get; init; } = DefaultAlpha;

    /// <summary>The default <see cref="Alpha"/> of approximate searches.</summary>
    public const float DefaultAlpha = 0.9f;

    /// <summary>Exact block-max search.</summary>
    public static SearchOptions Exact { get; } = new();

    /// <summary>Options for <paramref name="algorithm"/> with the default budget.</summary>
    public static SearchOptions For(SearchAlgorithm algorithm) => new() { Algorithm = algorithm };
}
