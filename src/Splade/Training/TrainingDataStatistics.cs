using Splade.Training.Data;

namespace Splade.Training;

/// <summary>Token statistics per column over the first rows, and a few sample rows, for the model card.</summary>
public sealed record TrainingDataStatistics(int Rows, IReadOnlyList<string> Columns, IReadOnlyList<(int Min, double Mean, int Max)> TokensPerColumn,
    int RowsMeasured, IReadOnlyList<TrainingRow> Samples)
{
    public static TrainingDataStatistics Compute(IReadOnlyList<TrainingRow> rows, Func<string, int[]> tokenize, int measureRows = 1000, int samples = 3)
    {
        int columns = rows.Count == 0 ? 0 : rows[0].ColumnCount;
        var names = new List<string> { "query", "positive" };
        if (columns == 3) names.Add("negative");
        else for (int i = 1; i <= columns - 2; i++) names.Add($"negative_{i}");
        var measured = rows.Take(measureRows).ToList();
        var stats = new List<(int, double, int)>();
        for (int c = 0; c < columns; c++)
        {
            var lengths = measured.Select(r => tokenize(r.Texts().ElementAt(c)).Length).ToList();
            stats.Add(lengths.Count == 0 ? (0, 0, 0) : (lengths.Min(), lengths.Average(), lengths.Max()));
        }
        return new TrainingDataStatistics(rows.Count, names, stats, measured.Count, rows.Take(samples).ToList());
    }
}
