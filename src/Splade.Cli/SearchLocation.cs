using System.Text.Json;
using Splade.Models;
using Splade.Postgres;
using Splade.Search;

namespace Splade.Cli;

/// <summary>
/// <c>--index DIR</c> or <c>--backend URL [--table NAME]</c> as given to search and eval, before anything is
/// opened: what the vectors there were made with (the model and precision recorded beside them) and where the
/// statistics of a corpus-fitted encoder (BM25) can be kept.
/// </summary>
internal sealed record SearchLocation(string? IndexDir, string? Backend, string? Table)
{
    public bool IsPostgres => Backend is not null;

    /// <summary>Neither was given (eval then scores the corpus in memory).</summary>
    public bool IsNone => IndexDir is null && Backend is null;

    public string Name => IsPostgres ? $"PostgreSQL table '{Table ?? new PgSparseIndexOptions().Table}'" : $"index '{IndexDir}'";

    /// <summary>Reads --index, --backend and --table.</summary>
    /// <param name="required">One of --index and --backend must be given.</param>
    public static SearchLocation Parse(CommandArgs args, bool required)
    {
        string? backend = args.Get("backend"), index = args.Get("index"), table = args.Get("table");
        if (backend is not null && !Backends.IsPostgres(backend))
            throw new CliException($"--backend: expected a postgres:// URL or an Npgsql connection string, got '{backend}'.");
        if (backend is not null && index is not null)
            throw new CliException("give --index DIR (the embedded index) or --backend URL (PostgreSQL), not both.");
        if (table is not null && backend is null) throw new CliException("--table names a PostgreSQL table: it goes with --backend URL.");
        if (required && backend is null && index is null) throw new CliException("--index DIR or --backend URL is required.");
        return new SearchLocation(index, backend, table);
    }

    /// <summary>
    /// The encoder for queries: <paramref name="model"/> and <paramref name="precisionName"/> when given, else
    /// those recorded with the vectors; a corpus-fitted encoder gets its statistics from the index folder.
    /// </summary>
    public ISparseTextEncoder EncoderForSearch(string? model, string? precisionName, int? threads, string device = "cpu")
    {
        if (!IsPostgres && !InvertedIndex.Exists(IndexDir!)) throw new CliException($"'{IndexDir}' is not an index.");
        var (recordedModel, recordedPrecision) = Recorded();
        model ??= recordedModel ?? throw new CliException($"--model is required: {Name} does not record the model that built it.");
        var precision = precisionName is null ? recordedPrecision : PrecisionOption.Parse(precisionName);
        var encoder = EncoderFactory.Create(model, threads, precision, device);
        if (encoder is ICorpusFittedEncoder fitted && !TryLoadFitted(fitted))
            throw IsPostgres
                ? new CliException($"'{model}' is fitted on a corpus and its statistics live in an index folder; a PostgreSQL table holds SPLADE vectors: give --model <folder|owner/name>.")
                : new CliException($"index '{IndexDir}' holds no statistics for '{model}'; build it with `splade index --model {model}`.");
        return encoder;
    }

    /// <summary>Loads the statistics of a corpus-fitted encoder kept in the index folder (never for PostgreSQL).</summary>
    public bool TryLoadFitted(ICorpusFittedEncoder encoder) => IndexDir is not null && !IsPostgres && encoder.TryLoad(IndexDir);

    /// <summary>Keeps the statistics of a corpus-fitted encoder in the index folder (PostgreSQL: they are refitted each run).</summary>
    public void SaveFitted(ICorpusFittedEncoder encoder)
    {
        if (IndexDir is not null && !IsPostgres) encoder.Save(IndexDir);
    }

    /// <summary>Opens the store: read-only for search (<paramref name="create"/> false), created when missing for eval.</summary>
    public SearchBackend Open(int dimension, bool create) =>
        IsPostgres ? SearchBackend.OpenPostgres(Backend!, Table, dimension) : SearchBackend.OpenEmbedded(IndexDir!, create ? dimension : null);

    /// <summary>The model (null when none) and precision (fp32 when none) recorded with the vectors.</summary>
    private (string? Model, EncodePrecision Precision) Recorded()
    {
        if (!IsPostgres) return (IndexFolder.LoadModelSpec(IndexDir!), IndexFolder.LoadPrecision(IndexDir!));
        string table = Table ?? new PgSparseIndexOptions().Table;
        string? comment;
        try
        {
            comment = PgSparseIndex.ReadComment(Backend!, table);
        }
        catch (Exception e) when (e is Npgsql.NpgsqlException or ArgumentException or InvalidOperationException)
        {
            throw new CliException($"cannot open PostgreSQL backend {PostgresConnectionString.Redact(Backend!)}: {e.Message}", 1);
        }
        if (comment is null) return (null, EncodePrecision.Float32);
        Dictionary<string, string>? spec;
        try { spec = JsonSerializer.Deserialize<Dictionary<string, string>>(comment); }
        catch (JsonException) { return (null, EncodePrecision.Float32); }   // a comment of someone else's: nothing recorded
        if (spec is null || !spec.TryGetValue("model", out var model)) return (null, EncodePrecision.Float32);
        try { return (model, PrecisionOption.Parse(spec.GetValueOrDefault("precision"))); }
        catch (CliException e) { throw new CliException($"the comment of {Name}: {e.Message}"); }
    }
}
