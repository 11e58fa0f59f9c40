using System.Text.Json;
using Splade.Search;
using Splade.Sparse;

namespace Splade.Postgres.Bench;

/// <summary>Reads JSON lines {"id", "indices", "values"} as `splade encode` writes them (ids: the "id" field, else the line number).</summary>
internal static class VectorFile
{
    public static List<IndexedDocument> Read(string path, int dimension)
    {
        var result = new List<IndexedDocument>();
        int line = 0;
        foreach (string text in File.ReadLines(path))
        {
            line++;
            if (string.IsNullOrWhiteSpace(text)) continue;
            using var doc = JsonDocument.Parse(text);
            var root = doc.RootElement;
            string id = root.TryGetProperty("id", out var idEl) ? (idEl.ValueKind == JsonValueKind.String ? idEl.GetString()! : idEl.GetRawText()) : line.ToString();
            if (!root.TryGetProperty("indices", out var ind) || !root.TryGetProperty("values", out var val))
                throw new InvalidDataException($"{path}:{line}: expected \"indices\" and \"values\".");
            int[] indices = ind.EnumerateArray().Select(e => e.GetInt32()).ToArray();
            float[] values = val.EnumerateArray().Select(e => e.GetSingle()).ToArray();
            result.Add(new IndexedDocument(id, new SparseVector(dimension, indices, values)));
        }
        return result;
    }
}
