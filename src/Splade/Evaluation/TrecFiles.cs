using System.Globalization;
using Splade.Search;

namespace Splade.Evaluation;

/// <summary>Readers and writers of relevance judgments (qrels) and runs in the TREC and BEIR formats.</summary>
public static class TrecFiles
{
    /// <summary>
    /// BEIR qrels: a header line (<c>query-id corpus-id score</c>), then tab-separated rows. Rows with
    /// grade 0 mean "judged not relevant" and are left out; negative grades are an error.
    /// </summary>
    public static IReadOnlyDictionary<string, IReadOnlyDictionary<string, int>> ReadBeirQrels(string path)
    {
        var qrels = new Dictionary<string, Dictionary<string, int>>(StringComparer.Ordinal);
        int n = 0;
        foreach (string raw in File.ReadLines(path))
        {
            n++;
            if (n == 1)
            {
                if (!raw.StartsWith("query-id", StringComparison.Ordinal))
                    throw new InvalidDataException($"{path}:1: expected the header 'query-id<TAB>corpus-id<TAB>score', got '{Clip(raw)}'.");
                continue;
            }
            if (string.IsNullOrWhiteSpace(raw)) continue;
            var f = raw.Split('\t');
            if (f.Length != 3) throw new InvalidDataException($"{path}:{n}: expected 3 tab-separated fields, got {f.Length}: '{Clip(raw)}'.");
            Add(qrels, f[0], f[1], ParseGrade(f[2], path, n));
        }
        return Freeze(qrels);
    }

    /// <summary>TREC qrels: whitespace-separated <c>qid iter docid grade</c>.</summary>
    public static IReadOnlyDictionary<string, IReadOnlyDictionary<string, int>> ReadTrecQrels(string path)
    {
        var qrels = new Dictionary<string, Dictionary<string, int>>(StringComparer.Ordinal);
        int n = 0;
        foreach (string raw in File.ReadLines(path))
        {
            n++;
            if (string.IsNullOrWhiteSpace(raw)) continue;
            var f = raw.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (f.Length != 4) throw new InvalidDataException($"{path}:{n}: expected 'qid iter docid grade', got {f.Length} fields: '{Clip(raw)}'.");
            Add(qrels, f[0], f[2], ParseGrade(f[3], path, n));
        }
        return Freeze(qrels);
    }

    /// <summary>Writes qrels in the TREC format (iter 0), queries and documents in ordinal order.</summary>
    public static void WriteTrecQrels(TextWriter writer, IReadOnlyDictionary<string, IReadOnlyDictionary<string, int>> qrels)
    {
        foreach (var (qid, docs) in qrels.OrderBy(p => p.Key, StringComparer.Ordinal))
            foreach (var (docid, grade) in docs.OrderBy(p => p.Key, StringComparer.Ordinal))
                writer.Write($"{qid} 0 {docid} {grade.ToString(CultureInfo.InvariantCulture)}\n");
    }

    /// <summary>TREC run: <c>qid Q0 docid rank score tag</c>; returns qid → hits in file order.</summary>
    public static IReadOnlyDictionary<string, IReadOnlyList<SearchHit>> ReadRun(string path)
    {
        var run = new Dictionary<string, List<SearchHit>>(StringComparer.Ordinal);
        int n = 0;
        foreach (string raw in File.ReadLines(path))
        {
            n++;
            if (string.IsNullOrWhiteSpace(raw)) continue;
            var f = raw.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (f.Length != 6) throw new InvalidDataException($"{path}:{n}: expected 'qid Q0 docid rank score tag', got {f.Length} fields: '{Clip(raw)}'.");
            if (!int.TryParse(f[3], NumberStyles.Integer, CultureInfo.InvariantCulture, out _))
                throw new InvalidDataException($"{path}:{n}: rank '{f[3]}' is not an integer.");
            // float.TryParse accepts NaN and rounds values past float.MaxValue to infinity: neither is a score.
            if (!float.TryParse(f[4], NumberStyles.Float, CultureInfo.InvariantCulture, out float score) || !float.IsFinite(score))
                throw new InvalidDataException($"{path}:{n}: score '{f[4]}' is not a finite number.");
            if (!run.TryGetValue(f[0], out var list)) run[f[0]] = list = new List<SearchHit>();
            list.Add(new SearchHit(f[2], score));
        }
        return run.ToDictionary(p => p.Key, p => (IReadOnlyList<SearchHit>)p.Value, StringComparer.Ordinal);
    }

    /// <summary>Writes a TREC run: for each query (in the given order) its hits with rank from 1 and score ("R" format).</summary>
    public static void WriteRun(TextWriter writer, IEnumerable<KeyValuePair<string, IReadOnlyList<SearchHit>>> results, string tag = "splade")
    {
        foreach (var (qid, hits) in results)
            for (int r = 0; r < hits.Count; r++)
                writer.Write($"{qid} Q0 {hits[r].Id} {(r + 1).ToString(CultureInfo.InvariantCulture)} {hits[r].Score.ToString("R", CultureInfo.InvariantCulture)} {tag}\n");
    }

    private static int ParseGrade(string s, string path, int line)
    {
        if (!int.TryParse(s.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out int g))
            throw new InvalidDataException($"{path}:{line}: relevance grade '{s}' is not an integer.");
        if (g < 0) throw new InvalidDataException($"{path}:{line}: relevance grade {g} is negative.");
        return g;
    }

    private static void Add(Dictionary<string, Dictionary<string, int>> qrels, string qid, string docid, int grade)
    {
        if (grade == 0) return;
        if (!qrels.TryGetValue(qid, out var docs)) qrels[qid] = docs = new Dictionary<string, int>(StringComparer.Ordinal);
        docs[docid] = grade;
    }

    private static IReadOnlyDictionary<string, IReadOnlyDictionary<string, int>> Freeze(Dictionary<string, Dictionary<string, int>> qrels) =>
        qrels.ToDictionary(p => p.Key, p => (IReadOnlyDictionary<string, int>)p.Value, StringComparer.Ordinal);

    private static string Clip(string s) => s.Length > 100 ? s[..100] + "..." : s;
}
