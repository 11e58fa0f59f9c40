using System.Text.Json;

namespace Splade;

/// <summary>
/// System.Text.Json accepts an escaped lone surrogate (<c>"\ud800"</c>) when it parses a document but
/// throws <see cref="InvalidOperationException"/> from <see cref="JsonElement.GetString"/> later,
/// far from the file (even <see cref="JsonElement.TryGetProperty(string, out JsonElement)"/> throws
/// when a property name holds one). Readers call <c>FindLoneSurrogate</c> once after parsing, so
/// that such input fails where the file, line or request is known.
/// </summary>
public static class JsonText
{
    /// <summary>
    /// The JSON path of the first string value or property name holding an unpaired surrogate escape,
    /// or null when every string can be read. <paramref name="utf8"/> (the parsed bytes) is scanned
    /// first so that documents without any <c>\uD8xx</c>–<c>\uDFxx</c> escape are not walked.
    /// </summary>
    public static string? FindLoneSurrogate(ReadOnlySpan<byte> utf8, JsonElement root)
    {
        if (!HasSurrogateEscape(utf8)) return null;
        return Find(root, "$");
    }

    /// <summary>Like <see cref="FindLoneSurrogate(ReadOnlySpan{byte}, JsonElement)"/>, walking every string (for small documents).</summary>
    public static string? FindLoneSurrogate(JsonElement root) => Find(root, "$");

    private static bool HasSurrogateEscape(ReadOnlySpan<byte> utf8)
    {
        for (int i = utf8.IndexOf((byte)'\\'); i >= 0 && i + 3 < utf8.Length; )
        {
            if (utf8[i + 1] == (byte)'u' && (utf8[i + 2] | 0x20) == (byte)'d' && utf8[i + 3] is (>= (byte)'8' and <= (byte)'9') or (>= (byte)'a' and <= (byte)'f') or (>= (byte)'A' and <= (byte)'F'))
                return true;
            int next = utf8[(i + 1)..].IndexOf((byte)'\\');
            if (next < 0) break;
            i += 1 + next;
        }
        return false;
    }

    private static string? Find(JsonElement e, string path)
    {
        switch (e.ValueKind)
        {
            case JsonValueKind.String:
                return Readable(e) ? null : path;
            case JsonValueKind.Array:
                int i = 0;
                foreach (JsonElement item in e.EnumerateArray())
                {
                    if (Find(item, $"{path}[{i}]") is { } bad) return bad;
                    i++;
                }
                return null;
            case JsonValueKind.Object:
                foreach (JsonProperty p in e.EnumerateObject())
                {
                    string name;
                    try { name = p.Name; }
                    catch (InvalidOperationException) { return path + " (a property name)"; }
                    if (Find(p.Value, $"{path}.{name}") is { } bad) return bad;
                }
                return null;
            default:
                return null;
        }
    }

    private static bool Readable(JsonElement e)
    {
        try
        {
            e.GetString();
            return true;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }
}
