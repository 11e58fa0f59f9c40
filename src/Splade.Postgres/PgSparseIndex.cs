using System.Globalization;
using Npgsql;
using Pgvector.Npgsql;
using NpgsqlTypes;
using Splade.Search;
using Splade.Sparse;
using PgSparseVector = Pgvector.SparseVector;

namespace Splade.Postgres;

/// <summary>
/// A sparse-vector store in PostgreSQL with pgvector (&gt;= 0.7): one table
/// <c>(id text primary key, vector sparsevec(dim), text text)</c>, exact top-k by inner product and,
/// once <see cref="CreateHnswIndex"/> has run, approximate top-k through an HNSW index with
/// <c>sparsevec_ip_ops</c>.
/// </summary>
/// <remarks>
/// pgvector's <c>&lt;#&gt;</c> operator returns the <b>negative</b> inner product, so "best first"
/// is <c>ORDER BY vector &lt;#&gt; q</c> ascending and the score is its negation.
/// Every call runs in its own transaction and is durable when it returns (<see cref="Commit"/> has
/// nothing left to do). HNSW can only index vectors with at most
/// <see cref="PgSparseIndexOptions.HnswMaxNonZeros"/> non-zeros: set
/// <see cref="PgSparseIndexOptions.PruneForHnsw"/> so that documents keep their 1000 largest weights.
/// </remarks>
public sealed class PgSparseIndex : ISparseIndex
{
    private readonly NpgsqlDataSource _dataSource;
    private readonly PgSparseIndexOptions _options;
    private readonly string _table;

    private PgSparseIndex(NpgsqlDataSource dataSource, PgSparseIndexOptions options)
    {
        _dataSource = dataSource;
        _options = options;
        _table = Quote(options.Table);
    }

    /// <summary>The options this store was opened with.</summary>
    public PgSparseIndexOptions Options => _options;

    /// <summary>
    /// Connects to <paramref name="urlOrConnectionString"/> (<c>postgres://user:pass@host:port/db</c>
    /// or an Npgsql connection string), creates the <c>vector</c> extension when it is missing and
    /// allowed, and creates the table when it does not exist.
    /// </summary>
    /// <exception cref="InvalidOperationException">The server has no pgvector &gt;= 0.7, or an existing table has another dimension.</exception>
    public static PgSparseIndex Open(string urlOrConnectionString, PgSparseIndexOptions? options = null)
    {
        options ??= new PgSparseIndexOptions();
        options.Validate();
        string connectionString = PostgresConnectionString.Normalize(urlOrConnectionString);
        EnsureExtension(connectionString);

        var builder = new NpgsqlDataSourceBuilder(connectionString);
        builder.UseVector();
        var index = new PgSparseIndex(builder.Build(), options);
        try
        {
            index.EnsureTable();
            return index;
        }
        catch
        {
            index.Dispose();
            throw;
        }
    }

    /// <inheritdoc />
    public long Count => Convert.ToInt64(Scalar($"SELECT count(*) FROM {_table}"), CultureInfo.InvariantCulture);

    /// <summary>True when the HNSW index exists.</summary>
    public bool HasHnswIndex => Scalar($"SELECT to_regclass('{Quote(_options.HnswIndexName)}') IS NOT NULL") is true;

    /// <inheritdoc />
    /// <remarks>One transaction of <c>INSERT ... ON CONFLICT (id) DO UPDATE</c> statements sent as one batch.</remarks>
    public void Upsert(IReadOnlyList<IndexedDocument> documents, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(documents);
        if (documents.Count == 0) return;
        foreach (var d in documents) CheckDocument(d);
        using var connection = _dataSource.OpenConnection();
        using var transaction = connection.BeginTransaction();
        const int perBatch = 1000;
        for (int start = 0; start < documents.Count; start += perBatch)
        {
            cancellationToken.ThrowIfCancellationRequested();
            using var batch = new NpgsqlBatch(connection, transaction);
            for (int i = start; i < Math.Min(documents.Count, start + perBatch); i++)
            {
                var d = documents[i];
                var command = new NpgsqlBatchCommand(
                    $"INSERT INTO {_table} (id, vector, text) VALUES ($1, $2, $3) " +
                    "ON CONFLICT (id) DO UPDATE SET vector = EXCLUDED.vector, text = EXCLUDED.text");
                command.Parameters.Add(new NpgsqlParameter { Value = d.Id });
                command.Parameters.Add(new NpgsqlParameter { Value = PgVectorConversion.ToPg(d.Vector, MaxNonZeros), DataTypeName = "sparsevec" });
                command.Parameters.Add(new NpgsqlParameter { Value = (object?)d.Text ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
                batch.BatchCommands.Add(command);
            }
            using var registration = cancellationToken.Register(batch.Cancel);
            batch.ExecuteNonQuery();
        }
        transaction.Commit();
    }

    /// <summary>
    /// Loads documents with binary <c>COPY ... FROM STDIN (FORMAT BINARY)</c>, one transaction per
    /// <see cref="PgSparseIndexOptions.CopyBatchSize"/> rows. With <paramref name="replaceExisting"/>
    /// false the ids must be new (a duplicate aborts that batch with a unique violation); with true
    /// each batch is copied into a temporary table and merged with <c>ON CONFLICT (id) DO UPDATE</c>
    /// (ids must then be unique within a batch). Returns the number of rows written.
    /// </summary>
    public long BulkLoad(IEnumerable<IndexedDocument> documents, bool replaceExisting = false, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(documents);
        long total = 0;
        var pending = new List<IndexedDocument>(Math.Min(_options.CopyBatchSize, 65536));
        foreach (var d in documents)
        {
            CheckDocument(d);
            pending.Add(d);
            if (pending.Count == _options.CopyBatchSize)
            {
                total += CopyBatch(pending, replaceExisting, cancellationToken);
                pending.Clear();
            }
        }
        if (pending.Count > 0) total += CopyBatch(pending, replaceExisting, cancellationToken);
        return total;
    }

    /// <inheritdoc />
    public bool Delete(string id)
    {
        ArgumentNullException.ThrowIfNull(id);
        using var connection = _dataSource.OpenConnection();
        using var command = new NpgsqlCommand($"DELETE FROM {_table} WHERE id = $1", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = id });
        return command.ExecuteNonQuery() > 0;
    }

    /// <inheritdoc />
    /// <remarks>Each write commits its own transaction, so there is nothing left to flush.</remarks>
    public void Commit()
    {
    }

    /// <inheritdoc />
    /// <remarks>
    /// A sequential scan: index scans are switched off for the statement so that an HNSW index can
    /// never make it approximate, and ties are ordered by id. Only documents with a positive score
    /// (at least one shared dimension, for non-negative weights) are returned, as from an inverted index.
    /// </remarks>
    public IReadOnlyList<SearchHit> Search(SparseVector query, int topK, CancellationToken cancellationToken = default)
    {
        CheckQuery(query, topK);
        if (topK == 0) return [];
        return RunSearch(
            "SET LOCAL enable_indexscan = off",
            $"SELECT id, (vector <#> $1) * -1, text FROM {_table} WHERE (vector <#> $1) < 0 ORDER BY vector <#> $1, id LIMIT $2",
            query, topK, cancellationToken);
    }

    /// <summary>
    /// Approximate top-k through the HNSW index with <c>hnsw.ef_search</c> =
    /// <paramref name="efSearch"/> (default <see cref="PgSparseIndexOptions.HnswEfSearch"/>; HNSW
    /// returns at most ef_search rows, so it is raised to <paramref name="topK"/> when smaller).
    /// Hits are ordered like <see cref="Search"/>. Without an HNSW index this is an exact scan.
    /// </summary>
    public IReadOnlyList<SearchHit> SearchApproximate(SparseVector query, int topK, int? efSearch = null, CancellationToken cancellationToken = default)
    {
        CheckQuery(query, topK);
        if (topK == 0) return [];
        int ef = Math.Clamp(Math.Max(efSearch ?? _options.HnswEfSearch, topK), 1, 1000);
        var hits = RunSearch(
            "SET LOCAL hnsw.ef_search = " + ef.ToString(CultureInfo.InvariantCulture),
            // No tie-break column here: ORDER BY must be the bare distance for the planner to use HNSW.
            $"SELECT id, (vector <#> $1) * -1, text FROM {_table} ORDER BY vector <#> $1 LIMIT $2",
            query, topK, cancellationToken);
        var sorted = hits.Where(h => h.Score > 0).ToList();
        sorted.Sort(static (a, b) => b.Score != a.Score ? b.Score.CompareTo(a.Score) : string.CompareOrdinal(a.Id, b.Id));
        return sorted;
    }

    /// <summary>
    /// Builds the HNSW index <c>USING hnsw (vector sparsevec_ip_ops) WITH (m, ef_construction)</c>
    /// if it does not exist. Fails with pgvector's error when a stored vector has more than 1000
    /// non-zeros (load with <see cref="PgSparseIndexOptions.PruneForHnsw"/> to avoid that).
    /// </summary>
    public void CreateHnswIndex(CancellationToken cancellationToken = default)
    {
        string sql = $"CREATE INDEX IF NOT EXISTS {Quote(_options.HnswIndexName)} ON {_table} " +
                     $"USING hnsw (vector sparsevec_ip_ops) WITH (m = {_options.HnswM}, ef_construction = {_options.HnswEfConstruction})";
        using var connection = _dataSource.OpenConnection();
        using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 0 };
        using var registration = cancellationToken.Register(command.Cancel);
        command.ExecuteNonQuery();
    }

    /// <summary>Drops the HNSW index if it exists.</summary>
    public void DropHnswIndex() => Execute($"DROP INDEX IF EXISTS {Quote(_options.HnswIndexName)}");

    /// <summary>Drops the table (and its index). The store is unusable afterwards.</summary>
    public void DropTable() => Execute($"DROP TABLE IF EXISTS {_table}");

    /// <summary>Runs <c>ANALYZE</c> on the table so that the planner knows its size after a bulk load.</summary>
    public void Analyze() => Execute($"ANALYZE {_table}");

    /// <summary>Every stored id, streamed in no particular order.</summary>
    public IEnumerable<string> Ids()
    {
        using var connection = _dataSource.OpenConnection();
        using var command = new NpgsqlCommand($"SELECT id FROM {_table}", connection) { CommandTimeout = 0 };
        using var reader = command.ExecuteReader();
        while (reader.Read()) yield return reader.GetString(0);
    }

    /// <summary>For every dimension, the number of stored documents where it is non-zero (one pass over the table).</summary>
    public long[] DocumentFrequencies(CancellationToken cancellationToken = default)
    {
        var df = new long[_options.Dimension];
        using var connection = _dataSource.OpenConnection();
        using var command = new NpgsqlCommand($"SELECT vector FROM {_table}", connection) { CommandTimeout = 0 };
        using var registration = cancellationToken.Register(command.Cancel);
        using var reader = command.ExecuteReader();
        while (reader.Read())
            foreach (int j in reader.GetFieldValue<PgSparseVector>(0).Indices.Span) df[j]++;
        return df;
    }

    /// <summary>The table's comment (<c>COMMENT ON TABLE</c>), where a caller may record how the vectors were made; null when none.</summary>
    public string? GetComment() => Scalar($"SELECT obj_description('{_table}'::regclass, 'pg_class')") as string;

    /// <summary>Sets (or, with null, removes) the table's comment.</summary>
    public void SetComment(string? comment) =>
        Execute($"COMMENT ON TABLE {_table} IS " + (comment is null ? "NULL" : "'" + comment.Replace("'", "''") + "'"));

    /// <summary>
    /// The comment of table <paramref name="table"/> without opening it as a store (its dimension need not be
    /// known); null when the table or its comment does not exist.
    /// </summary>
    public static string? ReadComment(string urlOrConnectionString, string table)
    {
        new PgSparseIndexOptions { Table = table }.Validate();
        using var connection = new NpgsqlConnection(PostgresConnectionString.Normalize(urlOrConnectionString));
        connection.Open();
        using var command = new NpgsqlCommand("SELECT obj_description(to_regclass($1), 'pg_class')", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = Quote(table) });
        return command.ExecuteScalar() as string;
    }

    /// <summary>The stored document with id <paramref name="id"/>, or null.</summary>
    public IndexedDocument? Get(string id)
    {
        using var connection = _dataSource.OpenConnection();
        using var command = new NpgsqlCommand($"SELECT id, vector, text FROM {_table} WHERE id = $1", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = id });
        using var reader = command.ExecuteReader();
        if (!reader.Read()) return null;
        return new IndexedDocument(reader.GetString(0), PgVectorConversion.FromPg(reader.GetFieldValue<PgSparseVector>(1)),
            reader.IsDBNull(2) ? null : reader.GetString(2));
    }

    /// <inheritdoc />
    public void Dispose() => _dataSource.Dispose();

    private int? MaxNonZeros => _options.PruneForHnsw ? PgSparseIndexOptions.HnswMaxNonZeros : null;

    private long CopyBatch(List<IndexedDocument> batch, bool replaceExisting, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        using var connection = _dataSource.OpenConnection();
        using var transaction = connection.BeginTransaction();
        string target = _table;
        if (replaceExisting)
        {
            target = "splade_staging";
            using var create = new NpgsqlCommand(
                $"CREATE TEMP TABLE {target} (LIKE {_table} INCLUDING DEFAULTS) ON COMMIT DROP", connection, transaction);
            create.ExecuteNonQuery();
        }
        using (var writer = connection.BeginBinaryImport($"COPY {target} (id, vector, text) FROM STDIN (FORMAT BINARY)"))
        {
            foreach (var d in batch)
            {
                writer.StartRow();
                writer.Write(d.Id, NpgsqlDbType.Text);
                writer.Write(PgVectorConversion.ToPg(d.Vector, MaxNonZeros), "sparsevec");
                if (d.Text is null) writer.WriteNull(); else writer.Write(d.Text, NpgsqlDbType.Text);
            }
            writer.Complete();
        }
        if (replaceExisting)
        {
            using var merge = new NpgsqlCommand(
                $"INSERT INTO {_table} (id, vector, text) SELECT id, vector, text FROM {target} " +
                "ON CONFLICT (id) DO UPDATE SET vector = EXCLUDED.vector, text = EXCLUDED.text", connection, transaction)
            { CommandTimeout = 0 };
            merge.ExecuteNonQuery();
        }
        transaction.Commit();
        return batch.Count;
    }

    private List<SearchHit> RunSearch(string setting, string sql, SparseVector query, int topK, CancellationToken cancellationToken)
    {
        using var connection = _dataSource.OpenConnection();
        using var transaction = connection.BeginTransaction();
        using (var set = new NpgsqlCommand(setting, connection, transaction)) set.ExecuteNonQuery();
        using var command = new NpgsqlCommand(sql, connection, transaction);
        command.Parameters.Add(new NpgsqlParameter { Value = PgVectorConversion.ToPg(query, null), DataTypeName = "sparsevec" });
        command.Parameters.Add(new NpgsqlParameter { Value = topK });
        using var registration = cancellationToken.Register(command.Cancel);
        var hits = new List<SearchHit>(topK);
        using (var reader = command.ExecuteReader())
        {
            while (reader.Read())
                hits.Add(new SearchHit(reader.GetString(0), (float)reader.GetDouble(1), reader.IsDBNull(2) ? null : reader.GetString(2)));
        }
        transaction.Commit();
        return hits;
    }

    private void EnsureTable()
    {
        Execute($"CREATE TABLE IF NOT EXISTS {_table} (id text PRIMARY KEY, vector sparsevec({_options.Dimension}) NOT NULL, text text)");
        // An existing table must have the dimension asked for; format_type shows "sparsevec(30522)".
        object? type = Scalar(
            "SELECT format_type(a.atttypid, a.atttypmod) FROM pg_attribute a " +
            $"WHERE a.attrelid = '{_table}'::regclass AND a.attname = 'vector'");
        string expected = $"sparsevec({_options.Dimension})";
        if (type is not string actual || actual != expected)
            throw new InvalidOperationException($"Table {_options.Table} has column vector of type '{type}', expected '{expected}'.");
    }

    private static void EnsureExtension(string connectionString)
    {
        using var connection = new NpgsqlConnection(connectionString);
        connection.Open();
        using (var check = new NpgsqlCommand("SELECT extversion FROM pg_extension WHERE extname = 'vector'", connection))
        {
            if (check.ExecuteScalar() is string version) { CheckVersion(version); return; }
        }
        try
        {
            using var create = new NpgsqlCommand("CREATE EXTENSION IF NOT EXISTS vector", connection);
            create.ExecuteNonQuery();
        }
        catch (PostgresException e)
        {
            throw new InvalidOperationException(
                $"The database has no 'vector' extension and it could not be created ({e.SqlState}: {e.MessageText}). " +
                "Install pgvector >= 0.7 on the server and run CREATE EXTENSION vector as a superuser.", e);
        }
        using var again = new NpgsqlCommand("SELECT extversion FROM pg_extension WHERE extname = 'vector'", connection);
        CheckVersion((string)again.ExecuteScalar()!);
    }

    private static void CheckVersion(string version)
    {
        // sparsevec arrived in pgvector 0.7.0.
        string[] parts = version.Split('.');
        int major = int.Parse(parts[0], CultureInfo.InvariantCulture);
        int minor = parts.Length > 1 ? int.Parse(parts[1], CultureInfo.InvariantCulture) : 0;
        if (major == 0 && minor < 7)
            throw new InvalidOperationException($"pgvector {version} has no sparsevec type; version 0.7.0 or newer is needed (ALTER EXTENSION vector UPDATE after upgrading).");
    }

    private void CheckDocument(IndexedDocument document)
    {
        ArgumentNullException.ThrowIfNull(document);
        ArgumentNullException.ThrowIfNull(document.Id, "document.Id");
        ArgumentNullException.ThrowIfNull(document.Vector, "document.Vector");
        if (document.Vector.Dimension != _options.Dimension)
            throw new ArgumentException($"Document '{document.Id}' has dimension {document.Vector.Dimension}, the table {_options.Table} holds sparsevec({_options.Dimension}).");
        if (!_options.PruneForHnsw && document.Vector.Count > PgSparseIndexOptions.SparsevecMaxNonZeros)
            throw new ArgumentException($"Document '{document.Id}' has {document.Vector.Count} non-zeros; sparsevec holds at most {PgSparseIndexOptions.SparsevecMaxNonZeros}.");
    }

    private void CheckQuery(SparseVector query, int topK)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentOutOfRangeException.ThrowIfNegative(topK);
        if (query.Dimension != _options.Dimension)
            throw new ArgumentException($"Query has dimension {query.Dimension}, the table {_options.Table} holds sparsevec({_options.Dimension}).", nameof(query));
    }

    private void Execute(string sql)
    {
        using var connection = _dataSource.OpenConnection();
        using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 0 };
        command.ExecuteNonQuery();
    }

    private object? Scalar(string sql)
    {
        using var connection = _dataSource.OpenConnection();
        using var command = new NpgsqlCommand(sql, connection);
        return command.ExecuteScalar();
    }

    private static string Quote(string identifier) => "\"" + identifier.Replace("\"", "\"\"") + "\"";
}
