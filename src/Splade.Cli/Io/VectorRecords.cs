using System.Text.Json;
using Splade.Sparse;

namespace Splade.Cli.Io;

/// <summary>One sparse vector read from a JSON line <c>{"id": ..., "indices": [...], "values": [...]}</c>.</summary>
internal readonly record struct VectorRecord(JsonElement? Id, SparseVector Vector, long LineNumber);

/// <summary>Reads the output of `splade encode` (default format) back, validating every line.</summary>
internal static class VectorRecords
{
    public static IEnumerable<VectorRecord> Read(InputLines input, int dimension)
    {
        while (input.ReadLine() is { } line)
        {
            if (string.IsNullOrWhiteSpace(line)) continue;
            yield return Parse(line, dimension, input.Name, input.LineNumber);
        }
    }

    internal static VectorRecord Parse(string line, int dimension, string source, long lineNumber)
    {
        try
        {
            using var doc = JsonDocument.Parse(line);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw new CliException($"{source}:{lineNumber}: expected a JSON object.");
            if (JsonText.FindLoneSurrogate(root) is { } where)
                throw new CliException($"{source}:{lineNumber}: the string at {where} holds an escaped lone surrogate (\\uD800-\\uDFFF without its pair).");
            JsonElement? id = null;
            if (root.TryGetProperty("id", out var idEl)) id = idEl.Clone();
            if (!root.TryGetProperty("indices", out var ind) || ind.ValueKind != JsonValueKind.Array)
                throw new CliException($"{source}:{lineNumber}: missing \"indices\" array.");
            if (!root.TryGetProperty("values", out var val) || val.ValueKind != JsonValueKind.Array)
                throw new CliException($"{source}:{lineNumber}: missing \"values\" array.");
            var indices = new int[ind.GetArrayLength()];
            var values = new float[val.GetArrayLength()];
            int k = 0;
            foreach (var e in ind.EnumerateArray())
            {
                if (e.ValueKind != JsonValueKind.Number || !e.TryGetInt32(out indices[k++])) throw new CliException($"{source}:{lineNumber}: index {e} is not an integer.");
            }
            k = 0;
            foreach (var e in val.EnumerateArray())
            {
                if (e.ValueKind != JsonValueKind.Number || !e.TryGetSingle(out values[k++])) throw new CliException($"{source}:{lineNumber}: value {e} is not a number.");
            }
            try
            {
                return new VectorRecord(id, new SparseVector(dimension, indices, values), lineNumber);
            }
            catch (ArgumentException e)
            {
                throw new CliException($"{source}:{lineNumber}: {e.Message}");
            }
        }
        catch (JsonException e)
        {
            throw new CliException($"{source}:{lineNumber}: malformed JSON: {e.Message}");
        }
    }
}
