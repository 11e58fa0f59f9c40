using Splade.Search.Storage;

namespace Splade.Search;

public sealed partial class InvertedIndex
{
    private Task? _backgroundMerge;

    /// <summary>The last background merge, if any (await it to observe its outcome).</summary>
    public Task? BackgroundMergeTask => _backgroundMerge;

    /// <summary>
    /// Merges committed segments until at most <paramref name="maxSegments"/> remain (the smallest
    /// first), dropping deleted documents, and commits the result. Pending (uncommitted) changes are
    /// kept pending. Writers wait while the merge runs; searches continue on the previous snapshot.
    /// </summary>
    public void Merge(int maxSegments = 1)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxSegments);
        lock (_writeLock)
        {
            ThrowIfNotWritable();
            var snapshot = _snapshot;
            int count = snapshot.Segments.Length;
            bool anyDeleted = snapshot.Deletions.Any(d => d is not null);
            if (count <= maxSegments && !(maxSegments == 1 && count == 1 && anyDeleted)) return;
            int take = Math.Max(2, count - maxSegments + 1);
            if (count == 1) take = 1;
            var chosen = Enumerable.Range(0, count).OrderBy(i => snapshot.Segments[i].DocCount - (snapshot.Deletions[i]?.Count ?? 0)).ThenBy(i => i)
                .Take(take).OrderBy(i => i).ToArray();
            MergeSegments(chosen);
        }
    }

    /// <summary>Runs <see cref="Merge"/> on a background task.</summary>
    public Task MergeInBackground(int maxSegments = 1)
    {
        lock (_writeLock)
        {
            var previous = _backgroundMerge ?? Task.CompletedTask;
            return _backgroundMerge = previous.ContinueWith(_ => Merge(maxSegments), CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
        }
    }

    private void MaybeMerge()
    {
        int max = _options.MaxSegments;
        if (max <= 0 || _snapshot.Segments.Length <= max) return;
        // Merging the smallest segments down to half the allowance keeps rewrites logarithmic in the size.
        int target = Math.Max(1, max / 2);
        if (_options.BackgroundMerge) MergeInBackground(target);
        else
        {
            // The commit is already durable: a merge that cannot write (a full disk) must not make it look failed.
            try
            {
                Merge(target);
                MergeError = null;
            }
            catch (IndexWriteException e)
            {
                MergeError = e;
            }
        }
    }

    /// <summary>Why the last automatic merge after a commit failed (it is retried after the next commit); null when it succeeded.</summary>
    public IndexWriteException? MergeError { get; private set; }

    // Caller holds _writeLock. chosen: ascending positions in the snapshot.
    private void MergeSegments(int[] chosen)
    {
        var snapshot = _snapshot;
        var inputs = chosen.Select(i => snapshot.Segments[i]).ToArray();
        var inputDeletions = chosen.Select(i => snapshot.Deletions[i]).ToArray();
        long generation = _manifest.Generation + 1;
        long nextSegment = _manifest.NextSegment;
        var data = SegmentData.Merge(inputs, inputDeletions, out int[][] remap);
        string file = $"seg_{nextSegment++:D8}.seg";
        string path = Path.Combine(_directory, file);
        if (File.Exists(path)) File.Delete(path);
        Segment? merged = null;
        uint mergedCrc = 0;
        var entries = new List<SegmentEntry>();
        var segments = new List<Segment>();
        var deletions = new List<DeletionSet?>();
        var obsolete = new List<string>();
        _io.BeginAttempt();
        try
        {
            if (data.DocCount > 0)
            {
                (_, mergedCrc) = SegmentFormat.Write(path, data, _io, _options.BlockSize);
                merged = Segment.Open(path, mergedCrc, verifyChecksum: false);
            }
            for (int i = 0; i < snapshot.Segments.Length; i++)
            {
                int pos = Array.IndexOf(chosen, i);
                if (pos < 0)
                {
                    entries.Add(_manifest.Segments[i]);
                    segments.Add(snapshot.Segments[i]);
                    deletions.Add(snapshot.Deletions[i]);
                    continue;
                }
                obsolete.Add(_manifest.Segments[i].File);
                if (_manifest.Segments[i].DeletesFile is { } df) obsolete.Add(df);
                if (pos == 0 && merged is not null)
                {
                    entries.Add(new SegmentEntry(file, merged.DocCount, merged.FileLength, mergedCrc, null, 0, 0));
                    segments.Add(merged);
                    deletions.Add(null);
                }
            }
            _io.FsyncDirectory(_directory);
            var manifest = new Manifest(generation, Dimension, nextSegment, entries);
            _io.ReplaceAtomically(Path.Combine(_directory, Manifest.FileName), manifest.Serialize());
            _manifest = manifest;
            Publish(new IndexSnapshot(Dimension, generation, segments.ToArray(), deletions.ToArray()));
        }
        catch (Exception e)
        {
            merged?.Dispose();
            if (_io.Replaced) throw;
            RemovePartialFiles([file]);
            if (e is IOException io and not IndexWriteException) throw WriteFailed(io, "the merge was abandoned, its segments are unchanged");
            throw;
        }

        // Carry id locations and uncommitted deletions over to the merged segment.
        for (int k = 0; k < inputs.Length; k++)
        {
            var input = inputs[k];
            _pendingDeletes.Remove(input, out var pending);
            for (int ord = 0; ord < input.DocCount; ord++)
            {
                int m = remap[k][ord];
                if (m < 0 || merged is null) continue;
                if (pending is not null && pending.IsDeleted(ord)) MarkDeleted(merged, m);
                else if (_liveIds is not null) _liveIds[merged.GetId(m)] = (merged, m);
            }
        }
        foreach (string f in obsolete) _io.Delete(Path.Combine(_directory, f));
    }
}
