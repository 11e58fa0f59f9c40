using Npgsql;

namespace Splade.Postgres;

/// <summary>
/// Turns the two usual ways of naming a PostgreSQL server into an Npgsql connection string:
/// a URL <c>postgres://user:pass@host:port/db?sslmode=require</c> (also <c>postgresql://</c>) or
/// an Npgsql key/value string (<c>Host=...;Username=...</c>), which is passed through.
/// </summary>
public static class PostgresConnectionString
{
    /// <summary>Default port when a URL names none.</summary>
    public const int DefaultPort = 5432;

    /// <summary>Returns an Npgsql connection string for <paramref name="urlOrConnectionString"/>.</summary>
    /// <exception cref="ArgumentException">The URL is malformed (no host, bad port, unknown query option).</exception>
    public static string Normalize(string urlOrConnectionString)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(urlOrConnectionString);
        string s = urlOrConnectionString.Trim();
        if (!s.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase) &&
            !s.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase))
        {
            // Validate early so a typo fails here with the offending text, not at first use.
            try { return new NpgsqlConnectionStringBuilder(s).ConnectionString; }
            catch (ArgumentException e) { throw new ArgumentException($"Not a PostgreSQL URL or Npgsql connection string: {e.Message}", nameof(urlOrConnectionString), e); }
        }

        if (!Uri.TryCreate(s, UriKind.Absolute, out Uri? uri) || string.IsNullOrEmpty(uri.Host))
            throw new ArgumentException($"Malformed PostgreSQL URL '{Redact(s)}': expected postgres://user:pass@host:port/db.", nameof(urlOrConnectionString));

        var builder = new NpgsqlConnectionStringBuilder
        {
            Host = uri.Host.Trim('[', ']'),
            Port = uri.IsDefaultPort || uri.Port < 0 ? DefaultPort : uri.Port,
        };
        if (!string.IsNullOrEmpty(uri.UserInfo))
        {
            string[] parts = uri.UserInfo.Split(':', 2);
            builder.Username = Uri.UnescapeDataString(parts[0]);
            if (parts.Length == 2) builder.Password = Uri.UnescapeDataString(parts[1]);
        }
        string database = Uri.UnescapeDataString(uri.AbsolutePath.TrimStart('/'));
        if (database.Length > 0) builder.Database = database;

        foreach (string pair in uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            string[] kv = pair.Split('=', 2);
            string key = Uri.UnescapeDataString(kv[0]);
            string value = kv.Length == 2 ? Uri.UnescapeDataString(kv[1]) : "";
            switch (key.ToLowerInvariant())
            {
                case "sslmode": builder.SslMode = Enum.Parse<SslMode>(value.Replace("-", ""), ignoreCase: true); break;
                case "application_name": builder.ApplicationName = value; break;
                case "connect_timeout": builder.Timeout = int.Parse(value, System.Globalization.CultureInfo.InvariantCulture); break;
                case "options": builder.Options = value; break;
                default:
                    // Anything else is tried as an Npgsql keyword (e.g. "Pooling", "Command Timeout").
                    try { builder[key] = value; }
                    catch (ArgumentException e) { throw new ArgumentException($"Unknown option '{key}' in PostgreSQL URL '{Redact(s)}'.", nameof(urlOrConnectionString), e); }
                    break;
            }
        }
        return builder.ConnectionString;
    }

    /// <summary>The URL with its password replaced by <c>***</c>, for messages.</summary>
    public static string Redact(string url)
    {
        int scheme = url.IndexOf("://", StringComparison.Ordinal);
        int at = url.IndexOf('@');
        if (scheme < 0 || at < 0) return url;
        int colon = url.IndexOf(':', scheme + 3);
        return colon > 0 && colon < at ? url[..(colon + 1)] + "***" + url[at..] : url;
    }
}
