using System.Text.Json;

namespace Splade.Training.Data;

/// <summary>
/// Builds (query, positive, negative) rows from a BEIR folder (<c>corpus.jsonl</c>, <c>queries.jsonl</c>,
/// <c>qrels/{split}.tsv</c>): one row per (query, relevant document) pair, with negatives drawn uniformly
/// (seeded) among documents not judged relevant for that query. Document text is "title text".
/// </summary>
public static class BeirTrainingRows
{
    public static List<TrainingRow> Read(string folder, string split = "train", int negativesPerRow = 1, int seed = 42)
    {
        string corpusPath = Path.Combine(folder, "corpus.jsonl"), queriesPath = Path.Combine(folder, "queries.jsonl");
        string qrelsPath = Path.Combine(folder, "qrels", split + ".tsv");
        foreach (var p in new[] { corpusPath, queriesPath, qrelsPath })
            if (!File.Exists(p)) throw new FileNotFoundException($"{p}: missing BEIR file.", p);

        var docIds = new List<string>();
        var docs = new Dictionary<string, string>(StringComparer.Ordinal);
        ReadJsonl(corpusPath, e =>
        {
            string id = IdOf(e, corpusPath);
            string title = e.TryGetProperty("title", out var t) ? t.GetString() ?? "" : "";
            string text = e.TryGetProperty("text", out var x) ? x.GetString() ?? "" : "";
            docs[id] = (title + " " + text).Trim();
            docIds.Add(id);
        });
        var queries = new Dictionary<string, string>(StringComparer.Ordinal);
        ReadJsonl(queriesPath, e => queries[IdOf(e, queriesPath)] = e.GetProperty("text").GetString() ?? "");

        var pairs = new List<(string Q, string D)>();
        int lineNo = 0;
        foreach (string line in File.ReadLines(qrelsPath))
        {
            lineNo++;
            if (lineNo == 1 && line.StartsWith("query-id", StringComparison.Ordinal)) continue;
            if (string.IsNullOrWhiteSpace(line)) continue;
            var f = line.Split('\t');
            if (f.Length < 3 || !double.TryParse(f[2], System.Globalization.CultureInfo.InvariantCulture, out double score))
                throw new InvalidDataException($"{qrelsPath}:{lineNo}: expected 'query-id<TAB>corpus-id<TAB>score'.");
            if (score > 0) pairs.Add((f[0], f[1]));
        }

        return Build(docIds.Select(id => (id, docs[id])).ToList(), queries, pairs, negativesPerRow, seed);
    }

    /// <summary>
    /// Builds rows from a collection already in memory: one row per (query, relevant document) pair of
    /// <paramref name="relevantPairs"/> (in that order), with <paramref name="negativesPerRow"/> negatives drawn
    /// uniformly (seeded) among the documents not relevant to the query. Queries relevant to every document are skipped.
    /// </summary>
    /// <param name="documents">Corpus (id, text) in a fixed order (the draw depends on it).</param>
    /// <param name="queries">Query id → text.</param>
    /// <param name="relevantPairs">(query id, document id) pairs with a positive judgment.</param>
    /// <param name="negativesPerRow">Negatives per row (≥ 0).</param>
    /// <param name="seed">Seed of the draw.</param>
    public static List<TrainingRow> Build(IReadOnlyList<(string Id, string Text)> documents, IReadOnlyDictionary<string, string> queries,
        IEnumerable<(string Query, string Document)> relevantPairs, int negativesPerRow = 1, int seed = 42)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(negativesPerRow);
        var docs = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (id, text) in documents) docs[id] = text;
        var pairs = new List<(string Q, string D)>();
        var relevant = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        foreach (var (q, d) in relevantPairs)
        {
            if (!queries.ContainsKey(q) || !docs.ContainsKey(d)) continue;
            if (!relevant.TryGetValue(q, out var set)) relevant[q] = set = new HashSet<string>(StringComparer.Ordinal);
            if (set.Add(d)) pairs.Add((q, d));
        }
        var rng = new Random(seed);
        var rows = new List<TrainingRow>(pairs.Count);
        foreach (var (q, d) in pairs)
        {
            var rel = relevant[q];
            if (negativesPerRow > 0 && rel.Count >= documents.Count) continue; // no document left to serve as a negative
            var negs = new List<string>();
            while (negs.Count < negativesPerRow)
            {
                string cand = documents[rng.Next(documents.Count)].Id;
                if (!rel.Contains(cand)) negs.Add(docs[cand]);
            }
            rows.Add(new TrainingRow(queries[q], docs[d], negs));
        }
        return rows;
    }

    private static string IdOf(JsonElement e, string path) => e.TryGetProperty("_id", out var id)
        ? (id.ValueKind == JsonValueKind.Number ? id.GetRawText() : id.GetString() ?? "")
        : throw new InvalidDataException($"{path}: a line has no '_id'.");

    private static void ReadJsonl(string path, Action<JsonElement> onRow)
    {
        int lineNo = 0;
        foreach (string line in File.ReadLines(path))
        {
            lineNo++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            try
            {
                using var doc = JsonDocument.Parse(line);
                onRow(doc.RootElement);
            }
            catch (Exception e) when (e is JsonException or InvalidOperationException or KeyNotFoundException)
            {
                throw new InvalidDataException($"{path}:{lineNo}: {e.Message}", e);
            }
        }
    }
}
