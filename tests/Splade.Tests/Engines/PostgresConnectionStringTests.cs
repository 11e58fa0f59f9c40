using Npgsql;
using Splade.Postgres;

namespace Splade.Tests.Engines;

public sealed class PostgresConnectionStringTests
{
    [Fact]
    public void Url_becomes_npgsql_keywords()
    {
        var b = new NpgsqlConnectionStringBuilder(PostgresConnectionString.Normalize("postgres://splade:s%40cret@127.0.0.1:5433/vectors?sslmode=disable&application_name=ingest"));
        Assert.Equal("127.0.0.1", b.Host);
        Assert.Equal(5433, b.Port);
        Assert.Equal("splade", b.Username);
        Assert.Equal("s@cret", b.Password);
        Assert.Equal("vectors", b.Database);
        Assert.Equal(SslMode.Disable, b.SslMode);
        Assert.Equal("ingest", b.ApplicationName);
    }

    [Fact]
    public void Url_without_port_uses_5432_and_connection_strings_pass_through()
    {
        var b = new NpgsqlConnectionStringBuilder(PostgresConnectionString.Normalize("postgresql://u@db.example/x"));
        Assert.Equal(5432, b.Port);
        Assert.Equal("u", b.Username);
        Assert.Null(b.Password);
        var c = new NpgsqlConnectionStringBuilder(PostgresConnectionString.Normalize("Host=h;Port=6000;Username=a;Database=d"));
        Assert.Equal(("h", 6000, "a", "d"), (c.Host, c.Port, c.Username, c.Database));
    }

    [Fact]
    public void Bad_inputs_fail_with_the_password_hidden()
    {
        var e = Assert.Throws<ArgumentException>(() => PostgresConnectionString.Normalize("postgres://u:pw@h:5432/d?bogus_option=1"));
        Assert.Contains("bogus_option", e.Message);
        Assert.DoesNotContain(":pw@", e.Message);
        Assert.Throws<ArgumentException>(() => PostgresConnectionString.Normalize("Hots=x;;=="));
        Assert.Equal("postgres://u:***@h/d", PostgresConnectionString.Redact("postgres://u:pw@h/d"));
    }

    [Fact]
    public void Options_validate_names_and_hnsw_ranges()
    {
        Assert.Throws<ArgumentException>(() => new PgSparseIndexOptions { Table = "x; drop table y" }.Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => new PgSparseIndexOptions { HnswM = 1 }.Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => new PgSparseIndexOptions { HnswEfSearch = 0 }.Validate());
        new PgSparseIndexOptions().Validate();
    }
}
