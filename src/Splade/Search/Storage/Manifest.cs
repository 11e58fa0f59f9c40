using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Splade.Search.Storage;

/// <summary>One segment as recorded in the manifest.</summary>
internal sealed record SegmentEntry(
    [property: JsonPropertyName("file")] string File,
    [property: JsonPropertyName("docs")] int Docs,
    [property: JsonPropertyName("bytes")] long Bytes,
    [property: JsonPropertyName("crc32c")] uint Crc,
    [property: JsonPropertyName("deletes")] string? DeletesFile,
    [property: JsonPropertyName("deletes_crc32c")] uint DeletesCrc,
    [property: JsonPropertyName("deleted")] int Deleted);

/// <summary>
/// The commit point of an index: which segment and deletion files make up the committed state.
/// File <c>MANIFEST</c>: a first line <c>SPLADE-INDEX-MANIFEST 1 crc32c=XXXXXXXX bytes=N</c>, then N bytes
/// of JSON. It is only ever replaced atomically (temp file, fsync, rename, fsync of the directory).
/// </summary>
internal sealed record Manifest(
    [property: JsonPropertyName("generation")] long Generation,
    [property: JsonPropertyName("dimension")] int Dimension,
    [property: JsonPropertyName("next_segment")] long NextSegment,
    [property: JsonPropertyName("segments")] IReadOnlyList<SegmentEntry> Segments)
{
    public const string FileName = "MANIFEST";
    private const string Prefix = "SPLADE-INDEX-MANIFEST 1 ";

    public byte[] Serialize()
    {
        byte[] json = JsonSerializer.SerializeToUtf8Bytes(this, new JsonSerializerOptions { WriteIndented = true });
        string head = $"{Prefix}crc32c={Crc32C.Compute(json):x8} bytes={json.Length}\n";
        return [.. Encoding.ASCII.GetBytes(head), .. json];
    }

    public static bool Exists(string directory) => System.IO.File.Exists(Path.Combine(directory, FileName));

    public static Manifest Read(string directory)
    {
        string path = Path.Combine(directory, FileName);
        if (!System.IO.File.Exists(path)) throw IndexCorruption.Create(path, "missing", $"'{directory}' is not an index: '{FileName}' is missing.");
        byte[] bytes = System.IO.File.ReadAllBytes(path);
        int nl = Array.IndexOf(bytes, (byte)'\n');
        string head = nl > 0 ? Encoding.ASCII.GetString(bytes, 0, nl) : "";
        if (!head.StartsWith(Prefix, StringComparison.Ordinal))
            throw IndexCorruption.Create(path, "header", $"Index manifest '{path}' has an unknown header: '{Truncate(head)}'.");
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string[] f in head[Prefix.Length..].Split(' ').Select(f => f.Split('=', 2)).Where(f => f.Length == 2))
            if (!fields.TryAdd(f[0], f[1]))
                throw IndexCorruption.Create(path, "header", $"Index manifest '{path}' has a malformed header (repeated '{f[0]}'): '{Truncate(head)}'.");
        if (!fields.TryGetValue("crc32c", out string? crcText) || !uint.TryParse(crcText, NumberStyles.HexNumber, CultureInfo.InvariantCulture, out uint crc) ||
            !fields.TryGetValue("bytes", out string? lenText) || !int.TryParse(lenText, CultureInfo.InvariantCulture, out int length))
            throw IndexCorruption.Create(path, "header", $"Index manifest '{path}' has a malformed header: '{Truncate(head)}'.");
        var json = bytes.AsSpan(nl + 1);
        if (json.Length != length) throw IndexCorruption.Create(path, "size", $"Index manifest '{path}' is truncated: {json.Length} bytes of JSON, expected {length}.");
        uint actual = Crc32C.Compute(json);
        if (actual != crc) throw IndexCorruption.Create(path, "crc", $"Index manifest '{path}' is corrupt: CRC-32C {actual:x8}, expected {crc:x8}.");
        Manifest? manifest;
        try
        {
            manifest = JsonSerializer.Deserialize<Manifest>(json);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            // The checksum matched, so the writer itself produced this: still an error naming the file.
            throw IndexCorruption.Create(path, "structure", $"Index manifest '{path}' is malformed: {e.Message}", e);
        }
        if (manifest is null) throw IndexCorruption.Create(path, "structure", $"Index manifest '{path}' is empty.");
        manifest.Validate(path);
        return manifest;
    }

    /// <summary>Checks what later code relies on: a positive dimension, segment lists and plain file names inside the index folder.</summary>
    private void Validate(string path)
    {
        string? problem = Dimension <= 0 ? $"dimension {Dimension} is not positive"
            : Segments is null ? "'segments' is missing"
            : Segments.Select((s, i) => s is null ? $"segment {i} is null"
                : !IsPlainFileName(s.File) ? $"segment {i} file '{s.File}' is not a file name inside the index"
                : s.DeletesFile is not null && !IsPlainFileName(s.DeletesFile) ? $"segment {i} deletes file '{s.DeletesFile}' is not a file name inside the index"
                : s.Docs < 0 || s.Deleted < 0 || s.Deleted > s.Docs ? $"segment {i} has {s.Docs} docs and {s.Deleted} deleted"
                : null).FirstOrDefault(p => p is not null);
        if (problem is not null) throw IndexCorruption.Create(path, "structure", $"Index manifest '{path}' is malformed: {problem}.");
    }

    private static bool IsPlainFileName(string? name) =>
        !string.IsNullOrEmpty(name) && name != "." && name != ".." && name.IndexOfAny(['/', '\\', '\0']) < 0;

    private static string Truncate(string s) => s.Length > 80 ? s[..80] + "..." : s;
}
