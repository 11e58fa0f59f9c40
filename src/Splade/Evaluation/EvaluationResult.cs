using System.Globalization;
using System.Text;
using System.Text.Json;
using Splade.Search;

namespace Splade.Evaluation;

/// <summary>Metrics of one evaluation, the run they were computed from, and writers for both.</summary>
public sealed class EvaluationResult
{
    /// <summary>Creates a result.</summary>
    public EvaluationResult(string name, IReadOnlyList<KeyValuePair<string, double>> metrics, IReadOnlyDictionary<string, IReadOnlyList<SearchHit>> run, int queryCount, int corpusCount)
    {
        Name = name;
        Metrics = metrics;
        Run = run;
        QueryCount = queryCount;
        CorpusCount = corpusCount;
    }

    /// <summary>Evaluator name (metric prefix).</summary>
    public string Name { get; }

    /// <summary>Metric name → value, in the reference's order.</summary>
    public IReadOnlyList<KeyValuePair<string, double>> Metrics { get; }

    /// <summary>Ranked hits per judged query.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<SearchHit>> Run { get; }

    /// <summary>Queries that were scored (those with at least one relevant document).</summary>
    public int QueryCount { get; }

    /// <summary>Documents in the corpus.</summary>
    public int CorpusCount { get; }

    /// <summary>Value of a metric by full name, e.g. "dot_ndcg@10".</summary>
    public double this[string metric] => Metrics.First(m => m.Key == metric).Value;

    /// <summary>Metrics as a flat JSON object.</summary>
    public string ToJson()
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            foreach (var (k, v) in Metrics) w.WriteNumber(k, v);
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(ms.ToArray()) + "\n";
    }

    /// <summary>
    /// Appends a row to a CSV shaped like the reference's (<c>Information-Retrieval_evaluation_{name}_results.csv</c>):
    /// <c>epoch,steps,dot-Accuracy@1,...,dot-MAP@100,query_active_dims,...</c>; the header is written when the file is new.
    /// </summary>
    public void AppendCsv(string path, double epoch = -1, long steps = -1)
    {
        string prefix = Name.Length > 0 ? Name + "_" : "";
        var columns = Metrics.Select((m, i) => (Name: m.Key[prefix.Length..], m.Value, Order: CsvOrder(m.Key[prefix.Length..], i))).OrderBy(c => c.Order).ToArray();
        var headers = new List<string> { "epoch", "steps" };
        foreach (var c in columns)
            headers.Add(c.Name.StartsWith("dot_", StringComparison.Ordinal) ? "dot-" + CsvMetricName(c.Name[4..]) : c.Name);
        bool exists = File.Exists(path) && new FileInfo(path).Length > 0;
        using var w = new StreamWriter(path, append: true, new UTF8Encoding(false));
        if (!exists) w.Write(string.Join(',', headers) + "\n");
        w.Write(string.Join(',', new[] { epoch.ToString(CultureInfo.InvariantCulture), steps.ToString(CultureInfo.InvariantCulture) }
            .Concat(columns.Select(c => c.Value.ToString("R", CultureInfo.InvariantCulture)))) + "\n");
    }

    /// <summary>
    /// Column order of the reference's CSV: accuracy@k, then precision@k and recall@k side by side for each k,
    /// then MRR, NDCG, MAP, then the sparsity columns in the order they were computed.
    /// </summary>
    private static (int Group, int K, int Kind, int Index) CsvOrder(string metric, int index)
    {
        if (!metric.StartsWith("dot_", StringComparison.Ordinal) || metric.IndexOf('@') < 0) return (9, 0, 0, index);
        int at = metric.IndexOf('@');
        string name = metric[4..at];
        int k = int.TryParse(metric[(at + 1)..], NumberStyles.Integer, CultureInfo.InvariantCulture, out int parsed) ? parsed : 0;
        return name switch
        {
            "accuracy" => (0, k, 0, index),
            "precision" => (1, k, 0, index),
            "recall" => (1, k, 1, index),
            "mrr" => (2, k, 0, index),
            "ndcg" => (3, k, 0, index),
            "map" => (4, k, 0, index),
            _ => (5, k, 0, index),
        };
    }

    private static string CsvMetricName(string m)
    {
        int at = m.IndexOf('@');
        string name = m[..at], k = m[at..];
        return name switch
        {
            "accuracy" => "Accuracy", "precision" => "Precision", "recall" => "Recall",
            "mrr" => "MRR", "ndcg" => "NDCG", "map" => "MAP", "ndcg_graded" => "NDCG-graded", _ => name,
        } + k;
    }

    /// <summary>Writes the run in the TREC format.</summary>
    public void WriteTrecRun(TextWriter writer, string tag = "splade") =>
        TrecFiles.WriteRun(writer, Run.OrderBy(p => p.Key, StringComparer.Ordinal), tag);

    /// <summary>A two-column text table of the metrics.</summary>
    public string FormatTable()
    {
        var sb = new StringBuilder();
        sb.Append($"Queries: {QueryCount}\nCorpus: {CorpusCount}\n");
        int width = Metrics.Max(m => m.Key.Length);
        foreach (var (k, v) in Metrics)
        {
            bool ratio = k.Contains('@');
            sb.Append(k.PadRight(width)).Append("  ").Append(ratio ? $"{v * 100:F2}%" : v.ToString("F4", CultureInfo.InvariantCulture)).Append('\n');
        }
        return sb.ToString();
    }
}
