using System.Text.RegularExpressions;
using Splade.Search.Storage;

namespace Splade.Search;

public sealed partial class InvertedIndex
{
    // Uncommitted changes (guarded by _writeLock).
    private readonly List<IndexedDocument?> _buffer = new();
    private readonly Dictionary<string, int> _bufferSlots = new(StringComparer.Ordinal);
    private readonly Dictionary<Segment, DeletionSet> _pendingDeletes = new();
    private Dictionary<string, (Segment Segment, int Ord)>? _liveIds;
    private int _bufferLive;

    /// <summary>Number of documents waiting for <see cref="Commit"/>.</summary>
    public int PendingCount { get { lock (_writeLock) return _bufferLive; } }

    /// <inheritdoc />
    public void Upsert(IReadOnlyList<IndexedDocument> documents, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(documents);
        lock (_writeLock)
        {
            ThrowIfNotWritable();
            var ids = LiveIds();
            foreach (var d in documents)
            {
                cancellationToken.ThrowIfCancellationRequested();
                ArgumentNullException.ThrowIfNull(d);
                if (d.Vector.Dimension != Dimension)
                    throw new ArgumentException($"Document '{d.Id}' has dimension {d.Vector.Dimension}; the index has {Dimension}.", nameof(documents));
                var doc = _options.StoreTexts || d.Text is null ? d : d with { Text = null };
                if (ids.Remove(d.Id, out var at)) MarkDeleted(at.Segment, at.Ord);
                if (_bufferSlots.TryGetValue(d.Id, out int slot)) _buffer[slot] = doc;
                else
                {
                    _bufferSlots[d.Id] = _buffer.Count;
                    _buffer.Add(doc);
                    _bufferLive++;
                }
            }
        }
    }

    /// <inheritdoc />
    public bool Delete(string id)
    {
        ArgumentNullException.ThrowIfNull(id);
        lock (_writeLock)
        {
            ThrowIfNotWritable();
            bool found = false;
            if (_bufferSlots.Remove(id, out int slot))
            {
                _buffer[slot] = null;
                _bufferLive--;
                found = true;
            }
            if (LiveIds().Remove(id, out var at))
            {
                MarkDeleted(at.Segment, at.Ord);
                found = true;
            }
            return found;
        }
    }

    /// <summary>True when <paramref name="id"/> is live: committed and not deleted since, or pending.</summary>
    public bool Contains(string id)
    {
        lock (_writeLock) return _bufferSlots.ContainsKey(id) || LiveIds().ContainsKey(id);
    }

    /// <summary>
    /// Writes the pending documents as a new segment and the new tombstones, then publishes them by
    /// replacing the manifest atomically. Until the manifest rename, the previous commit stays the
    /// readable state; files written by an interrupted commit are removed at the next open.
    /// </summary>
    public void Commit()
    {
        lock (_writeLock)
        {
            ThrowIfNotWritable();
            if (_bufferLive == 0 && _pendingDeletes.Count == 0)
            {
                _buffer.Clear();
                _bufferSlots.Clear();
                return;
            }
            var snapshot = _snapshot;
            long generation = _manifest.Generation + 1;
            long nextSegment = _manifest.NextSegment;
            var entries = new List<SegmentEntry>();
            var segments = new List<Segment>();
            var deletions = new List<DeletionSet?>();
            var obsolete = new List<string>();
            var created = new List<string>();
            _io.BeginAttempt();
            try
            {
                for (int i = 0; i < snapshot.Segments.Length; i++)
                {
                    var seg = snapshot.Segments[i];
                    var entry = _manifest.Segments[i];
                    if (!_pendingDeletes.TryGetValue(seg, out var del))
                    {
                        entries.Add(entry);
                        segments.Add(seg);
                        deletions.Add(snapshot.Deletions[i]);
                        continue;
                    }
                    if (entry.DeletesFile is not null) obsolete.Add(entry.DeletesFile);
                    if (del.Count == seg.DocCount)
                    {
                        obsolete.Add(entry.File);   // every document deleted: drop the segment
                        continue;
                    }
                    string delFile = $"{Path.GetFileNameWithoutExtension(entry.File)}.g{generation}.del";
                    byte[] bytes = del.Serialize();
                    created.Add(delFile);
                    WriteNewFile(delFile, bytes);
                    entries.Add(entry with { DeletesFile = delFile, DeletesCrc = DeletionSet.CrcOf(bytes), Deleted = del.Count });
                    segments.Add(seg);
                    deletions.Add(del.Clone());
                }

                var docs = _buffer.Where(d => d is not null).Cast<IndexedDocument>().ToList();
                Segment? added = null;
                if (docs.Count > 0)
                {
                    string file = $"seg_{nextSegment++:D8}.seg";
                    created.Add(file);
                    string path = Path.Combine(_directory, file);
                    if (File.Exists(path)) File.Delete(path);   // left by an interrupted commit
                    var (length, crc) = SegmentFormat.Write(path, SegmentData.FromDocuments(Dimension, docs), _io, _options.BlockSize);
                    entries.Add(new SegmentEntry(file, docs.Count, length, crc, null, 0, 0));
                    added = Segment.Open(path, crc, verifyChecksum: false);
                    segments.Add(added);
                    deletions.Add(null);
                }
                _io.FsyncDirectory(_directory);
                var manifest = new Manifest(generation, Dimension, nextSegment, entries);
                _io.ReplaceAtomically(Path.Combine(_directory, Manifest.FileName), manifest.Serialize());

                // Committed: publish in memory.
                _manifest = manifest;
                Publish(new IndexSnapshot(Dimension, generation, segments.ToArray(), deletions.ToArray()));
                if (added is not null && _liveIds is not null)
                    for (int ord = 0; ord < added.DocCount; ord++) _liveIds[added.GetId(ord)] = (added, ord);
                _buffer.Clear();
                _bufferSlots.Clear();
                _bufferLive = 0;
                _pendingDeletes.Clear();
            }
            catch (Exception e)
            {
                foreach (var s in segments) if (!snapshot.Segments.Contains(s)) s.Dispose();
                if (_io.Replaced) throw;   // the new manifest is on disk: its files must stay
                RemovePartialFiles(created);
                if (e is IOException io and not IndexWriteException) throw WriteFailed(io, $"{_bufferLive} pending documents and the pending deletions are kept");
                throw;
            }
            foreach (string f in obsolete) _io.Delete(Path.Combine(_directory, f));
        }
        MaybeMerge();
    }

    /// <summary>Removes the files a failed commit or merge wrote (frees the space; never referenced by the manifest).</summary>
    private void RemovePartialFiles(IEnumerable<string> fileNames)
    {
        foreach (string f in fileNames.Append(Manifest.FileName + ".tmp"))
        {
            try { File.Delete(Path.Combine(_directory, f)); }
            catch (IOException) { /* removed at the next open */ }
            catch (UnauthorizedAccessException) { }
        }
    }

    /// <summary>The typed error of a failed write: names the file, says what is still committed and what is kept.</summary>
    private IndexWriteException WriteFailed(IOException e, string kept)
    {
        string path = _io.CurrentPath ?? _directory;
        string cause = IndexWriteException.IsDiskFull(e) ? "the disk is full" : "an I/O error";
        return new IndexWriteException(path, _manifest.Generation,
            $"Index '{_directory}': could not write '{path}' ({cause}: {e.Message}). The index still holds commit {_manifest.Generation} " +
            $"unchanged and nothing committed was lost; {kept}. Free space and commit again.", e);
    }

    private void WriteNewFile(string fileName, byte[] bytes)
    {
        string path = Path.Combine(_directory, fileName);
        using var fs = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None);
        _io.WriteChunked(fs, bytes, fileName);
        _io.Fsync(fs, fileName);
    }

    /// <summary>Swaps the searchable snapshot; segments no longer referenced are kept mapped until disposal (searches may hold them).</summary>
    private void Publish(IndexSnapshot next)
    {
        var previous = _snapshot;
        _snapshot = next;
        foreach (var s in previous.Segments) if (!next.Segments.Contains(s)) _retired.Add(s);
    }

    private void MarkDeleted(Segment segment, int ord)
    {
        if (!_pendingDeletes.TryGetValue(segment, out var del))
        {
            int i = Array.IndexOf(_snapshot.Segments, segment);
            del = _snapshot.Deletions[i]?.Clone() ?? new DeletionSet(segment.DocCount);
            _pendingDeletes[segment] = del;
        }
        del.Add(ord);
    }

    /// <summary>Committed live ids, minus pending deletions (built on first write).</summary>
    private Dictionary<string, (Segment Segment, int Ord)> LiveIds()
    {
        if (_liveIds is not null) return _liveIds;
        var snapshot = _snapshot;
        var map = new Dictionary<string, (Segment, int)>((int)Math.Min(snapshot.LiveCount, int.MaxValue), StringComparer.Ordinal);
        for (int s = 0; s < snapshot.Segments.Length; s++)
        {
            var seg = snapshot.Segments[s];
            for (int ord = 0; ord < seg.DocCount; ord++)
                if (snapshot.IsLive(s, ord) && !(_pendingDeletes.TryGetValue(seg, out var d) && d.IsDeleted(ord)))
                    map[seg.GetId(ord)] = (seg, ord);
        }
        return _liveIds = map;
    }

    private void ThrowIfNotWritable()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_options.ReadOnly) throw new InvalidOperationException($"Index '{_directory}' was opened read-only.");
    }

    private static readonly Regex OwnFile = new(@"^(seg_\d+\.seg|seg_\d+\.g\d+\.del|MANIFEST\.tmp)$", RegexOptions.CultureInvariant);

    /// <summary>Deletes files an interrupted commit or merge left behind (not named by the manifest).</summary>
    private void RemoveOrphans()
    {
        var referenced = new HashSet<string>(StringComparer.Ordinal);
        foreach (var e in _manifest.Segments)
        {
            referenced.Add(e.File);
            if (e.DeletesFile is not null) referenced.Add(e.DeletesFile);
        }
        foreach (string path in System.IO.Directory.EnumerateFiles(_directory))
        {
            string name = Path.GetFileName(path);
            if (OwnFile.IsMatch(name) && !referenced.Contains(name)) _io.Delete(path);
        }
    }
}
