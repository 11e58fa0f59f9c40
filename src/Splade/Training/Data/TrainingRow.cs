namespace Splade.Training.Data;

/// <summary>
/// One training example: a query, its positive document and zero or more hard negatives (columns
/// query, positive, negative_1..negative_n). <see cref="Labels"/> holds teacher margins (one per negative)
/// for distillation losses.
/// </summary>
public sealed record TrainingRow(string Query, string Positive, IReadOnlyList<string> Negatives, float[]? Labels = null)
{
    /// <summary>All texts of the row in column order.</summary>
    public IEnumerable<string> Texts()
    {
        yield return Query;
        yield return Positive;
        foreach (var n in Negatives) yield return n;
    }

    /// <summary>Number of columns (query + positive + negatives).</summary>
    public int ColumnCount => 2 + Negatives.Count;
}
