using System.Globalization;
using System.Text.Json;

namespace Splade.Evaluation;

/// <summary>One corpus document of a BEIR collection.</summary>
public sealed record CorpusDocument(string Id, string Title, string Text)
{
    /// <summary>The text to encode: title + " " + text when the title is non-empty (as BEIR's sentence-transformers evaluation).</summary>
    public string FullText => Title.Length > 0 ? Title + " " + Text : Text;
}

/// <summary>
/// An IR test collection: corpus, queries and graded judgments (qid → docid → grade &gt; 0).
/// Reads the BEIR folder layout: corpus.jsonl, queries.jsonl, qrels/{split}.tsv.
/// </summary>
public sealed class IrDataset
{
    /// <summary>Creates a data set from its parts.</summary>
    public IrDataset(IReadOnlyList<CorpusDocument> corpus, IReadOnlyDictionary<string, string> queries, IReadOnlyDictionary<string, IReadOnlyDictionary<string, int>> qrels)
    {
        Corpus = corpus;
        Queries = queries;
        Qrels = qrels;
    }

    /// <summary>Documents in file order.</summary>
    public IReadOnlyList<CorpusDocument> Corpus { get; }

    /// <summary>Query id → text.</summary>
    public IReadOnlyDictionary<string, string> Queries { get; }

    /// <summary>Query id → (document id → grade ≥ 1). Grade-0 rows are not relevant and are left out.</summary>
    public IReadOnlyDictionary<string, IReadOnlyDictionary<string, int>> Qrels { get; }

    /// <summary>Loads a BEIR folder.</summary>
    /// <exception cref="InvalidDataException">A file is missing or a line is malformed (file and line named).</exception>
    public static IrDataset LoadBeir(string folder, string split = "test")
    {
        string corpusPath = Path.Combine(folder, "corpus.jsonl");
        string queriesPath = Path.Combine(folder, "queries.jsonl");
        string qrelsPath = Path.Combine(folder, "qrels", split + ".tsv");
        foreach (string p in new[] { corpusPath, queriesPath, qrelsPath })
            if (!File.Exists(p)) throw new InvalidDataException($"BEIR folder '{folder}' lacks '{p}'.");
        return Load(corpusPath, queriesPath, qrelsPath);
    }

    /// <summary>Loads a collection from its three files: corpus and queries as BEIR JSON lines, qrels as a BEIR TSV.</summary>
    /// <exception cref="InvalidDataException">A file is missing or a line is malformed (file and line named).</exception>
    public static IrDataset Load(string corpusPath, string queriesPath, string qrelsPath)
    {
        foreach (string p in new[] { corpusPath, queriesPath, qrelsPath })
            if (!File.Exists(p)) throw new InvalidDataException($"'{p}': file not found.");
        var corpus = ReadCorpus(corpusPath);
        var queries = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (line, obj) in ReadJsonLines(queriesPath))
        {
            string id = RequireString(obj, "_id", queriesPath, line);
            if (!queries.TryAdd(id, OptionalString(obj, "text", queriesPath, line))) throw new InvalidDataException($"{queriesPath}:{line}: duplicate query id '{id}'.");
        }
        return new IrDataset(corpus, queries, TrecFiles.ReadBeirQrels(qrelsPath));
    }

    /// <summary>Reads a BEIR corpus.jsonl: <c>{"_id", "title"?, "text"?}</c>, ids unique.</summary>
    /// <exception cref="InvalidDataException">A line is malformed or an id repeats (file and line named).</exception>
    public static List<CorpusDocument> ReadCorpus(string corpusPath)
    {
        if (!File.Exists(corpusPath)) throw new InvalidDataException($"'{corpusPath}': file not found.");
        var corpus = new List<CorpusDocument>();
        var corpusIds = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (line, obj) in ReadJsonLines(corpusPath))
        {
            string id = RequireString(obj, "_id", corpusPath, line);
            if (!corpusIds.Add(id)) throw new InvalidDataException($"{corpusPath}:{line}: duplicate document id '{id}'.");
            corpus.Add(new CorpusDocument(id, OptionalString(obj, "title", corpusPath, line), OptionalString(obj, "text", corpusPath, line)));
        }
        return corpus;
    }

    /// <summary>Reads a JSON-lines file, yielding (1-based line number, object); blank lines are skipped.</summary>
    public static IEnumerable<(int Line, JsonElement Object)> ReadJsonLines(string path)
    {
        int n = 0;
        foreach (string text in File.ReadLines(path))
        {
            n++;
            if (string.IsNullOrWhiteSpace(text)) continue;
            JsonElement obj;
            try
            {
                using var doc = JsonDocument.Parse(text);
                obj = doc.RootElement.Clone();
            }
            catch (JsonException e)
            {
                throw new InvalidDataException($"{path}:{n}: not valid JSON ({e.Message}).", e);
            }
            if (obj.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"{path}:{n}: expected a JSON object, got {obj.ValueKind}.");
            if (JsonText.FindLoneSurrogate(obj) is { } where)
                throw new InvalidDataException($"{path}:{n}: the string at {where} holds an escaped lone surrogate (\\uD800-\\uDFFF without its pair).");
            yield return (n, obj);
        }
    }

    /// <summary>A field that must be a string (numbers are accepted and printed invariantly, as ids often are).</summary>
    public static string RequireString(JsonElement obj, string name, string path, int line) =>
        obj.TryGetProperty(name, out var v) ? AsString(v, name, path, line) : throw new InvalidDataException($"{path}:{line}: missing field \"{name}\".");

    private static string OptionalString(JsonElement obj, string name, string path, int line) =>
        obj.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null ? AsString(v, name, path, line) : "";

    private static string AsString(JsonElement v, string name, string path, int line) => v.ValueKind switch
    {
        JsonValueKind.String => v.GetString()!,
        JsonValueKind.Number => v.GetRawText(),
        _ => throw new InvalidDataException($"{path}:{line}: field \"{name}\" must be a string, got {v.ValueKind}."),
    };
}
