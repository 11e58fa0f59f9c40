using System.Text.Json;

namespace Splade.Models;

/// <summary>Small helpers to read model JSON files with errors that name the file.</summary>
internal static class ModelJson
{
    public static JsonDocument Parse(string path)
    {
        if (!File.Exists(path)) throw new ModelLoadException(path, "file not found.");
        byte[] bytes = File.ReadAllBytes(path);
        RequireUtf8(path, bytes);
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(bytes, new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
        }
        catch (JsonException e)
        {
            throw new ModelLoadException(path, $"not well-formed JSON: {e.Message}", e);
        }
        RequireReadableStrings(path, bytes, doc);
        return doc;
    }

    /// <summary>Throws (disposing <paramref name="doc"/>) when a string holds an escaped lone surrogate.</summary>
    public static void RequireReadableStrings(string path, ReadOnlySpan<byte> bytes, JsonDocument doc)
    {
        if (JsonText.FindLoneSurrogate(bytes, doc.RootElement) is not { } where) return;
        doc.Dispose();
        throw new ModelLoadException(path, $"the string at {where} holds an escaped lone surrogate (\\uD800-\\uDFFF without its pair).");
    }

    /// <summary>
    /// JsonDocument checks UTF-8 only when a string is decoded, which would surface later as an
    /// InvalidOperationException far from the file; JSON files must be UTF-8 (RFC 8259), so check first.
    /// </summary>
    public static void RequireUtf8(string path, ReadOnlySpan<byte> bytes)
    {
        if (System.Text.Unicode.Utf8.IsValid(bytes)) return;
        System.Text.Unicode.Utf8.ToUtf16(bytes, new char[bytes.Length], out int valid, out _, replaceInvalidSequences: false);
        throw new ModelLoadException(path, $"not valid UTF-8 (first invalid byte at offset {valid}).");
    }

    public static string? String(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out JsonElement v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    public static int? Int(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out JsonElement v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out int i) ? i : null;

    public static double? Double(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out JsonElement v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : null;

    public static bool? Bool(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out JsonElement v) && (v.ValueKind is JsonValueKind.True or JsonValueKind.False) ? v.GetBoolean() : null;
}
