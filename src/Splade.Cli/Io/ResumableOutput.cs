using System.Text.Json;

namespace Splade.Cli.Io;

/// <summary>
/// Output of a restartable job: one JSON line per input record, in input order. On restart the
/// complete lines already written are kept (a torn last line is cut off), their count tells how many
/// records to skip, and the id of the last kept line is checked against the input so that an output
/// file is never continued with a different input or shard.
/// </summary>
internal static class ResumableOutput
{
    /// <summary>Opens <paramref name="path"/> for appending after its last complete line; returns the stream and the number of complete lines.</summary>
    public static (FileStream Stream, long Lines, JsonElement? LastId) Open(string path)
    {
        string? dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (dir is not null) Directory.CreateDirectory(dir);
        var stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read, 1 << 16);
        long keep = 0, lines = 0, lastStart = -1, lineStart = 0;
        var buffer = new byte[1 << 16];
        long position = 0;
        int n;
        while ((n = stream.Read(buffer, 0, buffer.Length)) > 0)
        {
            for (int i = 0; i < n; i++)
            {
                if (buffer[i] != (byte)'\n') continue;
                lines++;
                lastStart = lineStart;
                lineStart = position + i + 1;
                keep = lineStart;
            }
            position += n;
        }
        JsonElement? lastId = null;
        if (lastStart >= 0)
        {
            stream.Position = lastStart;
            var line = new byte[keep - lastStart - 1];
            stream.ReadExactly(line);
            try
            {
                using var doc = JsonDocument.Parse(line);
                if (doc.RootElement.TryGetProperty("id", out var id)) lastId = id.Clone();
            }
            catch (JsonException e)
            {
                stream.Dispose();
                throw new CliException($"cannot resume {path}: its last complete line is not JSON ({e.Message}).");
            }
        }
        stream.SetLength(keep);
        stream.Position = keep;
        return (stream, lines, lastId);
    }

    /// <summary>Whether two JSON ids are the same value.</summary>
    public static bool SameId(JsonElement? a, JsonElement? b) =>
        (a is null && b is null) || (a is { } x && b is { } y && x.ValueKind == y.ValueKind && x.GetRawText() == y.GetRawText());
}
