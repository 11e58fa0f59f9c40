using System.Text.Json;

namespace Splade.Cli.Io;

/// <summary>One input text and its optional id (kept as the raw JSON value: string or number).</summary>
internal readonly record struct TextRecord(JsonElement? Id, string Text, long LineNumber);

/// <summary>
/// Reads texts from JSON lines (<c>{"id": ..., "text": ...}</c>; <c>_id</c> is accepted for id and a
/// non-empty <c>title</c> is prepended to <c>text</c> with a space, as in BEIR corpora) or, with
/// <c>--input-format text</c>, one text per line. Blank JSON lines are skipped; blank text lines are
/// empty texts. Malformed lines fail with the file name and line number.
/// </summary>
internal static class TextRecords
{
    public static IEnumerable<TextRecord> Read(InputLines input, bool jsonLines)
    {
        while (input.ReadLine() is { } line)
        {
            if (!jsonLines)
            {
                yield return new TextRecord(null, line, input.LineNumber);
                continue;
            }
            if (string.IsNullOrWhiteSpace(line)) continue;
            yield return Parse(line, input.Name, input.LineNumber);
        }
    }

    internal static TextRecord Parse(string line, string source, long lineNumber)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(line);
        }
        catch (JsonException e)
        {
            throw new CliException($"{source}:{lineNumber}: malformed JSON: {e.Message}");
        }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                throw new CliException($"{source}:{lineNumber}: expected a JSON object with a \"text\" field, got {root.ValueKind}.");
            if (JsonText.FindLoneSurrogate(root) is { } where)
                throw new CliException($"{source}:{lineNumber}: the string at {where} holds an escaped lone surrogate (\\uD800-\\uDFFF without its pair).");
            JsonElement? id = null;
            if (root.TryGetProperty("id", out var idEl) || root.TryGetProperty("_id", out idEl))
            {
                if (idEl.ValueKind is not (JsonValueKind.String or JsonValueKind.Number))
                    throw new CliException($"{source}:{lineNumber}: \"id\" must be a string or a number, got {idEl.ValueKind}.");
                id = idEl.Clone();
            }
            if (!root.TryGetProperty("text", out var textEl))
                throw new CliException($"{source}:{lineNumber}: missing \"text\" field.");
            if (textEl.ValueKind != JsonValueKind.String)
                throw new CliException($"{source}:{lineNumber}: \"text\" must be a string, got {textEl.ValueKind}.");
            string text = textEl.GetString()!;
            if (root.TryGetProperty("title", out var titleEl) && titleEl.ValueKind == JsonValueKind.String && titleEl.GetString() is { Length: > 0 } title)
                text = text.Length == 0 ? title : title + " " + text;
            return new TextRecord(id, text, lineNumber);
        }
    }
}
