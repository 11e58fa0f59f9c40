namespace Splade.Search;

/// <summary>
/// Per-thread counters of the last search (a measurement aid, read through <see cref="InvertedIndex.LastPostingsTouched"/>):
/// scorers add once per posting list or block they walk, never per posting, so counting costs nothing measurable.
/// </summary>
internal static class SearchCounters
{
    /// <summary>Postings scattered from lists or blocks, plus one per posting-list probe of a candidate, since the last reset.</summary>
    [ThreadStatic] public static long Postings;
}
