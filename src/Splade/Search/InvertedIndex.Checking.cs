using System.Globalization;
using System.Text.RegularExpressions;
using Splade.Search.Storage;

namespace Splade.Search;

public sealed partial class InvertedIndex
{
    private static readonly Regex SegmentFile = new(@"^seg_(\d+)\.seg$", RegexOptions.CultureInvariant);
    private static readonly Regex DeletesFile = new(@"^seg_(\d+)\.g(\d+)\.del$", RegexOptions.CultureInvariant);

    /// <summary>
    /// Verifies the manifest and every file it names: lengths, headers, the CRC-32C of every byte and
    /// the structure of the postings. Takes no lock (safe beside a writer: a commit that replaces files
    /// during the check is detected and the check repeated). When the manifest itself is unreadable, the
    /// segment files in the folder are verified on their own.
    /// </summary>
    public static IndexCheckReport Check(string directory)
    {
        ArgumentNullException.ThrowIfNull(directory);
        for (int attempt = 0; ; attempt++)
        {
            var report = CheckOnce(directory);
            // A writer may have committed (and removed obsolete files) between reading the manifest and its files.
            if (report.Healthy || attempt == 2 || report.Generation < 0 || !GenerationChanged(directory, report.Generation)) return report;
        }
    }

    private static bool GenerationChanged(string directory, long generation)
    {
        try { return Manifest.Read(directory).Generation != generation; }
        catch (InvalidDataException) { return false; }
        catch (IOException) { return false; }
    }

    private static IndexCheckReport CheckOnce(string directory)
    {
        var problems = new List<IndexFileProblem>();
        Manifest manifest;
        try
        {
            manifest = Manifest.Read(directory);
        }
        catch (InvalidDataException e)
        {
            problems.Add(Problem(directory, Manifest.FileName, e));
            int ok = 0;
            foreach (var (name, _) in SegmentFilesOnDisk(directory))
            {
                try { using var s = Segment.Open(Path.Combine(directory, name), null, verifyChecksum: true); ok++; }
                catch (InvalidDataException se) { problems.Add(Problem(directory, name, se)); }
            }
            return new IndexCheckReport(directory, -1, ok, 0, problems);
        }
        long live = 0;
        int checkedSegments = 0;
        foreach (var e in manifest.Segments)
        {
            var (seg, deletions, problem) = OpenEntry(directory, manifest, e);
            if (problem is not null) { problems.Add(problem); continue; }
            checkedSegments++;
            live += seg!.DocCount - (deletions?.Count ?? 0);
            seg.Dispose();
        }
        return new IndexCheckReport(directory, manifest.Generation, checkedSegments, live, problems);
    }

    /// <summary>Opens and fully verifies one manifest entry; a damaged file comes back as a problem instead.</summary>
    private static (Segment? Segment, DeletionSet? Deletions, IndexFileProblem? Problem) OpenEntry(string directory, Manifest manifest, SegmentEntry e)
    {
        Segment? seg = null;
        try
        {
            seg = OpenSegment(directory, e, verifyChecksum: true);
            if (seg.DocCount != e.Docs || seg.Dimension != manifest.Dimension)
                throw IndexCorruption.Create(seg.Path, "structure", $"Index segment '{seg.Path}' holds {seg.DocCount} docs of dimension {seg.Dimension}; the manifest says {e.Docs} of {manifest.Dimension}.");
        }
        catch (InvalidDataException ex)
        {
            seg?.Dispose();
            return (null, null, Problem(directory, e.File, ex));
        }
        if (e.DeletesFile is null) return (seg, null, null);
        try
        {
            var del = DeletionSet.Read(Path.Combine(directory, e.DeletesFile), seg.DocCount, e.DeletesCrc);
            if (del.Count != e.Deleted)
                throw IndexCorruption.Create(Path.Combine(directory, e.DeletesFile), "structure", $"Deletion file '{Path.Combine(directory, e.DeletesFile)}' marks {del.Count} documents; the manifest says {e.Deleted}.");
            return (seg, del, null);
        }
        catch (InvalidDataException ex)
        {
            var problem = Problem(directory, e.DeletesFile, ex);
            return (seg, null, problem);   // the segment is intact: the caller may still read its ids
        }
    }

    private static IndexFileProblem Problem(string directory, string fileName, Exception e) =>
        new(Path.GetFileName(IndexCorruption.FileOf(e) ?? Path.Combine(directory, fileName)), IndexCorruption.CheckOf(e) ?? "structure", e.Message);

    private static IEnumerable<(string Name, long Number)> SegmentFilesOnDisk(string directory) =>
        System.IO.Directory.EnumerateFiles(directory)
            .Select(Path.GetFileName)
            .Select(n => (Name: n!, Match: SegmentFile.Match(n!)))
            .Where(x => x.Match.Success)
            .Select(x => (x.Name, long.Parse(x.Match.Groups[1].Value, CultureInfo.InvariantCulture)))
            .OrderBy(x => x.Item2);

    /// <summary>
    /// Drops what is damaged and keeps the rest: every segment whose file (or deletion file) fails a
    /// check is removed from a new manifest, its files are moved into <c>damaged-gN/</c> beside a
    /// <c>lost-ids.txt</c> listing the ids it held where they can still be read, and the new manifest is
    /// written atomically. A segment whose deletion file is damaged is dropped whole: serving it would
    /// bring deleted documents back. An unreadable manifest is rebuilt from the intact segment files and
    /// the newest intact deletion file of each (an id found in several segments is kept in the newest).
    /// Needs the write lock: refused while another process has the index open for writing.
    /// </summary>
    /// <exception cref="IOException">Another process holds the index open for writing.</exception>
    /// <exception cref="InvalidDataException">The manifest is unreadable and no intact segment is left to rebuild it from.</exception>
    public static IndexRepairReport Repair(string directory)
    {
        ArgumentNullException.ThrowIfNull(directory);
        if (!System.IO.Directory.Exists(directory)) throw new DirectoryNotFoundException($"Index folder '{directory}' does not exist.");
        using var lockFile = AcquireLock(directory);
        Manifest? manifest = null;
        IndexFileProblem? manifestProblem = null;
        try { manifest = Manifest.Read(directory); }
        catch (InvalidDataException e) { manifestProblem = Problem(directory, Manifest.FileName, e); }
        return manifest is not null ? RepairEntries(directory, manifest) : Rebuild(directory, manifestProblem!);
    }

    private static IndexRepairReport RepairEntries(string directory, Manifest manifest)
    {
        var problems = new List<IndexFileProblem>();
        var kept = new List<SegmentEntry>();
        var dropped = new List<LostSegment>();
        var damagedFiles = new List<string>();
        long live = 0;
        foreach (var e in manifest.Segments)
        {
            var (seg, del, problem) = OpenEntry(directory, manifest, e);
            if (problem is null)
            {
                kept.Add(e);
                live += seg!.DocCount - (del?.Count ?? 0);
                seg.Dispose();
                continue;
            }
            problems.Add(problem);
            damagedFiles.Add(problem.File);
            IReadOnlyList<string>? ids;
            string reason;
            if (seg is not null)
            {
                // Only the deletion file is damaged: every id of the intact segment is known, deleted ones included.
                ids = Enumerable.Range(0, seg.DocCount).Select(seg.GetId).ToList();
                reason = $"its deletion file {problem.File} failed the {problem.Check} check (ids listed include documents deleted earlier)";
                damagedFiles.Add(e.File);
                seg.Dispose();
            }
            else
            {
                ids = TryReadIds(Path.Combine(directory, e.File), e.DeletesFile is null ? null : Path.Combine(directory, e.DeletesFile));
                reason = $"{problem.File} failed the {problem.Check} check";
                if (e.DeletesFile is not null) damagedFiles.Add(e.DeletesFile);
            }
            dropped.Add(new LostSegment(e.File, e.Docs - e.Deleted, ids, reason));
        }
        if (problems.Count == 0)
            return new IndexRepairReport(directory, manifest.Generation, problems, dropped, kept.Count, live, false, null);
        long generation = manifest.Generation + 1;
        string damaged = MoveAside(directory, generation, damagedFiles, dropped);
        var next = new Manifest(generation, manifest.Dimension, manifest.NextSegment, kept);
        new DurableIo(null).ReplaceAtomically(Path.Combine(directory, Manifest.FileName), next.Serialize());
        return new IndexRepairReport(directory, generation, problems, dropped, kept.Count, live, false, damaged);
    }

    private static IndexRepairReport Rebuild(string directory, IndexFileProblem manifestProblem)
    {
        var problems = new List<IndexFileProblem> { manifestProblem };
        var dropped = new List<LostSegment>();
        var damagedFiles = new List<string> { Manifest.FileName };
        var deletesOnDisk = System.IO.Directory.EnumerateFiles(directory).Select(Path.GetFileName)
            .Select(n => DeletesFile.Match(n!)).Where(m => m.Success)
            .GroupBy(m => long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture))
            .ToDictionary(g => g.Key, g => g.OrderByDescending(m => long.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture)).First().Value);
        long maxGeneration = System.IO.Directory.EnumerateFiles(directory).Select(Path.GetFileName)
            .Select(n => DeletesFile.Match(n!)).Where(m => m.Success)
            .Select(m => long.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture)).DefaultIfEmpty(0).Max();
        var intact = new List<(string Name, long Number, Segment Segment, DeletionSet Deletions)>();
        int dimension = 0;
        long nextSegment = 1;
        try
        {
            foreach (var (name, number) in SegmentFilesOnDisk(directory))
            {
                nextSegment = Math.Max(nextSegment, number + 1);
                string path = Path.Combine(directory, name);
                Segment? seg = null;
                try
                {
                    seg = Segment.Open(path, null, verifyChecksum: true);
                    if (dimension == 0) dimension = seg.Dimension;
                    if (seg.Dimension != dimension)
                        throw IndexCorruption.Create(path, "structure", $"Index segment '{path}' has dimension {seg.Dimension}; the other segments {dimension}.");
                }
                catch (InvalidDataException e)
                {
                    seg?.Dispose();
                    var p = Problem(directory, name, e);
                    problems.Add(p);
                    damagedFiles.Add(name);
                    deletesOnDisk.TryGetValue(number, out string? delName);
                    if (delName is not null) damagedFiles.Add(delName);
                    dropped.Add(new LostSegment(name, null, TryReadIds(path, delName is null ? null : Path.Combine(directory, delName)), $"{name} failed the {p.Check} check"));
                    continue;
                }
                var deletions = new DeletionSet(seg.DocCount);
                if (deletesOnDisk.TryGetValue(number, out string? del))
                {
                    try { deletions = DeletionSet.Read(Path.Combine(directory, del), seg.DocCount, null); }
                    catch (InvalidDataException e)
                    {
                        var p = Problem(directory, del, e);
                        problems.Add(p);
                        damagedFiles.Add(del);
                        damagedFiles.Add(name);
                        dropped.Add(new LostSegment(name, null, Enumerable.Range(0, seg.DocCount).Select(seg.GetId).ToList(),
                            $"its newest deletion file {del} failed the {p.Check} check (ids listed include documents deleted earlier)"));
                        seg.Dispose();
                        continue;
                    }
                }
                intact.Add((name, number, seg, deletions));
            }
            if (intact.Count == 0)
                throw IndexCorruption.Create(Path.Combine(directory, Manifest.FileName), manifestProblem.Check,
                    $"Cannot repair '{directory}': the manifest is unreadable ({manifestProblem.Message}) and no intact segment file is left to rebuild it from.");

            // Newest segment wins an id (an upsert writes the new copy into a later segment).
            long generation = maxGeneration + 1;
            var seen = new HashSet<string>(StringComparer.Ordinal);
            var entries = new SegmentEntry[intact.Count];
            long live = 0;
            var io = new DurableIo(null);
            for (int i = intact.Count - 1; i >= 0; i--)
            {
                var (name, number, seg, deletions) = intact[i];
                bool changed = false;
                for (int ord = 0; ord < seg.DocCount; ord++)
                {
                    if (deletions.IsDeleted(ord)) continue;
                    if (!seen.Add(seg.GetId(ord))) changed |= deletions.Add(ord);
                }
                string? delFile = null;
                uint delCrc = 0;
                if (deletions.Count > 0)
                {
                    deletesOnDisk.TryGetValue(number, out delFile);
                    byte[] bytes = deletions.Serialize();
                    if (changed || delFile is null)
                    {
                        delFile = $"seg_{number:D8}.g{generation}.del";
                        using var fs = new FileStream(Path.Combine(directory, delFile), FileMode.Create, FileAccess.Write, FileShare.None);
                        io.WriteChunked(fs, bytes, delFile);
                        io.Fsync(fs, delFile);
                    }
                    delCrc = DeletionSet.CrcOf(bytes);
                }
                entries[i] = new SegmentEntry(name, seg.DocCount, seg.FileLength, seg.StoredCrc, delFile, delCrc, deletions.Count);
                live += seg.DocCount - deletions.Count;
            }
            string damaged = MoveAside(directory, generation, damagedFiles, dropped);
            io.FsyncDirectory(directory);
            var manifest = new Manifest(generation, dimension, nextSegment, entries);
            io.ReplaceAtomically(Path.Combine(directory, Manifest.FileName), manifest.Serialize());
            return new IndexRepairReport(directory, generation, problems, dropped, entries.Length, live, true, damaged);
        }
        finally
        {
            foreach (var x in intact) x.Segment.Dispose();
        }
    }

    /// <summary>Best effort: the ids a damaged segment still yields (live ones when its deletions read), or null.</summary>
    private static List<string>? TryReadIds(string segmentPath, string? deletesPath)
    {
        try
        {
            using var seg = Segment.Open(segmentPath, null, verifyChecksum: false);
            DeletionSet? del = null;
            if (deletesPath is not null)
            {
                try { del = DeletionSet.Read(deletesPath, seg.DocCount, null); }
                catch (InvalidDataException) { }
            }
            return Enumerable.Range(0, seg.DocCount).Where(o => del is null || !del.IsDeleted(o)).Select(seg.GetId).ToList();
        }
        catch (Exception e) when (e is InvalidDataException or IOException or ArgumentException)
        {
            return null;
        }
    }

    /// <summary>Moves damaged files into <c>damaged-gN/</c> (kept, not deleted) and writes the lost ids there.</summary>
    private static string MoveAside(string directory, long generation, IEnumerable<string> files, IReadOnlyList<LostSegment> dropped)
    {
        string folder = Path.Combine(directory, $"damaged-g{generation}");
        System.IO.Directory.CreateDirectory(folder);
        foreach (string f in files.Distinct(StringComparer.Ordinal))
        {
            string from = Path.Combine(directory, f);
            if (File.Exists(from)) File.Move(from, Path.Combine(folder, f), overwrite: true);
        }
        using (var w = new StreamWriter(Path.Combine(folder, "lost-ids.txt")))
            foreach (var d in dropped)
            {
                w.WriteLine($"# {d.File}: {d.LiveDocuments?.ToString(CultureInfo.InvariantCulture) ?? "unknown number of"} live documents; {d.Reason}" +
                    (d.Ids is null ? "; ids unreadable" : ""));
                if (d.Ids is not null) foreach (string id in d.Ids) w.WriteLine(id);
            }
        return folder;
    }
}
