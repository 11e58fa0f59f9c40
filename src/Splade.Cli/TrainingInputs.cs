using Splade.Evaluation;
using Splade.Training.Data;

namespace Splade.Cli;

/// <summary>
/// The data of `splade train`: rows from JSON-lines files and/or BEIR folders (one row per judged
/// (query, relevant document) pair, random negatives), optionally holding out a fraction of each BEIR
/// folder's judged queries as the evaluation set.
/// </summary>
internal sealed class TrainingInputs
{
    public required List<TrainingRow> Rows { get; init; }

    /// <summary>The evaluation collection (from --eval or the held-out queries), or null.</summary>
    public IrDataset? Evaluation { get; init; }

    /// <summary>Name of the evaluation data for the model card and metric prefix.</summary>
    public string? EvaluationName { get; init; }

    /// <summary>One line per source: what was read.</summary>
    public required List<string> Summary { get; init; }

    /// <param name="trainSources">Paths given to --train (files: JSON lines; folders: BEIR).</param>
    /// <param name="trainSplit">qrels split of BEIR training folders (null: "train" when present, else "test").</param>
    /// <param name="holdout">Fraction of each BEIR folder's judged queries kept out of training for evaluation (0: none).</param>
    /// <param name="negatives">Random negatives per row drawn for BEIR folders.</param>
    /// <param name="seed">Seed of the query split and of the negative draw.</param>
    /// <param name="evalDir">A BEIR folder evaluated instead of the held-out queries.</param>
    /// <param name="evalSplit">qrels split of <paramref name="evalDir"/>.</param>
    public static TrainingInputs Load(IReadOnlyList<string> trainSources, string? trainSplit, double holdout, int negatives, int seed,
        string? evalDir, string evalSplit)
    {
        if (trainSources.Count == 0) throw new CliException("--train is required.");
        if (holdout is < 0 or >= 1) throw new CliException($"--holdout must be in [0, 1), got {holdout}.");
        if (holdout > 0 && evalDir is not null) throw new CliException("--holdout and --eval are exclusive: the held-out queries are the evaluation set.");
        var rows = new List<TrainingRow>();
        var summary = new List<string>();
        var heldOut = new List<(string Name, IrDataset Data)>();
        foreach (string source in trainSources)
        {
            if (File.Exists(source))
            {
                var fileRows = JsonlTrainingRows.Read(source);
                summary.Add($"{source}: {fileRows.Count} rows");
                rows.AddRange(fileRows);
            }
            else if (Directory.Exists(source))
            {
                string split = trainSplit ?? (File.Exists(Path.Combine(source, "qrels", "train.tsv")) ? "train" : "test");
                var data = IrDataset.LoadBeir(source, split);
                var judged = data.Qrels.Where(q => q.Value.Count > 0 && data.Queries.ContainsKey(q.Key)).Select(q => q.Key)
                    .Order(StringComparer.Ordinal).ToList();
                Shuffle(judged, new Random(seed));
                int trainCount = holdout > 0 ? (int)Math.Round(judged.Count * (1 - holdout)) : judged.Count;
                var trainQueries = judged.Take(trainCount).ToHashSet(StringComparer.Ordinal);
                var documents = data.Corpus.Select(d => (d.Id, d.FullText)).ToList();
                var pairs = trainQueries.Order(StringComparer.Ordinal)
                    .SelectMany(q => data.Qrels[q].Keys.Order(StringComparer.Ordinal).Select(d => (q, d)));
                var beirRows = BeirTrainingRows.Build(documents, data.Queries, pairs, negatives, seed);
                rows.AddRange(beirRows);
                string name = Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(source)));
                summary.Add($"{source} (qrels/{split}.tsv): {trainQueries.Count} of {judged.Count} judged queries, {beirRows.Count} rows"
                    + (holdout > 0 ? $", {judged.Count - trainCount} queries held out" : ""));
                if (holdout > 0)
                {
                    var evalQueries = judged.Skip(trainCount).ToHashSet(StringComparer.Ordinal);
                    heldOut.Add((name, new IrDataset(data.Corpus,
                        data.Queries.Where(q => evalQueries.Contains(q.Key)).ToDictionary(q => q.Key, q => q.Value, StringComparer.Ordinal),
                        data.Qrels.Where(q => evalQueries.Contains(q.Key)).ToDictionary(q => q.Key, q => q.Value, StringComparer.Ordinal))));
                }
            }
            else throw new CliException($"--train '{source}' is neither a JSON-lines file nor a BEIR folder.");
        }
        if (rows.Count == 0) throw new CliException("the training data holds no rows.");

        IrDataset? evaluation = null;
        string? evalName = null;
        if (evalDir is not null)
        {
            if (!Directory.Exists(evalDir)) throw new CliException($"--eval '{evalDir}' is not a folder.");
            evaluation = IrDataset.LoadBeir(evalDir, evalSplit);
            evalName = Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(evalDir)));
        }
        else if (heldOut.Count > 0)
        {
            evaluation = heldOut.Count == 1 ? heldOut[0].Data : Merge(heldOut);
            evalName = string.Join("+", heldOut.Select(h => h.Name)) + $" (held-out {holdout:0.##} of the queries)";
        }
        return new TrainingInputs { Rows = rows, Evaluation = evaluation, EvaluationName = evalName, Summary = summary };
    }

    /// <summary>One collection from several: ids prefixed with "name/" so that they stay distinct.</summary>
    private static IrDataset Merge(List<(string Name, IrDataset Data)> parts)
    {
        var corpus = new List<CorpusDocument>();
        var queries = new Dictionary<string, string>(StringComparer.Ordinal);
        var qrels = new Dictionary<string, IReadOnlyDictionary<string, int>>(StringComparer.Ordinal);
        foreach (var (name, data) in parts)
        {
            corpus.AddRange(data.Corpus.Select(d => d with { Id = $"{name}/{d.Id}" }));
            foreach (var (id, text) in data.Queries) queries[$"{name}/{id}"] = text;
            foreach (var (id, judged) in data.Qrels)
                qrels[$"{name}/{id}"] = judged.ToDictionary(j => $"{name}/{j.Key}", j => j.Value, StringComparer.Ordinal);
        }
        return new IrDataset(corpus, queries, qrels);
    }

    // Fisher–Yates with the given generator, so the split depends on the seed only.
    private static void Shuffle<T>(List<T> items, Random rng)
    {
        for (int i = items.Count - 1; i > 0; i--)
        {
            int j = rng.Next(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }
}
