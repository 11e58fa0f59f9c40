using System.Text.Json;
using Splade.Evaluation;
using Splade.Models;
using Splade.Postgres;
using Splade.Search;
using Splade.Sparse;

namespace Splade.Cli;

/// <summary>
/// Where the search and eval verbs keep and read documents: the embedded index of <c>--index DIR</c> or the
/// PostgreSQL table of <c>--backend URL [--table NAME]</c>. Both verbs run one code path on this abstraction,
/// so every option behaves, and every output is written, the same way on either.
/// </summary>
internal abstract class SearchBackend : IDisposable
{
    /// <summary>How messages name it: "index 'DIR'" or "PostgreSQL table 'NAME'".</summary>
    public abstract string Name { get; }

    /// <summary>The store itself (eval encodes the corpus into it).</summary>
    public abstract ISparseIndex Index { get; }

    /// <summary>Top-k of every query, in input order, on up to <paramref name="threads"/> threads (default: all cores).</summary>
    public abstract IReadOnlyList<IReadOnlyList<SearchHit>> SearchBatch(IReadOnlyList<SparseVector> queries, int topK, SearchMethod method,
        int? threads, CancellationToken cancellationToken);

    /// <summary>True when it holds exactly the documents of <paramref name="corpus"/> (by id).</summary>
    public abstract bool HoldsExactly(IReadOnlyList<CorpusDocument> corpus);

    /// <summary>Documents per dimension, for avg_flops of a corpus indexed earlier.</summary>
    public abstract long[] DocumentFrequencies(CancellationToken cancellationToken);

    /// <summary>Records which model and precision made the vectors, so that search without --model encodes queries alike.</summary>
    public abstract void RecordModel(string spec, EncodePrecision precision);

    public abstract void Dispose();

    /// <summary>The embedded inverted index of a folder.</summary>
    private sealed class Embedded(string dir, InvertedIndex index) : SearchBackend
    {
        public override string Name => $"index '{dir}'";

        public override ISparseIndex Index => index;

        public override IReadOnlyList<IReadOnlyList<SearchHit>> SearchBatch(IReadOnlyList<SparseVector> queries, int topK, SearchMethod method,
            int? threads, CancellationToken cancellationToken) =>
            index.SearchBatch(queries, topK, method.Options, threads, cancellationToken);

        public override bool HoldsExactly(IReadOnlyList<CorpusDocument> corpus) =>
            index.Count == corpus.Count && corpus.All(d => index.Contains(d.Id));

        public override long[] DocumentFrequencies(CancellationToken cancellationToken) => index.DocumentFrequencies();

        public override void RecordModel(string spec, EncodePrecision precision) => IndexFolder.SaveModelSpec(dir, spec, precision);

        public override void Dispose() => index.Dispose();
    }

    /// <summary>A PostgreSQL + pgvector table; the model is recorded as the table's comment.</summary>
    private sealed class Postgres(PgSparseIndex pg) : SearchBackend
    {
        public override string Name => $"PostgreSQL table '{pg.Options.Table}'";

        public override ISparseIndex Index => pg;

        public override IReadOnlyList<IReadOnlyList<SearchHit>> SearchBatch(IReadOnlyList<SparseVector> queries, int topK, SearchMethod method,
            int? threads, CancellationToken cancellationToken)
        {
            var results = new IReadOnlyList<SearchHit>[queries.Count];
            var po = new ParallelOptions { MaxDegreeOfParallelism = threads ?? Environment.ProcessorCount, CancellationToken = cancellationToken };
            Parallel.For(0, queries.Count, po, i => results[i] = method.Hnsw
                ? pg.SearchApproximate(queries[i], topK, method.EfSearch, cancellationToken)
                : pg.Search(queries[i], topK, cancellationToken));
            return results;
        }

        public override bool HoldsExactly(IReadOnlyList<CorpusDocument> corpus)
        {
            if (pg.Count != corpus.Count) return false;
            var ids = pg.Ids().ToHashSet(StringComparer.Ordinal);
            return corpus.All(d => ids.Contains(d.Id));
        }

        public override long[] DocumentFrequencies(CancellationToken cancellationToken) => pg.DocumentFrequencies(cancellationToken);

        public override void RecordModel(string spec, EncodePrecision precision) => pg.SetComment(ModelSpecJson(spec, precision));

        public override void Dispose() => pg.Dispose();
    }

    /// <summary>The JSON recorded with the vectors: <c>{"model": ..., "precision": ...}</c> (encoder.json beside an index).</summary>
    public static string ModelSpecJson(string spec, EncodePrecision precision) =>
        JsonSerializer.Serialize(new Dictionary<string, string> { ["model"] = spec, ["precision"] = PrecisionOption.Name(precision) });

    /// <summary>Records the model on a PostgreSQL table opened elsewhere (the index verb).</summary>
    public static void RecordModel(PgSparseIndex pg, string spec, EncodePrecision precision) => pg.SetComment(ModelSpecJson(spec, precision));

    /// <summary>Opens an embedded index (read-only for search, created when missing for eval).</summary>
    public static SearchBackend OpenEmbedded(string dir, int? dimension)
    {
        if (dimension is int d) return new Embedded(dir, InvertedIndex.OpenOrCreate(dir, d));
        if (!InvertedIndex.Exists(dir)) throw new CliException($"'{dir}' is not an index.");
        return new Embedded(dir, InvertedIndex.Open(dir, new InvertedIndexOptions { ReadOnly = true }));
    }

    /// <summary>Opens (creating when missing) a PostgreSQL table of sparsevec(<paramref name="dimension"/>).</summary>
    public static SearchBackend OpenPostgres(string backend, string? table, int dimension) =>
        new Postgres(Backends.OpenPostgres(backend, table, dimension, hnsw: false));
}
