namespace Splade.Search;

/// <summary>
/// Which file of an embedded index is missing or damaged and which check it failed. Every such error
/// is an <see cref="InvalidDataException"/> whose message names the file; these helpers read the two
/// facts back from <see cref="Exception.Data"/>. Checks: <c>missing</c>, <c>size</c> (truncated or
/// grown), <c>header</c> (magic, footer or header fields), <c>version</c>, <c>crc</c> (CRC-32C mismatch)
/// and <c>structure</c> (offsets, counts or postings that do not add up).
/// </summary>
public static class IndexCorruption
{
    private const string FileKey = "splade.index.file", CheckKey = "splade.index.check";

    internal static InvalidDataException Create(string path, string check, string message, Exception? inner = null)
    {
        var e = new InvalidDataException(message, inner);
        e.Data[FileKey] = path;
        e.Data[CheckKey] = check;
        return e;
    }

    /// <summary>The damaged file named by an index error, or null when <paramref name="e"/> is not one.</summary>
    public static string? FileOf(Exception e) => e.Data[FileKey] as string;

    /// <summary>The failed check (missing, size, header, version, crc, structure), or null when <paramref name="e"/> is not an index error.</summary>
    public static string? CheckOf(Exception e) => e.Data[CheckKey] as string;
}
