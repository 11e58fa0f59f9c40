using Splade.Search;

namespace Splade.Cli;

/// <summary>
/// <c>--algorithm</c>, <c>--approximate</c> and <c>--ef-search</c> for either backend. The exact algorithms
/// (maxscore, blockmax, exhaustive) give the same top-k everywhere: on PostgreSQL an exact scan.
/// <c>approximate</c> is the alpha-pruned MaxScore of the embedded index and the HNSW index of PostgreSQL;
/// <c>--approximate</c> is short for it.
/// </summary>
/// <param name="Algorithm">The embedded index's algorithm.</param>
/// <param name="Hnsw">PostgreSQL: search through the HNSW index.</param>
/// <param name="EfSearch">PostgreSQL HNSW beam width (null: the store's default).</param>
/// <param name="QueryMass">Embedded approximate search: <see cref="SearchOptions.QueryMass"/> (1: the whole query).</param>
internal sealed record SearchMethod(SearchAlgorithm Algorithm, bool Hnsw, int? EfSearch, float QueryMass = 1f)
{
    /// <summary>The embedded index's options for this method.</summary>
    public SearchOptions Options => new() { Algorithm = Algorithm, QueryMass = QueryMass };

    public static SearchMethod Parse(string? algorithmName, bool approximate, int? efSearch, bool postgres, float? queryMass = null)
    {
        if (approximate && algorithmName is not null && algorithmName != "approximate")
            throw new CliException($"--approximate means --algorithm approximate; it cannot go with --algorithm {algorithmName}.");
        string name = approximate ? "approximate" : algorithmName ?? "maxscore";
        var algorithm = name switch
        {
            "maxscore" => SearchAlgorithm.MaxScore,
            "exhaustive" => SearchAlgorithm.Exhaustive,
            "blockmax" => SearchAlgorithm.BlockMax,
            "approximate" => SearchAlgorithm.Approximate,
            "seismic" => SearchAlgorithm.Seismic,
            _ => throw new CliException($"--algorithm: expected maxscore, blockmax, approximate, seismic or exhaustive, got '{name}'."),
        };
        bool hnsw = postgres && algorithm == SearchAlgorithm.Approximate;
        if (postgres && algorithm == SearchAlgorithm.Seismic)
            throw new CliException("--algorithm seismic searches the embedded index; on PostgreSQL, --algorithm approximate searches its HNSW index.");
        if (efSearch is not null && !hnsw)
            throw new CliException(postgres
                ? "--ef-search sets the HNSW beam: it goes with --algorithm approximate (or --approximate)."
                : "--ef-search sets the HNSW beam of a PostgreSQL backend (--backend URL --algorithm approximate).");
        if (queryMass is { } mass)
        {
            if (!(mass > 0f && mass <= 1f)) throw new CliException($"--query-mass: expected a value in (0, 1], got {mass}.");
            if (algorithm != SearchAlgorithm.Approximate || postgres)
                throw new CliException("--query-mass cuts the query of the embedded index's approximate search: it goes with --algorithm approximate (or --approximate) and --index.");
        }
        return new SearchMethod(algorithm, hnsw, efSearch, queryMass ?? 1f);
    }
}
