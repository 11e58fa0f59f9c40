namespace Splade.Evaluation;

/// <summary>
/// Per-query ranking metrics as sentence-transformers' InformationRetrievalEvaluator computes them.
/// Each takes the retrieved list (<c>ranked</c>), best first; relevance is binary unless stated.
/// </summary>
public static class IrMetrics
{
    /// <summary>1 when a relevant document is among the first k, else 0.</summary>
    public static double AccuracyAt(IReadOnlyList<string> ranked, IReadOnlySet<string> relevant, int k) =>
        Hits(ranked, relevant, k) > 0 ? 1 : 0;

    /// <summary>Relevant documents among the first k, divided by k (not by the number retrieved).</summary>
    public static double PrecisionAt(IReadOnlyList<string> ranked, IReadOnlySet<string> relevant, int k) =>
        (double)Hits(ranked, relevant, k) / k;

    /// <summary>Relevant documents among the first k, divided by the number of relevant documents.</summary>
    public static double RecallAt(IReadOnlyList<string> ranked, IReadOnlySet<string> relevant, int k) =>
        relevant.Count == 0 ? 0 : (double)Hits(ranked, relevant, k) / relevant.Count;

    /// <summary>1 / rank of the first relevant document within the first k, else 0.</summary>
    public static double MrrAt(IReadOnlyList<string> ranked, IReadOnlySet<string> relevant, int k)
    {
        for (int i = 0; i < Math.Min(k, ranked.Count); i++)
            if (relevant.Contains(ranked[i])) return 1.0 / (i + 1);
        return 0;
    }

    /// <summary>
    /// Binary nDCG@k: DCG = Σ_{i&lt;k} rel_i / log2(i + 2), rel ∈ {0, 1}; IDCG places min(|rel|, k) ones first.
    /// </summary>
    public static double NdcgAt(IReadOnlyList<string> ranked, IReadOnlySet<string> relevant, int k)
    {
        double dcg = 0;
        for (int i = 0; i < Math.Min(k, ranked.Count); i++)
            if (relevant.Contains(ranked[i])) dcg += 1 / Math.Log2(i + 2);
        double idcg = 0;
        for (int i = 0; i < Math.Min(k, relevant.Count); i++) idcg += 1 / Math.Log2(i + 2);
        return idcg == 0 ? 0 : dcg / idcg;
    }

    /// <summary>
    /// Graded nDCG@k with linear gain (gain = grade), as trec_eval's ndcg_cut and pytrec_eval (used by
    /// BEIR) compute it: DCG = Σ_{i&lt;k} grade_i / log2(i + 2), IDCG over the grades sorted descending.
    /// </summary>
    public static double GradedNdcgAt(IReadOnlyList<string> ranked, IReadOnlyDictionary<string, int> grades, int k)
    {
        double dcg = 0;
        for (int i = 0; i < Math.Min(k, ranked.Count); i++)
            if (grades.TryGetValue(ranked[i], out int g) && g > 0) dcg += g / Math.Log2(i + 2);
        var ideal = grades.Values.Where(g => g > 0).OrderByDescending(g => g).Take(k).ToArray();
        double idcg = 0;
        for (int i = 0; i < ideal.Length; i++) idcg += ideal[i] / Math.Log2(i + 2);
        return idcg == 0 ? 0 : dcg / idcg;
    }

    /// <summary>
    /// AP@k: Σ over relevant documents at rank r ≤ k of (relevant so far / r), divided by min(k, |rel|).
    /// </summary>
    public static double MapAt(IReadOnlyList<string> ranked, IReadOnlySet<string> relevant, int k)
    {
        int hits = 0;
        double sum = 0;
        for (int i = 0; i < Math.Min(k, ranked.Count); i++)
        {
            if (!relevant.Contains(ranked[i])) continue;
            hits++;
            sum += (double)hits / (i + 1);
        }
        int denominator = Math.Min(k, relevant.Count);
        return denominator == 0 ? 0 : sum / denominator;
    }

    private static int Hits(IReadOnlyList<string> ranked, IReadOnlySet<string> relevant, int k)
    {
        int hits = 0;
        for (int i = 0; i < Math.Min(k, ranked.Count); i++) if (relevant.Contains(ranked[i])) hits++;
        return hits;
    }
}
