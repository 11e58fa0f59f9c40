namespace Splade.Search;

/// <summary>One damaged or missing file found by <see cref="InvertedIndex.Check"/> or <see cref="InvertedIndex.Repair"/>.</summary>
/// <param name="File">File name inside the index folder.</param>
/// <param name="Check">The check it failed: missing, size, header, version, crc or structure.</param>
/// <param name="Message">The full error, naming the file and the expected and actual values.</param>
public sealed record IndexFileProblem(string File, string Check, string Message);

/// <summary>What <see cref="InvertedIndex.Check"/> found.</summary>
/// <param name="Directory">The index folder.</param>
/// <param name="Generation">The manifest's commit number (−1 when the manifest is unreadable).</param>
/// <param name="SegmentsChecked">Segment files verified (every byte's CRC-32C and the postings' structure).</param>
/// <param name="LiveDocuments">Live documents in the intact segments.</param>
/// <param name="Problems">Every damaged or missing file; empty when the index is healthy.</param>
public sealed record IndexCheckReport(string Directory, long Generation, int SegmentsChecked, long LiveDocuments, IReadOnlyList<IndexFileProblem> Problems)
{
    /// <summary>True when no file is damaged or missing.</summary>
    public bool Healthy => Problems.Count == 0;
}

/// <summary>A segment that <see cref="InvertedIndex.Repair"/> dropped, with what it held.</summary>
/// <param name="File">The segment file (moved into the repair's damaged-files folder when present).</param>
/// <param name="LiveDocuments">Live documents it held by the manifest's count; null when the manifest was unreadable and the file too.</param>
/// <param name="Ids">The ids it held, when they could still be read (live ones when its deletions could be read too); null when unreadable.</param>
/// <param name="Reason">Why it was dropped.</param>
public sealed record LostSegment(string File, long? LiveDocuments, IReadOnlyList<string>? Ids, string Reason);

/// <summary>What <see cref="InvertedIndex.Repair"/> did.</summary>
/// <param name="Directory">The index folder.</param>
/// <param name="Generation">The commit the repair wrote (unchanged when nothing was damaged).</param>
/// <param name="Problems">The damaged or missing files found.</param>
/// <param name="Dropped">Segments dropped because they (or their deletions) were damaged.</param>
/// <param name="SegmentsKept">Segments kept.</param>
/// <param name="LiveDocumentsKept">Live documents kept.</param>
/// <param name="ManifestRebuilt">True when the manifest was unreadable and rebuilt from the intact segment files.</param>
/// <param name="DamagedFolder">Where the damaged files and <c>lost-ids.txt</c> were moved; null when nothing was damaged.</param>
public sealed record IndexRepairReport(string Directory, long Generation, IReadOnlyList<IndexFileProblem> Problems,
    IReadOnlyList<LostSegment> Dropped, int SegmentsKept, long LiveDocumentsKept, bool ManifestRebuilt, string? DamagedFolder)
{
    /// <summary>True when nothing was damaged and nothing changed.</summary>
    public bool NothingToRepair => Problems.Count == 0;
}
