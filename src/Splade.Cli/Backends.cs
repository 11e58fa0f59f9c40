using Splade.Postgres;
using Splade.Search;

namespace Splade.Cli;

/// <summary>
/// `--backend`: where index and search keep vectors. The default is the embedded index in
/// `--index DIR`; a PostgreSQL URL (<c>postgres://user:pass@host:port/db</c>) or an Npgsql connection
/// string stores them in a pgvector <c>sparsevec</c> table instead.
/// </summary>
internal static class Backends
{
    public static bool IsPostgres(string? backend) =>
        backend is not null && (backend.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase)
            || backend.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase)
            || backend.Contains("Host=", StringComparison.OrdinalIgnoreCase));

    public static PgSparseIndex OpenPostgres(string backend, string? table, int dimension, bool hnsw)
    {
        var options = new PgSparseIndexOptions
        {
            Table = table ?? new PgSparseIndexOptions().Table,
            Dimension = dimension,
            PruneForHnsw = hnsw,
        };
        try
        {
            return PgSparseIndex.Open(backend, options);
        }
        catch (Exception e) when (e is Npgsql.NpgsqlException or ArgumentException or InvalidOperationException)
        {
            throw new CliException($"cannot open PostgreSQL backend {PostgresConnectionString.Redact(backend)}: {e.Message}", 1);
        }
    }

    /// <summary>Encodes and stores a corpus (upserts are idempotent, so a rerun completes an interrupted load).</summary>
    public static long IndexCorpus(ISparseIndex index, ISparseTextEncoder encoder, IEnumerable<Evaluation.CorpusDocument> corpus, int batchSize, bool storeText, CliContext context, CancellationToken cancellationToken)
    {
        long added = 0;
        var batch = new List<Evaluation.CorpusDocument>(batchSize);
        void Flush()
        {
            if (batch.Count == 0) return;
            var vectors = encoder.EncodeDocuments(batch.Select(d => d.FullText).ToArray(), cancellationToken);
            index.Upsert(batch.Select((d, i) => new IndexedDocument(d.Id, vectors[i], storeText ? d.FullText : null)).ToArray(), cancellationToken);
            index.Commit();
            added += batch.Count;
            batch.Clear();
            context.Stderr.WriteLine($"stored {added} documents");
        }
        foreach (var doc in corpus)
        {
            cancellationToken.ThrowIfCancellationRequested();
            batch.Add(doc);
            if (batch.Count >= batchSize) Flush();
        }
        Flush();
        return added;
    }
}
