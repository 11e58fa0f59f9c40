using System.Text.Json;
using Splade.Evaluation;
using Splade.Search;
using Splade.Sparse;

namespace Splade.Cli;

/// <summary>Helpers shared by the index, search and eval verbs: the model recorded beside an index, input readers.</summary>
internal static class IndexFolder
{
    private const string ModelFile = "encoder.json";

    /// <summary>
    /// Records which `--model` (and `--precision`) built the index; search reads them back when its own
    /// options are omitted, so queries are encoded as the documents were.
    /// </summary>
    public static void SaveModelSpec(string indexDir, string spec, Splade.Models.EncodePrecision precision = Splade.Models.EncodePrecision.Float32) =>
        File.WriteAllText(Path.Combine(indexDir, ModelFile), JsonSerializer.Serialize(new Dictionary<string, string>
        {
            ["model"] = spec,
            ["precision"] = PrecisionOption.Name(precision),
        }) + "\n");

    public static string? LoadModelSpec(string indexDir) => Load(indexDir, "model");

    /// <summary>The precision recorded beside the index (fp32 when none is recorded).</summary>
    public static Splade.Models.EncodePrecision LoadPrecision(string indexDir)
    {
        string? name = Load(indexDir, "precision");
        try { return PrecisionOption.Parse(name); }
        catch (CliException e) { throw new CliException($"{Path.Combine(indexDir, ModelFile)}: {e.Message}"); }
    }

    private static string? Load(string indexDir, string key)
    {
        string path = Path.Combine(indexDir, ModelFile);
        if (!File.Exists(path)) return null;
        Dictionary<string, string>? d;
        try { d = JsonSerializer.Deserialize<Dictionary<string, string>>(File.ReadAllText(path)); }
        catch (JsonException e) { throw new CliException($"{path}: not a JSON object of strings ({e.Message})."); }
        return d is not null && d.TryGetValue(key, out var m) ? m : null;
    }

    /// <summary>Reads a BEIR-style corpus.jsonl: id and title + " " + text.</summary>
    public static IEnumerable<CorpusDocument> ReadCorpus(string path)
    {
        if (!File.Exists(path)) throw new CliException($"corpus file '{path}' does not exist.");
        foreach (var (line, obj) in IrDataset.ReadJsonLines(path))
        {
            string id = IrDataset.RequireString(obj, "_id", path, line);
            string title = obj.TryGetProperty("title", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString()! : "";
            string text = obj.TryGetProperty("text", out var x) && x.ValueKind == JsonValueKind.String ? x.GetString()! : "";
            yield return new CorpusDocument(id, title, text);
        }
    }

    /// <summary>Reads vectors made elsewhere: lines {"id", "indices", "values"[, "text"]}.</summary>
    public static IEnumerable<IndexedDocument> ReadVectors(string path, int dimension)
    {
        if (!File.Exists(path)) throw new CliException($"vectors file '{path}' does not exist.");
        foreach (var (line, obj) in IrDataset.ReadJsonLines(path))
        {
            string id = IrDataset.RequireString(obj, "id", path, line);
            if (!obj.TryGetProperty("indices", out var ind) || ind.ValueKind != JsonValueKind.Array) throw new InvalidDataException($"{path}:{line}: missing array \"indices\".");
            if (!obj.TryGetProperty("values", out var val) || val.ValueKind != JsonValueKind.Array) throw new InvalidDataException($"{path}:{line}: missing array \"values\".");
            int[] indices;
            float[] values;
            try
            {
                indices = ind.EnumerateArray().Select(e => e.GetInt32()).ToArray();
                values = val.EnumerateArray().Select(e => e.GetSingle()).ToArray();
            }
            catch (Exception e) when (e is FormatException or InvalidOperationException)
            {
                throw new InvalidDataException($"{path}:{line}: indices must be integers and values numbers ({e.Message}).", e);
            }
            SparseVector vector;
            try
            {
                var order = Enumerable.Range(0, indices.Length).OrderBy(i => indices[i]).ToArray();
                vector = new SparseVector(dimension, order.Select(i => indices[i]).ToArray(), order.Select(i => values[i]).ToArray());
            }
            catch (ArgumentException e)
            {
                throw new InvalidDataException($"{path}:{line}: {e.Message}", e);
            }
            string? text = obj.TryGetProperty("text", out var tx) && tx.ValueKind == JsonValueKind.String ? tx.GetString() : null;
            yield return new IndexedDocument(id, vector, text);
        }
    }
}
