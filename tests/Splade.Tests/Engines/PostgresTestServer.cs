using Npgsql;
using Xunit.Abstractions;

namespace Splade.Tests.Engines;

/// <summary>
/// Finds the PostgreSQL server with pgvector used by the integration tests: the URL in
/// SPLADE_TEST_PG, else the one `.ci/postgres.sh` wrote to /tmp/splade-test-pg.url. Null (with
/// the reason) when none answers, so the tests skip instead of failing on machines without it.
/// </summary>
internal static class PostgresTestServer
{
    public const string UrlFile = "/tmp/splade-test-pg.url";

    private static readonly Lazy<(string? Url, string Reason)> Probe = new(Find);

    public static string? Url(ITestOutputHelper output)
    {
        var (url, reason) = Probe.Value;
        if (url is null) output.WriteLine($"SKIPPED: no PostgreSQL server with pgvector: {reason}. Run `bash .ci/postgres.sh` or set SPLADE_TEST_PG.");
        return url;
    }

    /// <summary>A table name no other test run uses.</summary>
    public static string UniqueTable(string prefix)
    {
        string name = $"{prefix}_{Guid.NewGuid():N}";
        return name[..Math.Min(name.Length, 48)];
    }

    private static (string?, string) Find()
    {
        string? url = Environment.GetEnvironmentVariable("SPLADE_TEST_PG");
        string source = "SPLADE_TEST_PG";
        if (string.IsNullOrWhiteSpace(url))
        {
            if (!File.Exists(UrlFile)) return (null, $"SPLADE_TEST_PG is not set and {UrlFile} does not exist");
            url = File.ReadAllText(UrlFile).Trim();
            source = UrlFile;
        }
        try
        {
            var builder = new NpgsqlConnectionStringBuilder(Splade.Postgres.PostgresConnectionString.Normalize(url)) { Timeout = 3 };
            using var connection = new NpgsqlConnection(builder.ConnectionString);
            connection.Open();
            using var command = new NpgsqlCommand("SELECT 1", connection);
            command.ExecuteScalar();
            return (url, "");
        }
        catch (Exception e) when (e is NpgsqlException or ArgumentException or InvalidOperationException or System.Net.Sockets.SocketException)
        {
            return (null, $"{Splade.Postgres.PostgresConnectionString.Redact(url)} (from {source}) did not answer: {e.Message}");
        }
    }
}
