using System.Text.Json;

namespace Splade.Training.Data;

/// <summary>
/// Reads training rows from JSON lines: <c>{"query", "positive", "negative"}</c>, or <c>"negatives": [...]</c>,
/// or <c>"negative_1".."negative_n"</c>; an optional <c>"label"</c> (number or array: teacher margins).
/// </summary>
public static class JsonlTrainingRows
{
    public static List<TrainingRow> Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: training file not found.", path);
        var rows = new List<TrainingRow>();
        int lineNo = 0;
        foreach (string line in File.ReadLines(path))
        {
            lineNo++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            try
            {
                rows.Add(Parse(line));
            }
            catch (Exception e) when (e is JsonException or InvalidDataException or InvalidOperationException or KeyNotFoundException)
            {
                throw new InvalidDataException($"{path}:{lineNo}: {e.Message}", e);
            }
        }
        if (rows.Count > 0 && rows.Any(r => r.Negatives.Count != rows[0].Negatives.Count))
            throw new InvalidDataException($"{path}: rows have different numbers of negatives; every row needs the same columns.");
        return rows;
    }

    /// <summary>
    /// Writes rows as JSON lines <c>{"query", "positive", "negative_1", …, "negative_n"}</c> (the columns of the
    /// SPLADE-BERT-Mini card's data; no negatives: query and positive only), through a temporary file so that an
    /// interrupted run leaves no partial output. Every row must have the same number of negatives.
    /// </summary>
    public static void Write(string path, IReadOnlyList<TrainingRow> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        if (rows.Count > 0 && rows.Any(r => r.Negatives.Count != rows[0].Negatives.Count))
            throw new ArgumentException("rows have different numbers of negatives; every row needs the same columns.", nameof(rows));
        string tmp = path + ".tmp";
        using (var stream = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16))
        {
            var options = new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
            foreach (var row in rows)
            {
                using (var w = new Utf8JsonWriter(stream, options))
                {
                    w.WriteStartObject();
                    w.WriteString("query", row.Query);
                    w.WriteString("positive", row.Positive);
                    for (int i = 0; i < row.Negatives.Count; i++) w.WriteString($"negative_{i + 1}", row.Negatives[i]);
                    w.WriteEndObject();
                }
                stream.WriteByte((byte)'\n');
            }
        }
        File.Move(tmp, path, overwrite: true);
    }

    /// <summary>Parses one JSON object.</summary>
    public static TrainingRow Parse(string json)
    {
        using var doc = JsonDocument.Parse(json);
        var r = doc.RootElement;
        if (r.ValueKind != JsonValueKind.Object) throw new InvalidDataException("expected a JSON object.");
        string Str(string name) => r.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String
            ? v.GetString()! : throw new InvalidDataException($"missing string field '{name}'.");
        var negatives = new List<string>();
        if (r.TryGetProperty("negatives", out var arr) && arr.ValueKind == JsonValueKind.Array)
            negatives.AddRange(arr.EnumerateArray().Select(e => e.GetString() ?? throw new InvalidDataException("null in 'negatives'.")));
        else if (r.TryGetProperty("negative", out var neg) && neg.ValueKind == JsonValueKind.String)
            negatives.Add(neg.GetString()!);
        else
            for (int i = 1; r.TryGetProperty($"negative_{i}", out var ni); i++)
                negatives.Add(ni.GetString() ?? throw new InvalidDataException($"null in 'negative_{i}'."));
        float[]? labels = null;
        if (r.TryGetProperty("label", out var lab))
            labels = lab.ValueKind == JsonValueKind.Array ? lab.EnumerateArray().Select(e => e.GetSingle()).ToArray() : [lab.GetSingle()];
        return new TrainingRow(Str("query"), Str("positive"), negatives, labels);
    }
}
