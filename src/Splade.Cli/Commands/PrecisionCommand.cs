using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Splade.Evaluation;
using Splade.Models;
using Splade.Sparse;

namespace Splade.Cli.Commands;

/// <summary>`splade precision`: how far the reduced-precision modes move the vectors and the retrieval metrics from float32.</summary>
internal sealed class PrecisionCommand : ICommand
{
    public string Name => "precision";

    public string Summary => "Compare reduced-precision vectors with float32: overlap, weight differences, ndcg@10.";

    public string Usage => """
        splade precision --model <folder|owner/name[@rev]> (--data <BEIR folder> | --texts FILE) [options]

          --data DIR       corpus.jsonl, queries.jsonl, qrels/<split>.tsv: every document and judged query
                           is encoded in float32 and in each reduced mode, and retrieval is evaluated
          --split S        qrels split (default test)
          --texts FILE     instead of --data: one text per line, encoded as documents and as queries
          --precision P    int8-decoder or int8 (default: both)
          --threads N      compute threads (default: all cores)
          --json           print JSON instead of the table

        Per mode and text kind: mean and smallest Jaccard overlap of the non-zero sets with float32,
        largest absolute weight difference, mean relative L2 difference, mean non-zeros; with --data
        also ndcg@10 and mrr@10 next to float32's.
        """;

    public Task<int> RunAsync(CommandArgs args, CliContext context, CancellationToken cancellationToken)
    {
        string model = args.Require("model");
        string? dataDir = args.Get("data");
        string split = args.Get("split") ?? "test";
        string? textsPath = args.Get("texts");
        string? precisionArg = args.Get("precision");
        int? threads = args.GetInt("threads", 1, 1024);
        bool json = args.Flag("json");
        args.ThrowOnUnused();
        if ((dataDir is null) == (textsPath is null)) throw new CliException("give exactly one of --data or --texts.");
        EncodePrecision[] modes = precisionArg is null ? [EncodePrecision.Int8Decoder, EncodePrecision.Int8] : [PrecisionOption.Parse(precisionArg)];
        if (modes.Contains(EncodePrecision.Float32)) throw new CliException("--precision: name a reduced mode (int8-decoder or int8); float32 is the reference.");

        IrDataset? data = null;
        string[]? texts = null;
        if (dataDir is not null)
        {
            if (!Directory.Exists(dataDir)) throw new CliException($"--data '{dataDir}' is not a folder.");
            data = IrDataset.LoadBeir(dataDir, split);
        }
        else
        {
            if (!File.Exists(textsPath)) throw new CliException($"--texts: file not found: {textsPath}");
            texts = File.ReadAllLines(textsPath!).Where(l => l.Trim().Length > 0).ToArray();
            if (texts.Length == 0) throw new CliException($"--texts: {textsPath} holds no text.");
        }

        var rows = new List<PrecisionRow>();
        Run? reference = null;
        foreach (EncodePrecision mode in new[] { EncodePrecision.Float32 }.Concat(modes))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var encoder = new RecordingEncoder(ModelLoading.Load(model, threads, context.Stderr, precision: mode));
            var sw = Stopwatch.StartNew();
            EvaluationResult? metrics = data is null ? null
                : new SparseInformationRetrievalEvaluator(data).Evaluate(encoder, cancellationToken: cancellationToken);
            if (texts is not null)
            {
                encoder.EncodeDocuments(texts, cancellationToken);
                encoder.EncodeQueries(texts, cancellationToken);
            }
            var run = new Run(mode, encoder.Documents, encoder.Queries, metrics, sw.Elapsed.TotalSeconds);
            context.Stderr.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{PrecisionOption.Name(mode)}: {run.Documents.Count} documents, {run.Queries.Count} queries in {run.Seconds:F1} s"));
            reference ??= run;
            rows.Add(PrecisionRow.Of(reference, run));
        }

        if (json) context.Stdout.WriteLine(JsonSerializer.Serialize(new { model, data = dataDir, texts = textsPath, rows }, new JsonSerializerOptions { WriteIndented = true }));
        else WriteTable(context.Stdout, model, dataDir ?? textsPath!, rows);
        return Task.FromResult(0);
    }

    private static void WriteTable(TextWriter w, string model, string source, List<PrecisionRow> rows)
    {
        var ic = CultureInfo.InvariantCulture;
        w.WriteLine($"model {model}, texts from {source}; every mode against fp32");
        w.WriteLine("mode          kind       n      jaccard mean (min)   max |dw|   rel L2   active (fp32)     ndcg@10 (d)        mrr@10 (d)       seconds");
        foreach (PrecisionRow r in rows)
            foreach (var (kind, a) in new[] { ("documents", r.Documents), ("queries", r.Queries) })
            {
                string ndcg = r.Ndcg10 is double n ? string.Create(ic, $"{n:F4} ({n - r.ReferenceNdcg10!.Value:+0.0000;-0.0000;0.0000})") : "-";
                string mrr = r.Mrr10 is double m ? string.Create(ic, $"{m:F4} ({m - r.ReferenceMrr10!.Value:+0.0000;-0.0000;0.0000})") : "-";
                w.WriteLine(string.Create(ic, $"{r.Mode,-14}{kind,-11}{a.Count,-7}{$"{a.MeanJaccard:F4} ({a.MinJaccard:F4})",-21}{a.MaxAbsDiff,-11:F4}{a.MeanRelativeL2,-9:F4}{$"{a.MeanActiveOther:F1} ({a.MeanActiveReference:F1})",-18}{ndcg,-19}{mrr,-17}{(kind == "documents" ? r.Seconds.ToString("F1", ic) : "")}"));
            }
    }

    internal sealed record Run(EncodePrecision Mode, List<SparseVector> Documents, List<SparseVector> Queries, EvaluationResult? Metrics, double Seconds);

    /// <summary>One reduced mode against float32 (the float32 row compares float32 with itself).</summary>
    internal sealed record PrecisionRow(string Mode, VectorAgreement Documents, VectorAgreement Queries, double? Ndcg10, double? ReferenceNdcg10, double? Mrr10, double? ReferenceMrr10, double Seconds)
    {
        public static PrecisionRow Of(Run reference, Run run) => new(
            PrecisionOption.Name(run.Mode),
            VectorAgreement.Compare(reference.Documents, run.Documents),
            VectorAgreement.Compare(reference.Queries, run.Queries),
            Metric(run.Metrics, "ndcg@10"), Metric(reference.Metrics, "ndcg@10"),
            Metric(run.Metrics, "mrr@10"), Metric(reference.Metrics, "mrr@10"),
            run.Seconds);

        private static double? Metric(EvaluationResult? r, string suffix) =>
            r?.Metrics.FirstOrDefault(m => m.Key.EndsWith(suffix, StringComparison.Ordinal) && !m.Key.Contains("graded", StringComparison.Ordinal)).Value;
    }

    /// <summary>Keeps every vector it hands out, in call order (both modes see the same calls, so the lists align).</summary>
    private sealed class RecordingEncoder(ISparseTextEncoder inner) : ISparseTextEncoder
    {
        public List<SparseVector> Documents { get; } = new();
        public List<SparseVector> Queries { get; } = new();
        public int Dimension => inner.Dimension;

        public IReadOnlyList<SparseVector> EncodeQueries(IReadOnlyList<string> texts, CancellationToken cancellationToken = default)
        {
            var v = inner.EncodeQueries(texts, cancellationToken);
            Queries.AddRange(v);
            return v;
        }

        public IReadOnlyList<SparseVector> EncodeDocuments(IReadOnlyList<string> texts, CancellationToken cancellationToken = default)
        {
            var v = inner.EncodeDocuments(texts, cancellationToken);
            Documents.AddRange(v);
            return v;
        }
    }
}
