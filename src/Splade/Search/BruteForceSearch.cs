using Splade.Sparse;

namespace Splade.Search;

/// <summary>
/// The reference twin of every index search: the dot product of the query with each document
/// (<see cref="SparseVector.Dot"/>), documents with a positive score ranked by score descending,
/// ties by id ascending (ordinal).
/// </summary>
public static class BruteForceSearch
{
    /// <summary>Exact top-k over <paramref name="documents"/>.</summary>
    public static IReadOnlyList<SearchHit> Search(IEnumerable<IndexedDocument> documents, SparseVector query, int topK)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentOutOfRangeException.ThrowIfNegative(topK);
        var hits = new List<SearchHit>();
        foreach (var d in documents)
        {
            float score = query.Dot(d.Vector);
            if (score > 0f) hits.Add(new SearchHit(d.Id, score, d.Text));
        }
        hits.Sort(CompareHits);
        if (hits.Count > topK) hits.RemoveRange(topK, hits.Count - topK);
        return hits;
    }

    /// <summary>The ranking order of hits: score descending, then id ascending (ordinal).</summary>
    public static int CompareHits(SearchHit a, SearchHit b)
    {
        int c = b.Score.CompareTo(a.Score);
        return c != 0 ? c : string.CompareOrdinal(a.Id, b.Id);
    }
}

/// <summary>
/// An in-memory <see cref="ISparseIndex"/> that scores every document (<see cref="BruteForceSearch"/>):
/// the twin the embedded index is tested against, and a store for tiny collections.
/// </summary>
public sealed class BruteForceSparseIndex : ISparseIndex
{
    private readonly Dictionary<string, IndexedDocument> _pending = new(StringComparer.Ordinal);
    private readonly HashSet<string> _pendingDeletes = new(StringComparer.Ordinal);
    private Dictionary<string, IndexedDocument> _committed = new(StringComparer.Ordinal);
    private readonly object _lock = new();

    /// <inheritdoc />
    public long Count { get { lock (_lock) return _committed.Count; } }

    /// <inheritdoc />
    public void Upsert(IReadOnlyList<IndexedDocument> documents, CancellationToken cancellationToken = default)
    {
        lock (_lock)
            foreach (var d in documents) { _pendingDeletes.Remove(d.Id); _pending[d.Id] = d; }
    }

    /// <inheritdoc />
    public bool Delete(string id)
    {
        lock (_lock)
        {
            bool existed = _pending.Remove(id) | (_committed.ContainsKey(id) && !_pendingDeletes.Contains(id));
            if (_committed.ContainsKey(id)) _pendingDeletes.Add(id);
            return existed;
        }
    }

    /// <inheritdoc />
    public void Commit()
    {
        lock (_lock)
        {
            var next = new Dictionary<string, IndexedDocument>(_committed, StringComparer.Ordinal);
            foreach (string id in _pendingDeletes) next.Remove(id);
            foreach (var (id, d) in _pending) next[id] = d;
            _pending.Clear();
            _pendingDeletes.Clear();
            _committed = next;
        }
    }

    /// <inheritdoc />
    public IReadOnlyList<SearchHit> Search(SparseVector query, int topK, CancellationToken cancellationToken = default)
    {
        Dictionary<string, IndexedDocument> docs;
        lock (_lock) docs = _committed;
        return BruteForceSearch.Search(docs.Values, query, topK);
    }

    /// <inheritdoc />
    public void Dispose() { }
}
