using System.Text.RegularExpressions;
using Splade.Evaluation;

namespace Splade.Training.Data;

/// <summary>Settings of <see cref="InverseClozePairs"/>.</summary>
public sealed record InverseClozeOptions
{
    /// <summary>Probability of taking the title as the pseudo-query when the document has a title and a text.</summary>
    public double TitleProbability { get; init; } = 0.5;

    /// <summary>
    /// Probability of leaving the chosen sentence in the positive (Lee et al. 2019 keep it 10% of the time, so
    /// that the model also learns plain word overlap).
    /// </summary>
    public double KeepProbability { get; init; } = 0.1;

    /// <summary>Fewest words of a pseudo-query.</summary>
    public int MinQueryWords { get; init; } = 4;

    /// <summary>Fewest words of what is left as the positive.</summary>
    public int MinPositiveWords { get; init; } = 8;

    /// <summary>Words of the window taken as the pseudo-query from a text without sentence boundaries: [min, max].</summary>
    public (int Min, int Max) WindowWords { get; init; } = (6, 16);

    /// <summary>Random negatives per row: other documents of the corpus (0: pairs only).</summary>
    public int Negatives { get; init; }

    /// <summary>At most this many rows (documents drawn at random, seeded; null: one row per usable document).</summary>
    public int? MaxPairs { get; init; }

    /// <summary>Seed of every draw.</summary>
    public int Seed { get; init; } = 42;
}

/// <summary>What kind of pseudo-query a row has.</summary>
public enum PseudoQueryKind
{
    /// <summary>The document's title; the positive is its text.</summary>
    Title,
    /// <summary>One sentence; the positive is the title and the other sentences.</summary>
    Sentence,
    /// <summary>A window of words (texts without sentence punctuation); the positive is the title and the other words.</summary>
    Window,
}

/// <summary>The rows and what was done.</summary>
/// <param name="Rows">(pseudo-query, positive[, negatives]) rows in corpus order.</param>
/// <param name="Kinds">Kind of each row's pseudo-query.</param>
/// <param name="SkippedDocuments">Documents too short to split into a query and a positive.</param>
public sealed record InverseClozeResult(List<TrainingRow> Rows, List<PseudoQueryKind> Kinds, int SkippedDocuments);

/// <summary>
/// (pseudo-query, document) pairs from a corpus alone by the inverse cloze task (Lee, Chang &amp; Toutanova 2019,
/// "Latent Retrieval for Weakly Supervised Open Domain Question Answering"): a sentence of a document, or its
/// title, serves as the query and the rest of the document as its positive. Text that repeats the title at its
/// start (as Cranfield's does) has the title removed first, so a title query never appears verbatim in its
/// positive. Every draw comes from one generator seeded with <see cref="InverseClozeOptions.Seed"/>.
/// </summary>
public static partial class InverseClozePairs
{
    [GeneratedRegex(@"(?<=[.!?])\s+")]
    private static partial Regex SentenceEnd();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Space();

    /// <summary>Makes the rows of <paramref name="corpus"/>.</summary>
    public static InverseClozeResult Make(IReadOnlyList<CorpusDocument> corpus, InverseClozeOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(corpus);
        options ??= new InverseClozeOptions();
        if (options.TitleProbability is < 0 or > 1 || double.IsNaN(options.TitleProbability))
            throw new ArgumentOutOfRangeException(nameof(options), $"title probability must be in [0, 1], got {options.TitleProbability}.");
        if (options.KeepProbability is < 0 or > 1 || double.IsNaN(options.KeepProbability))
            throw new ArgumentOutOfRangeException(nameof(options), $"keep probability must be in [0, 1], got {options.KeepProbability}.");
        if (options.MinQueryWords < 1 || options.MinPositiveWords < 1)
            throw new ArgumentOutOfRangeException(nameof(options), "the least query and positive lengths must be at least one word.");
        if (options.WindowWords.Min < 1 || options.WindowWords.Max < options.WindowWords.Min)
            throw new ArgumentOutOfRangeException(nameof(options), $"window {options.WindowWords.Min}..{options.WindowWords.Max} is empty.");
        if (options.Negatives < 0) throw new ArgumentOutOfRangeException(nameof(options), $"negatives must be ≥ 0, got {options.Negatives}.");
        if (options.MaxPairs is < 1) throw new ArgumentOutOfRangeException(nameof(options), $"max pairs must be ≥ 1, got {options.MaxPairs}.");

        var rng = new Random(options.Seed);
        var order = Enumerable.Range(0, corpus.Count).ToArray();
        if (options.MaxPairs is not null) rng.Shuffle(order);
        var made = new List<(int Doc, string Query, string Positive, PseudoQueryKind Kind)>();
        int skipped = 0;
        foreach (int d in order)
        {
            if (options.MaxPairs is int max && made.Count >= max) break;
            if (Split(corpus[d], options, rng) is { } pair) made.Add((d, pair.Query, pair.Positive, pair.Kind));
            else skipped++;
        }
        made.Sort((a, b) => a.Doc.CompareTo(b.Doc));   // corpus order, whatever the draw order was

        int usable = corpus.Count(c => c.FullText.Trim().Length > 0);
        if (options.Negatives > 0 && usable <= options.Negatives)
            throw new ArgumentException($"{options.Negatives} negatives per row need more than {options.Negatives} non-empty documents; the corpus has {usable}.", nameof(corpus));
        var rows = new List<TrainingRow>(made.Count);
        foreach (var (doc, query, positive, _) in made)
        {
            var negatives = new List<string>(options.Negatives);
            var used = new HashSet<int> { doc };
            while (negatives.Count < options.Negatives)
            {
                int n = rng.Next(corpus.Count);
                string text = corpus[n].FullText.Trim();
                if (!used.Add(n) || text.Length == 0 || text == positive || text == query) continue;
                negatives.Add(text);
            }
            rows.Add(new TrainingRow(query, positive, negatives));
        }
        return new InverseClozeResult(rows, made.Select(m => m.Kind).ToList(), skipped);
    }

    /// <summary>One (query, positive) split of a document, or null when it is too short.</summary>
    internal static (string Query, string Positive, PseudoQueryKind Kind)? Split(CorpusDocument document, InverseClozeOptions o, Random rng)
    {
        string title = Normalize(document.Title);
        string body = Normalize(document.Text);
        if (title.Length > 0 && body.StartsWith(title, StringComparison.OrdinalIgnoreCase)) body = body[title.Length..].TrimStart(' ', '.', ':', '-');
        // Every draw is made whatever the branch, so one document's outcome does not shift the next one's draws.
        double titleDraw = rng.NextDouble(), keepDraw = rng.NextDouble();
        int pickDraw = rng.Next(int.MaxValue), lengthDraw = rng.Next(int.MaxValue);

        if (title.Length > 0 && Words(title) >= o.MinQueryWords && Words(body) >= o.MinPositiveWords && titleDraw < o.TitleProbability)
            return (title, body, PseudoQueryKind.Title);

        string prefix = title.Length > 0 ? title + " " : "";
        var sentences = SentenceEnd().Split(body).Where(s => s.Length > 0).ToArray();
        if (sentences.Length >= 2)
        {
            var candidates = Enumerable.Range(0, sentences.Length).Where(i => Words(sentences[i]) >= o.MinQueryWords).ToArray();
            if (candidates.Length == 0) return null;
            int pick = candidates[pickDraw % candidates.Length];
            bool keep = keepDraw < o.KeepProbability;
            string rest = prefix + string.Join(" ", sentences.Where((_, i) => keep || i != pick));
            if (Words(rest) - (keep ? Words(sentences[pick]) : 0) < o.MinPositiveWords) return null;
            return (sentences[pick], rest, PseudoQueryKind.Sentence);
        }

        // No sentence boundaries (e.g. NPL's unpunctuated abstracts): a window of words.
        string[] words = body.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        int minLen = Math.Max(o.MinQueryWords, o.WindowWords.Min);
        int maxLen = Math.Min(o.WindowWords.Max, words.Length - o.MinPositiveWords);
        if (maxLen < minLen) return null;
        int len = minLen + lengthDraw % (maxLen - minLen + 1);
        int start = pickDraw % (words.Length - len + 1);
        bool keepWindow = keepDraw < o.KeepProbability;
        string query = string.Join(" ", words, start, len);
        string positive = prefix + (keepWindow ? body : string.Join(" ", words.Take(start).Concat(words.Skip(start + len))));
        return (query, positive, PseudoQueryKind.Window);
    }

    private static string Normalize(string s) => Space().Replace(s, " ").Trim();

    private static int Words(string s) => s.Length == 0 ? 0 : s.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length;
}
