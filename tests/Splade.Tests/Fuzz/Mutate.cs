using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Splade.Tests.Fuzz;

/// <summary>A mutated input and what was done to it (for failure messages).</summary>
internal readonly record struct Mutant(byte[] Data, string What)
{
    public string Text => Encoding.UTF8.GetString(Data);
}

/// <summary>
/// Input mutators: byte flips, truncations, random and "interesting" insertions (invalid UTF-8,
/// BOMs, CRLF, NUL, lone-surrogate escapes, JSON punctuation, huge and special numbers), range
/// deletions and duplications, and JSON-aware edits (fields removed or duplicated, values of the
/// wrong type, deep nesting, very long strings).
/// </summary>
internal static class Mutate
{
    private static readonly byte[][] InterestingBytes =
    [
        [0xFF], [0xC3, 0x28], [0xED, 0xA0, 0x80], [0xC0, 0xAF], [0xF4, 0x90, 0x80, 0x80], [0xE2, 0x82], [0x80],
        [0xEF, 0xBB, 0xBF], "\r\n"u8.ToArray(), "\r"u8.ToArray(), "\n"u8.ToArray(), [0], "\\ud800"u8.ToArray(), "\\udc00"u8.ToArray(),
        "\""u8.ToArray(), "{"u8.ToArray(), "}"u8.ToArray(), "["u8.ToArray(), "]"u8.ToArray(), ","u8.ToArray(), ":"u8.ToArray(),
        "\t"u8.ToArray(), " "u8.ToArray(), "NaN"u8.ToArray(), "Infinity"u8.ToArray(), "-1"u8.ToArray(), "1e400"u8.ToArray(),
        "99999999999999999999"u8.ToArray(), "-9223372036854775809"u8.ToArray(), "/*"u8.ToArray(), "//"u8.ToArray(), "\\"u8.ToArray(),
    ];

    /// <summary>Raw JSON values of every kind, including ones System.Text.Json refuses (NaN, Infinity).</summary>
    public static readonly string[] WrongValues =
    [
        "null", "true", "false", "0", "-1", "1", "1.5", "-0.0", "2147483647", "2147483648", "-2147483649", "4294967296",
        "9223372036854775807", "9223372036854775808", "-9223372036854775809", "1e400", "-1e400", "1e-400", "1E+2", "1e30",
        "NaN", "Infinity", "-Infinity", "\"\"", "\"x\"", "\"NaN\"", "\"\\ud800\"", "\"a\\udc00b\\ud800\"", "\"\\u0000\"", "\"../../x\"",
        "\"/etc/passwd\"", "\"F32\"", "\"I64\"", "[]", "{}", "[1,2]", "[-1]", "[0,0,0]", "{\"a\":1}", "[\"x\"]", "[null]", "[[1]]",
    ];

    /// <summary>Applies 1–3 byte-level mutations.</summary>
    public static Mutant Bytes(Random r, byte[] input)
    {
        byte[] data = input;
        var what = new List<string>();
        int count = r.Next(1, 4);
        for (int k = 0; k < count; k++) data = OneByteMutation(r, data, what);
        return new Mutant(data, string.Join("; ", what));
    }

    private static byte[] OneByteMutation(Random r, byte[] data, List<string> what)
    {
        int n = data.Length;
        switch (r.Next(10))
        {
            case 0 when n > 0:
            {
                int at = r.Next(n), bit = r.Next(8);
                var d = (byte[])data.Clone();
                d[at] ^= (byte)(1 << bit);
                what.Add($"flip bit {bit} at {at}");
                return d;
            }
            case 1 when n > 0:
            {
                int at = r.Next(n);
                var d = (byte[])data.Clone();
                d[at] = (byte)r.Next(256);
                what.Add($"byte {at} := 0x{d[at]:X2}");
                return d;
            }
            case 2:
            {
                int len = r.Next(n + 1);
                what.Add($"truncate to {len}");
                return data[..len];
            }
            case 3:
            {
                var ins = new byte[r.Next(1, 17)];
                r.NextBytes(ins);
                int at = r.Next(n + 1);
                what.Add($"insert {ins.Length} random bytes at {at}");
                return [.. data.AsSpan(0, at), .. ins, .. data.AsSpan(at)];
            }
            case 4:
            case 5:
            {
                byte[] ins = InterestingBytes[r.Next(InterestingBytes.Length)];
                int at = r.Next(n + 1);
                what.Add($"insert {Convert.ToHexString(ins)} at {at}");
                return [.. data.AsSpan(0, at), .. ins, .. data.AsSpan(at)];
            }
            case 6 when n > 0:
            {
                int at = r.Next(n), len = r.Next(1, Math.Min(n - at, 64) + 1);
                what.Add($"delete {len} at {at}");
                return [.. data.AsSpan(0, at), .. data.AsSpan(at + len)];
            }
            case 7 when n > 0:
            {
                int at = r.Next(n), len = r.Next(1, Math.Min(n - at, 64) + 1);
                what.Add($"duplicate {len} at {at}");
                return [.. data.AsSpan(0, at + len), .. data.AsSpan(at, len), .. data.AsSpan(at + len)];
            }
            case 8:
                what.Add("prepend BOM");
                return [0xEF, 0xBB, 0xBF, .. data];
            default:
                what.Add("LF -> CRLF");
                return Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(data).Replace("\n", "\r\n"));
        }
    }

    /// <summary>
    /// One JSON-aware edit of <paramref name="json"/> (then, one time in four, byte mutations on top).
    /// Falls back to byte mutations when the text does not parse.
    /// </summary>
    public static Mutant Json(Random r, string json)
    {
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(json, documentOptions: new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
        }
        catch (Exception e) when (e is JsonException or ArgumentException or InvalidOperationException)
        {
            return Bytes(r, Encoding.UTF8.GetBytes(json));
        }
        var slots = new List<(JsonNode Parent, string? Key, int Index)>();
        Collect(root, slots);
        string text;
        string what;
        const string Placeholder = "\u0001FUZZ\u0001";
        string quoted = JsonSerializer.Serialize(Placeholder);
        if (slots.Count == 0 || root is null)
        {
            text = WrongValue(r, out what);
        }
        else
        {
            var (parent, key, index) = slots[r.Next(slots.Count)];
            JsonNode? old = key is not null ? parent[key] : parent[index];
            string oldRaw = old?.ToJsonString() ?? "null";
            string place = key is not null ? $"'{key}'" : $"[{index}]";
            string replacement;
            switch (r.Next(6))
            {
                case 0:
                    if (key is not null) parent.AsObject().Remove(key);
                    else parent.AsArray().RemoveAt(index);
                    what = $"remove {place}";
                    replacement = "";
                    break;
                case 1:
                    if (key is not null)
                    {
                        string dup = r.Next(2) == 0 ? oldRaw : WrongValue(r, out _);
                        replacement = oldRaw + "," + JsonSerializer.Serialize(key) + ":" + dup;
                        what = $"duplicate {place} with {Clip(dup)}";
                    }
                    else
                    {
                        replacement = oldRaw + "," + oldRaw;
                        what = $"duplicate element {place}";
                    }
                    SetPlaceholder(parent, key, index, Placeholder);
                    break;
                case 2:
                    if (old is JsonObject obj)
                    {
                        obj["fuzz_" + r.Next(100)] = Placeholder;
                        replacement = WrongValue(r, out string v);
                        what = $"add unknown field in {place} = {v}";
                    }
                    else
                    {
                        replacement = WrongValue(r, out string v);
                        SetPlaceholder(parent, key, index, Placeholder);
                        what = $"{place} := {v}";
                    }
                    break;
                default:
                    replacement = WrongValue(r, out string w);
                    SetPlaceholder(parent, key, index, Placeholder);
                    what = $"{place} := {Clip(w)}";
                    break;
            }
            text = root.ToJsonString().Replace(quoted, replacement, StringComparison.Ordinal);
        }
        byte[] bytes = Encoding.UTF8.GetBytes(text);
        if (r.Next(4) == 0)
        {
            var m = Bytes(r, bytes);
            return new Mutant(m.Data, what + "; then " + m.What);
        }
        return new Mutant(bytes, what);
    }

    private static string Clip(string s) => s.Length > 60 ? s[..60] + "..." : s;

    /// <summary>A mutation of either kind.</summary>
    public static Mutant Any(Random r, string json) => r.Next(3) == 0 ? Bytes(r, Encoding.UTF8.GetBytes(json)) : Json(r, json);

    private static void SetPlaceholder(JsonNode parent, string? key, int index, string placeholder)
    {
        if (key is not null) parent[key] = placeholder;
        else parent[index] = placeholder;
    }

    private static void Collect(JsonNode? node, List<(JsonNode, string?, int)> slots)
    {
        if (node is JsonObject o)
        {
            foreach (var (k, v) in o.ToList())
            {
                slots.Add((o, k, -1));
                Collect(v, slots);
            }
        }
        else if (node is JsonArray a)
        {
            // Big arrays (vocabularies) would drown the other slots: sample a few elements.
            int step = Math.Max(1, a.Count / 8);
            for (int i = 0; i < a.Count; i += step)
            {
                slots.Add((a, null, i));
                Collect(a[i], slots);
            }
        }
    }

    /// <summary>A value of a random kind, sometimes deep or very long.</summary>
    public static string WrongValue(Random r, out string what)
    {
        switch (r.Next(12))
        {
            case 0:
            {
                int depth = r.Next(2) == 0 ? r.Next(10, 70) : r.Next(200, 3000);
                what = $"nesting depth {depth}";
                return r.Next(2) == 0 ? new string('[', depth) + new string(']', depth) : string.Concat(Enumerable.Repeat("{\"a\":", depth)) + "1" + new string('}', depth);
            }
            case 1:
            {
                int len = r.Next(2) == 0 ? r.Next(1000, 5000) : r.Next(100_000, 300_000);
                what = $"string of {len} chars";
                return "\"" + new string((char)r.Next('a', 'z' + 1), len) + "\"";
            }
            case 2:
            {
                int len = r.Next(20, 400);
                what = $"number of {len} digits";
                return "1" + new string('9', len);
            }
            default:
            {
                string v = WrongValues[r.Next(WrongValues.Length)];
                what = v;
                return v;
            }
        }
    }

    /// <summary>Random text: awkward Unicode, lone surrogates, controls, and sometimes very long.</summary>
    public static string Text(Random r, int maxLength = 200)
    {
        var sb = new StringBuilder();
        int mode = r.Next(10);
        if (mode == 0)
        {
            // Raw UTF-16 units, lone surrogates included.
            int len = r.Next(maxLength + 1);
            for (int i = 0; i < len; i++) sb.Append((char)r.Next(0x10000));
            return sb.ToString();
        }
        if (mode == 1)
        {
            int len = r.Next(maxLength + 1);
            for (int i = 0; i < len; i++)
                sb.Append(r.Next(4) switch { 0 => '\uD800', 1 => '\uDFFF', 2 => (char)r.Next(0x20), _ => (char)r.Next('a', 'z' + 1) });
            return sb.ToString();
        }
        string s = Tokenization.RandomTextGenerator.Generate(r.Next(), 1).Last();
        return s.Length > maxLength ? s[..maxLength] : s;
    }
}
