namespace Splade.Search;

/// <summary>
/// Reciprocal rank fusion (Cormack, Clarke &amp; Büttcher, SIGIR 2009): score(d) = Σ_lists 1 / (k + rank(d)),
/// rank 1-based, k = 60 by default. Fused hits are ordered by that score, ties by id.
/// </summary>
public static class ReciprocalRankFusion
{
    /// <summary>Fuses ranked lists (each best first); the text of a hit is taken from its first appearance.</summary>
    public static IReadOnlyList<SearchHit> Fuse(IReadOnlyList<IReadOnlyList<SearchHit>> lists, int k = 60, int? topK = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        var scores = new Dictionary<string, (double Score, string? Text)>(StringComparer.Ordinal);
        foreach (var list in lists)
        {
            var seen = new HashSet<string>(StringComparer.Ordinal);
            for (int r = 0; r < list.Count; r++)
            {
                var hit = list[r];
                if (!seen.Add(hit.Id)) continue;   // a list counts a document once, at its best rank
                double add = 1.0 / (k + r + 1);
                scores[hit.Id] = scores.TryGetValue(hit.Id, out var s) ? (s.Score + add, s.Text ?? hit.Text) : (add, hit.Text);
            }
        }
        var fused = scores.OrderByDescending(p => p.Value.Score).ThenBy(p => p.Key, StringComparer.Ordinal)
            .Select(p => new SearchHit(p.Key, (float)p.Value.Score, p.Value.Text));
        return (topK is int n ? fused.Take(n) : fused).ToList();
    }

    /// <summary>Fuses two lists (the usual lexical + learned-sparse pairing).</summary>
    public static IReadOnlyList<SearchHit> Fuse(IReadOnlyList<SearchHit> first, IReadOnlyList<SearchHit> second, int k = 60, int? topK = null) =>
        Fuse([first, second], k, topK);
}
