using System.Globalization;
using Splade.Evaluation;
using Splade.Training.Data;

namespace Splade.Cli.Commands;

/// <summary>`splade pairs`: (pseudo-query, document) training pairs from a corpus alone (inverse cloze task).</summary>
internal sealed class PairsCommand : ICommand
{
    public string Name => "pairs";

    public string Summary => "Make training pairs from documents alone (inverse cloze task: a sentence or the title as the query).";

    public string Usage => """
        Usage: splade pairs --corpus F --output train.jsonl [options]
          --corpus F           BEIR corpus.jsonl {"_id","title","text"}
          --negatives N        random negatives per row: other documents of the corpus (default 0: {query, positive})
          --max-pairs N        at most N rows, from documents drawn at random (default: one per usable document)
          --title-prob p       probability of the title as the query when a document has one (default 0.5)
          --keep-prob p        probability of leaving the query sentence in the positive (default 0.1)
          --min-query-words N  (default 4)   --min-positive-words N (default 8)
          --window a:b         words of the query window for texts without sentence punctuation (default 6:16)
          --seed N             seed of every draw (default 42)
        Rows {query, positive[, negative_1..N]} in corpus order: the query is the title or one sentence (or a
        window of words), the positive the rest of the document (title + other sentences). A text that starts
        with its title has the title removed first. A summary goes to stderr.
        """;

    public Task<int> RunAsync(CommandArgs args, CliContext context, CancellationToken cancellationToken)
    {
        string corpusPath = args.Require("corpus");
        string output = args.Require("output");
        int negatives = args.GetInt("negatives", 0, 64) ?? 0;
        int? maxPairs = args.GetInt("max-pairs", 1);
        double titleProb = Probability(args, "title-prob", 0.5);
        double keepProb = Probability(args, "keep-prob", 0.1);
        int minQuery = args.GetInt("min-query-words", 1, 10_000) ?? 4;
        int minPositive = args.GetInt("min-positive-words", 1, 100_000) ?? 8;
        var window = ParseWindow(args.Get("window") ?? "6:16");
        int seed = args.GetInt("seed") ?? 42;
        args.ThrowOnUnused();
        if (!File.Exists(corpusPath)) throw new CliException($"--corpus '{corpusPath}': file not found.");
        List<CorpusDocument> corpus;
        try { corpus = IrDataset.ReadCorpus(corpusPath); }
        catch (InvalidDataException e) { throw new CliException(e.Message); }
        if (corpus.Count == 0) throw new CliException($"--corpus '{corpusPath}' holds no documents.");

        InverseClozeResult result;
        try
        {
            result = InverseClozePairs.Make(corpus, new InverseClozeOptions
            {
                TitleProbability = titleProb, KeepProbability = keepProb, MinQueryWords = minQuery, MinPositiveWords = minPositive,
                WindowWords = window, Negatives = negatives, MaxPairs = maxPairs, Seed = seed,
            });
        }
        catch (ArgumentException e) { throw new CliException(e.Message); }
        if (result.Rows.Count == 0) throw new CliException($"no document of '{corpusPath}' is long enough to split into a query and a positive; nothing written.", 1);
        JsonlTrainingRows.Write(output, result.Rows);
        var kinds = result.Kinds.GroupBy(k => k).OrderBy(g => g.Key).Select(g => $"{g.Count()} {g.Key.ToString().ToLowerInvariant()}");
        context.Stderr.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"pairs: wrote {result.Rows.Count} rows to {output} (queries: {string.Join(", ", kinds)}; {result.SkippedDocuments} documents too short; {negatives} random negatives per row)"));
        return Task.FromResult(0);
    }

    private static double Probability(CommandArgs args, string name, double fallback)
    {
        double p = args.GetDouble(name) ?? fallback;
        if (p is < 0 or > 1) throw new CliException($"--{name} must be in [0, 1], got {p.ToString(CultureInfo.InvariantCulture)}.");
        return p;
    }

    private static (int, int) ParseWindow(string spec)
    {
        var parts = spec.Split(':');
        if (parts.Length != 2 || !int.TryParse(parts[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out int a)
            || !int.TryParse(parts[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out int b) || a < 1 || b < a)
            throw new CliException($"--window must be a:b with 1 <= a <= b words, got '{spec}'.");
        return (a, b);
    }
}
