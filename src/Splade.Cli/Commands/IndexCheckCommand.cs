using Splade.Search;

namespace Splade.Cli.Commands;

/// <summary>`splade index --check DIR` and `--repair DIR`: verify every file of an index; drop what is damaged.</summary>
internal static class IndexCheckCommand
{
    /// <summary>Exit 0: healthy; 1: damage found (every damaged file and the failed check on stdout).</summary>
    public static int Check(string directory, CliContext context)
    {
        if (!Directory.Exists(directory)) throw new CliException($"index folder '{directory}' does not exist.");
        var report = InvertedIndex.Check(directory);
        var w = context.Stdout;
        string generation = report.Generation >= 0 ? $"generation {report.Generation}" : "manifest unreadable";
        w.WriteLine($"index '{directory}': {generation}, {report.SegmentsChecked} intact segments, {report.LiveDocuments} live documents");
        foreach (var p in report.Problems) w.WriteLine($"DAMAGED {p.File}: {p.Check} check failed: {p.Message}");
        if (report.Healthy)
        {
            w.WriteLine("ok: every file passed its size, header, CRC-32C and structure checks");
            return 0;
        }
        w.WriteLine($"{report.Problems.Count} damaged file(s); `splade index --repair {directory}` drops them and keeps the rest");
        return 1;
    }

    /// <summary>Exit 0 once the index is consistent again (after dropping what was damaged, saying what was lost).</summary>
    public static int Repair(string directory, CliContext context)
    {
        if (!Directory.Exists(directory)) throw new CliException($"index folder '{directory}' does not exist.");
        var report = InvertedIndex.Repair(directory);
        var w = context.Stdout;
        if (report.NothingToRepair)
        {
            w.WriteLine($"index '{directory}': nothing damaged, nothing changed ({report.SegmentsKept} segments, {report.LiveDocumentsKept} live documents)");
            return 0;
        }
        foreach (var p in report.Problems) w.WriteLine($"DAMAGED {p.File}: {p.Check} check failed: {p.Message}");
        if (report.ManifestRebuilt) w.WriteLine("the manifest was rebuilt from the intact segment files");
        foreach (var d in report.Dropped)
        {
            string count = d.LiveDocuments is long n ? $"{n} live documents" : d.Ids is { } ids ? $"{ids.Count} documents" : "an unknown number of documents";
            w.WriteLine($"LOST {d.File}: {count} ({d.Reason}){(d.Ids is null ? "; ids unreadable" : "")}");
        }
        long lost = report.Dropped.Sum(d => d.LiveDocuments ?? d.Ids?.Count ?? 0);
        w.WriteLine($"repaired '{directory}' as generation {report.Generation}: kept {report.SegmentsKept} segments with {report.LiveDocumentsKept} live documents, " +
            $"dropped {report.Dropped.Count} segments ({lost} documents)");
        w.WriteLine($"damaged files and the lost ids (lost-ids.txt) are in '{report.DamagedFolder}'; re-index those ids to restore them");
        return 0;
    }
}
